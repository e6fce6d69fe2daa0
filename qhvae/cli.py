"""The ``qhvae`` command line.

Subcommands:
    samplers    list registered samplers (name, package, description, status)
    demo        sample a random Boltzmann machine on a hardware graph with several
                samplers, estimate log Z, and write a comparison plot
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

__all__ = ["main", "build_parser"]

console = Console()
err_console = Console(stderr=True)


def _cmd_samplers(args: argparse.Namespace) -> int:
    from .registry import list_samplers

    table = Table(title="qhvae samplers")
    for col in ("name", "package", "description", "status"):
        table.add_column(col)
    for row in list_samplers():
        status = "[green]ok[/green]" if row.status == "ok" else f"[red]{row.status}[/red]"
        table.add_row(row.name, row.origin, row.description, status)
    console.print(table)
    return 0


def _parse_params(items: Sequence[str]) -> dict:
    """``key=value`` pairs; values parsed as int, float, bool or left as strings."""
    params = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"sampler option {item!r} must look like key=value")
        key, raw = item.split("=", 1)
        value: object = raw
        for cast in (int, float):
            try:
                value = cast(raw)
                break
            except ValueError:
                continue
        if raw.lower() in ("true", "false"):
            value = raw.lower() == "true"
        params[key] = value
    return params


def _cmd_demo(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import topology
    from .evaluate import log_partition
    from .registry import get_sampler
    from .samplers import BoltzmannMachine

    graph = topology.by_name(args.graph)
    rng = np.random.default_rng(args.seed)
    b = rng.uniform(-args.scale, args.scale, graph.num_nodes)
    w = rng.uniform(-args.scale, args.scale, graph.num_edges)
    bm = BoltzmannMachine.from_arrays(b, (graph.edges, w))
    names = list(dict.fromkeys(args.samplers))
    config = _parse_params(args.option)
    console.print(f"[bold]{graph}[/bold], b and W uniform in [-{args.scale}, {args.scale}], seed {args.seed}")

    results = {}
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("sampling", total=len(names) + 1)
        for name in names:
            progress.update(task, description=f"sampling with {name}")
            sampler = get_sampler(name, **(config if name == names[0] else {}))
            if getattr(sampler, "graph", "absent") is None:
                sampler.graph = graph
            start = time.perf_counter()
            samples = sampler.sample_bm(bm, args.num_reads, seed=args.seed).samples
            results[name] = (samples, time.perf_counter() - start)
            progress.advance(task)
        progress.update(task, description="estimating log Z")
        lz = log_partition(bm, seed=args.seed, graph=graph, num_replicas=max(args.num_reads, 1000))
        progress.advance(task)

    table = Table(title=f"{args.num_reads} samples each")
    for col in ("sampler", "mean energy", "mean z", "seconds"):
        table.add_column(col, justify="right")
    for name, (samples, seconds) in results.items():
        e = bm.energies(samples)
        table.add_row(name, f"{e.mean():.3f} ± {e.std() / np.sqrt(e.size):.3f}", f"{samples.mean():.4f}",
                      f"{seconds:.3f}")
    console.print(table)
    console.print(f"log Z = {lz.value:.4f} ± {lz.stderr:.4f} ({lz.method})")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fig, (ax_e, ax_m) = plt.subplots(1, 2, figsize=(11, 4.2))
    reference = names[0]
    ref_means = results[reference][0].mean(axis=0)
    for name, (samples, _) in results.items():
        ax_e.hist(bm.energies(samples), bins=50, histtype="step", density=True, label=name)
        if name != reference:
            ax_m.scatter(ref_means, samples.mean(axis=0), s=6, label=name)
    ax_e.set_xlabel("energy E(z)")
    ax_e.set_ylabel("density")
    ax_e.set_title(f"Energy of samples, {graph.name}")
    ax_e.legend()
    ax_m.plot([0, 1], [0, 1], color="grey", lw=0.8)
    ax_m.set_xlabel(f"<z_i> from {reference}")
    ax_m.set_ylabel("<z_i> from the other samplers")
    ax_m.set_title(f"Unit means; log Z = {lz.value:.2f} ± {lz.stderr:.2f} ({lz.method})")
    if len(results) > 1:
        ax_m.legend()
    fig.tight_layout()
    path = out / "demo.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    console.print(f"wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``qhvae`` argument parser."""
    from .topology import GRAPH_FAMILIES

    parser = argparse.ArgumentParser(prog="qhvae", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("samplers", help="list registered samplers and broken plugins")
    p.set_defaults(func=_cmd_samplers)

    p = sub.add_parser("demo", help="sample a random Boltzmann machine and compare samplers")
    p.add_argument("--graph", default="chimera", choices=sorted(GRAPH_FAMILIES))
    p.add_argument("--samplers", nargs="+", default=["pa", "gibbs", "sa"], metavar="NAME",
                   help="samplers to compare; the first is the reference of the means plot")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="configuration for the first sampler (repeatable)")
    p.add_argument("--num-reads", type=int, default=1000)
    p.add_argument("--scale", type=float, default=1.0, help="b and W uniform in [-scale, scale]")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="qhvae-demo", help="folder for demo.png")
    p.set_defaults(func=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``qhvae`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except (ValueError, KeyError, TypeError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        err_console.print(f"[red]error:[/red] {message}")
        return 2
    except Exception as exc:  # SamplerError and friends: say what failed, not a traceback
        err_console.print(f"[red]error:[/red] {type(exc).__name__}: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
