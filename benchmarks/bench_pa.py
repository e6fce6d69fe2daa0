"""Population annealing (and AIS) on the 288-unit Chimera Boltzmann machine: wall time and log Z.

For biases ``b ~ U[-1, 1]`` and couplings ``W ~ U[-s, s]`` on ``chimera(6)`` (``s`` = 1
and 2 by default, the range of a trained prior's couplings), with 1000 replicas:

* ``qhvae.evaluate.log_partition(b, (g.edges, w), method="pa", num_replicas=1000,
  seed=seed, graph=g, num_sweeps=K)`` for several ``K`` (sweeps per temperature step,
  adaptive schedule);
* the same with ``method="ais"`` (annealed importance sampling, 1000 linear steps);
* the sampler path ``qhvae.get_sampler("pa", graph=g).sample_bm(bm, 1000, seed=seed)``
  (its defaults: 4 sweeps, ESS target 0.9);

each over several seeds. The table gives the median wall time, the mean of log Z, the
spread of log Z over the seeds (sample standard deviation) and the median of the
reported error bar, and their ratio: a ratio near 1 means the error bar is honest
(with 5 seeds the spread itself is uncertain by about +-35%). Unless ``--no-reference``,
one long PA run (10x the replicas, 16 sweeps) gives a reference value, and each
setting's mean is compared with it in units of its standard error over seeds.

Usage::

    python benchmarks/bench_pa.py            # ~1-2 min
    python benchmarks/bench_pa.py --quick    # smoke run, a few seconds
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np

from _common import (
    OtherLoad, benchmark_graph, machine_info, median, print_header, random_bm_arrays, spread, timed, write_json,
)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="smoke run: 200 replicas, 2 seeds, one scale, short AIS")
    p.add_argument("--replicas", type=int, default=1000, help="replicas of PA / AIS")
    p.add_argument("--seeds", type=int, default=5, help="seeds per setting (the spread is taken over these)")
    p.add_argument("--sweeps", default="1,4,16", help="comma-separated PA sweeps per temperature step")
    p.add_argument("--ais-sweeps", default="1", help="comma-separated AIS sweeps per step ('' to skip AIS)")
    p.add_argument("--ais-steps", type=int, default=None, help="AIS linear steps (default: log_partition's 1000)")
    p.add_argument("--scales", default="1,2", help="comma-separated coupling scales s (W ~ U[-s, s])")
    p.add_argument("--model-seed", type=int, default=0, help="seed of the random biases and couplings")
    p.add_argument("--no-sampler", action="store_true", help="skip the get_sampler('pa').sample_bm path")
    p.add_argument("--no-reference", action="store_true", help="skip the long reference PA run")
    p.add_argument("--threads", type=int, default=None, help="numba threads (default: numba's default)")
    p.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = p.parse_args(argv)
    if args.quick:
        args.replicas = min(args.replicas, 200)
        args.seeds = min(args.seeds, 2)
        args.sweeps = "1,4"
        args.scales = args.scales.split(",")[0]
        args.ais_steps = args.ais_steps or 50
        args.no_reference = True
    return args


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def run_setting(label: str, fn, seeds: list[int]) -> dict:
    """Call ``fn(seed) -> (value, stderr, num_steps, stderr_method)`` for every seed, timed."""
    walls, values, errs, steps = [], [], [], []
    method = ""
    for seed in seeds:
        t, (value, err, nsteps, method) = timed(lambda: fn(seed))
        walls.append(t)
        values.append(value)
        errs.append(err)
        steps.append(nsteps)
    values_arr = np.array(values)
    sd = float(values_arr.std(ddof=1)) if len(values) > 1 else math.nan
    return {
        "label": label,
        "wall_median_s": median(walls),
        "wall_range_s": spread(walls),
        "log_z_mean": float(values_arr.mean()),
        "log_z_spread": sd,
        "stderr_median": median(errs),
        "spread_over_stderr": sd / median(errs) if median(errs) > 0 else math.inf,
        "num_steps": (int(min(steps)), int(max(steps))),
        "stderr_method": method,
        "values": values,
        "stderrs": errs,
        "walls": walls,
    }


def bench_scale(scale: float, args, console) -> dict:
    import qhvae
    from qhvae.evaluate import log_partition

    g = benchmark_graph("chimera")
    b, w = random_bm_arrays(g, args.model_seed, 1.0, scale)
    bm = qhvae.BoltzmannMachine.from_arrays(b, (g.edges, w))
    R = args.replicas
    seeds = list(range(args.seeds))
    # Warm up (numba compile or cache load) outside the timed runs.
    log_partition(b, (g.edges, w), method="pa", num_replicas=50, seed=999, graph=g, num_sweeps=1)

    def via_log_partition(method: str, sweeps: int):
        extra = {}
        if method == "ais" and args.ais_steps:
            extra["betas"] = np.linspace(0.0, 1.0, args.ais_steps + 1)[1:]

        def fn(seed):
            r = log_partition(b, (g.edges, w), method=method, num_replicas=R, seed=seed, graph=g,
                              num_sweeps=sweeps, **extra)
            return r.value, r.stderr, r.info["num_steps"], r.info["log_z_stderr_method"]
        return fn

    rows = []
    for k in _ints(args.sweeps):
        console.print(f"  s={scale:g}: PA, {k} sweeps/step ...")
        rows.append(run_setting(f"pa, K={k}", via_log_partition("pa", k), seeds))
    for k in _ints(args.ais_sweeps):
        console.print(f"  s={scale:g}: AIS, {k} sweeps/step ...")
        rows.append(run_setting(f"ais, K={k}", via_log_partition("ais", k), seeds))
    if not args.no_sampler:
        console.print(f"  s={scale:g}: get_sampler('pa').sample_bm ...")
        sampler = qhvae.get_sampler("pa", graph=g)

        def via_sampler(seed):
            info = sampler.sample_bm(bm, R, seed=seed).info
            return info["log_z"], info["log_z_stderr"], info["num_steps"], info["log_z_stderr_method"]
        k = getattr(sampler, "defaults", {}).get("num_sweeps", "?")
        rows.append(run_setting(f"sampler pa (K={k})", via_sampler, seeds))

    reference = None
    if not args.no_reference:
        console.print(f"  s={scale:g}: reference PA, {10 * R} replicas, 16 sweeps ...")
        t, r = timed(lambda: log_partition(b, (g.edges, w), method="pa", num_replicas=10 * R, seed=10_000,
                                           graph=g, num_sweeps=16))
        reference = {"value": r.value, "stderr": r.stderr, "wall_s": t, "num_steps": r.info["num_steps"],
                     "replicas": 10 * R}
        for row in rows:
            sem = row["log_z_spread"] / math.sqrt(len(seeds))
            row["offset_from_reference"] = row["log_z_mean"] - r.value
            row["offset_in_sem"] = (row["log_z_mean"] - r.value) / math.hypot(sem, r.stderr)
    return {"scale": scale, "max_abs_w": float(np.abs(w).max()), "rows": rows, "reference": reference}


def main(argv=None) -> int:
    args = parse_args(argv)
    import numba
    from rich.console import Console
    from rich.table import Table

    if args.threads is not None:
        numba.set_num_threads(args.threads)
    console = Console(width=150)
    info = machine_info()
    settings = {
        "graph": "chimera(6)", "replicas": args.replicas, "seeds": args.seeds, "PA sweeps": args.sweeps,
        "AIS sweeps": args.ais_sweeps or "-", "AIS steps": args.ais_steps or 1000, "coupling scales": args.scales,
        "b ~ U[-1,1]": True, "model seed": args.model_seed, "quick": args.quick,
    }
    load = OtherLoad()
    print_header(console, "population annealing / AIS on the 288-unit Chimera BM", info, settings)

    results = []
    for scale in (float(x) for x in args.scales.split(",") if x.strip()):
        results.append(bench_scale(scale, args, console))

    for res in results:
        ref = res["reference"]
        s = res["scale"]
        title = f"W ~ U[-{s:g}, {s:g}] (max |W| {res['max_abs_w']:.2f}), {args.replicas} replicas, {args.seeds} seeds"
        if ref:
            title += (f"; reference log Z {ref['value']:.4f} +- {ref['stderr']:.4f} "
                      f"({ref['replicas']} replicas, {ref['wall_s']:.1f} s)")
        table = Table(title=title)
        cols = ["setting", "steps", "wall s", "wall range", "log Z mean", "spread (sd)", "stderr (med)",
                "spread/stderr"]
        if ref:
            cols.append("(mean-ref)/se")
        for col in cols:
            table.add_column(col, justify="right")
        for row in res["rows"]:
            lo, hi = row["num_steps"]
            wlo, whi = row["wall_range_s"]
            cells = [
                row["label"], f"{lo}" if lo == hi else f"{lo}-{hi}", f"{row['wall_median_s']:.2f}",
                f"{wlo:.2f}-{whi:.2f}", f"{row['log_z_mean']:.4f}", f"{row['log_z_spread']:.4f}",
                f"{row['stderr_median']:.4f}", f"{row['spread_over_stderr']:.2f}",
            ]
            if ref:
                cells.append(f"{row['offset_in_sem']:+.1f}")
            table.add_row(*cells)
        console.print(table)
    methods = sorted({row["stderr_method"] for res in results for row in res["rows"]})
    console.print("K: block-Gibbs sweeps per temperature step; ais: 1000 linear steps (or --ais-steps); sampler pa: "
                  "get_sampler('pa', graph=g).sample_bm(bm, R, seed=s) with its defaults. wall s: median over seeds. "
                  "spread (sd): standard deviation of log Z over the seeds; stderr (med): median reported error bar; "
                  "(mean-ref)/se: offset of the mean from the reference in units of sqrt(sd^2/seeds + ref_stderr^2).")
    console.print(f"error bar method(s): {', '.join(methods)}. spread/stderr near 1: honest error bar; "
                  f"with {args.seeds} seeds the spread is itself uncertain by about "
                  f"+-{100 / math.sqrt(2 * max(1, args.seeds - 1)):.0f}%.")
    info_end = machine_info(measure_busy=False)
    info_end["busy_by_others_during_run"] = load_frac = load.fraction()
    if load_frac is not None:
        others, steal = load_frac
        msg = (f"CPU taken by other processes during the run: {100 * others:.0f}% of the machine "
               f"(of which hypervisor steal {100 * steal:.0f}%)")
        console.print(f"[bold yellow]{msg}: timings are low and noisy, run again[/]" if others > 0.1 else msg)
    console.print(f"load average (1 min) at the end: {info_end['loadavg_1m']}   "
                  f"numba threading layer: {info_end['numba_threading_layer']}")
    if args.json:
        write_json(args.json, {"machine": info, "machine_end": info_end, "settings": vars(args), "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
