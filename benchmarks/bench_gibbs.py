"""Block-Gibbs throughput against dwave-samplers' simulated annealing at a fixed beta.

Measures spin updates per second (chains x sweeps x units / wall time) on three
288-unit graphs with 1000 chains, in one process, alternating the two samplers
repetition by repetition so that both see the same machine noise:

* ours: ``qhvae.get_sampler("gibbs", graph=g, num_sweeps=K, burn_in=0)`` and
  ``sample_arrays(b, (g.edges, w), 1000, seed=i)`` (after one warm-up call), i.e. the
  public path with its per-call overhead (validation, CSR, streams, output copy);
* the competitor: ``dwave.samplers.SimulatedAnnealingSampler`` with
  ``beta_range=(1, 1)``, ``beta_schedule_type='linear'``, ``num_reads=1000``, i.e.
  single-spin Metropolis at beta = 1 in C++ (single-threaded), on a BQM built once;
* the lower level, unless ``--no-kernel``: ``ChainRunner.sweep`` (the numba kernel
  ``anneal_sweeps`` with no per-call overhead) with all numba threads and with one
  thread, and SA's own ``sampling_ns`` (its C++ loop without pre/post-processing),
  so the per-core ratio can be read off.

The issue's target is Gibbs on the Chimera graph at >= 3x SA's rate.

Usage::

    python benchmarks/bench_gibbs.py            # ~1-2 min: 5 repetitions of ~1 s runs
    python benchmarks/bench_gibbs.py --quick    # smoke run, a few seconds
    python benchmarks/bench_gibbs.py --conditions 10   # conditional vs unconditional call (~10 s)
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np

from _common import (
    OtherLoad,
    benchmark_graph,
    machine_info,
    median,
    print_header,
    random_bm_arrays,
    spread,
    timed,
    write_json,
)

TARGETS = {"chimera": 3.0}  # issue target: ours / SA on Chimera


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="smoke run: 2 repetitions of ~0.1 s runs")
    p.add_argument("--graphs", default="chimera,pegasus,rbm", help="comma-separated subset of chimera,pegasus,rbm")
    p.add_argument("--chains", type=int, default=1000, help="chains (Gibbs) = num_reads (SA)")
    p.add_argument("--reps", type=int, default=5, help="timed repetitions per sampler (median reported)")
    p.add_argument("--seconds", type=float, default=1.0, help="target wall time of one timed run")
    p.add_argument("--seed", type=int, default=0, help="seed of the random biases and couplings")
    p.add_argument("--coupling-scale", type=float, default=1.0, help="b, W ~ U[-s, s]")
    p.add_argument("--threads", type=int, default=None, help="numba threads (default: numba's default)")
    p.add_argument("--no-kernel", action="store_true", help="skip the lower-level kernel timings")
    p.add_argument("--json", default=None, help="also write the results to this JSON file")
    p.add_argument("--conditions", type=int, default=0, metavar="K",
                   help="instead: a conditional call (K distinct bias vectors and clamps, one call; given per chain "
                        "and per condition) against the unconditional call of the same size, on Chimera-288 "
                        "(issue #23's target: <= 1.3x)")
    args = p.parse_args(argv)
    if args.quick:
        args.reps = min(args.reps, 2)
        args.seconds = min(args.seconds, 0.1)
    return args


def sweeps_for(rate: float, seconds: float, chains: int, units: int) -> int:
    """Sweeps that take about ``seconds`` at ``rate`` updates/s."""
    return max(1, int(round(seconds * rate / (chains * units))))


def _mean_and_se(energies) -> tuple[float, float]:
    e = np.asarray(energies, dtype=np.float64)
    return float(e.mean()), float(e.std(ddof=1) / math.sqrt(e.size))


def bench_graph(name: str, args) -> dict:
    import dimod
    import numba
    from dwave.samplers import SimulatedAnnealingSampler

    import qhvae
    from qhvae.samplers._kernels import seed_streams
    from qhvae.samplers.gibbs import ChainRunner
    from qhvae.samplers.machine import BoltzmannMachine

    g = benchmark_graph(name)
    n, L = args.chains, g.num_nodes
    b, w = random_bm_arrays(g, args.seed, args.coupling_scale, args.coupling_scale)
    bm = BoltzmannMachine.from_arrays(b, (g.edges, w))
    bqm = dimod.BinaryQuadraticModel.from_numpy_vectors(b, (g.edges[:, 0], g.edges[:, 1], w), 0.0, dimod.BINARY)
    sa = SimulatedAnnealingSampler()
    sa_kwargs = dict(num_reads=n, beta_range=(1, 1), beta_schedule_type="linear")

    # Calibrate the sweep counts so that one run takes about args.seconds.
    t, _ = timed(lambda: sa.sample(bqm, num_sweeps=20, seed=12345, **sa_kwargs))
    sa_sweeps = sweeps_for(n * 20 * L / t, args.seconds, n, L)
    probe = qhvae.get_sampler("gibbs", graph=g, num_sweeps=5, burn_in=0)
    probe.sample_arrays(b, (g.edges, w), n, seed=0)  # numba compile (or cache load)
    t, _ = timed(lambda: probe.sample_arrays(b, (g.edges, w), n, seed=1, num_sweeps=20))
    gibbs_sweeps = sweeps_for(n * 20 * L / t, args.seconds, n, L)

    sampler = qhvae.get_sampler("gibbs", graph=g, num_sweeps=gibbs_sweeps, burn_in=0)
    sampler.sample_arrays(b, (g.edges, w), n, seed=10_000)  # warm-up at the timed size

    runner = ChainRunner(bm, g.colors)
    z = np.ascontiguousarray(np.random.default_rng(1).integers(0, 2, (L, n), np.uint8))
    streams = seed_streams(np.random.SeedSequence(2), n)
    threads = numba.get_num_threads()
    one_thread_sweeps = max(1, gibbs_sweeps // max(1, threads))

    res = {k: [] for k in ("sa", "sa_core", "gibbs", "kernel", "kernel_1t")}
    sa_energy = gibbs_energy = (math.nan, math.nan)
    for rep in range(args.reps):
        t, ss = timed(lambda: sa.sample(bqm, num_sweeps=sa_sweeps, seed=rep, **sa_kwargs))
        res["sa"].append(n * sa_sweeps * L / t)
        res["sa_core"].append(n * sa_sweeps * L / (ss.info["timing"]["sampling_ns"] * 1e-9))
        sa_energy = _mean_and_se(ss.record.energy)
        t, samples = timed(lambda: sampler.sample_arrays(b, (g.edges, w), n, seed=rep))
        res["gibbs"].append(n * gibbs_sweeps * L / t)
        gibbs_energy = _mean_and_se(bm.energies(samples))
        if not args.no_kernel:
            t, _ = timed(lambda: runner.sweep(z, streams, gibbs_sweeps))
            res["kernel"].append(n * gibbs_sweeps * L / t)
            numba.set_num_threads(1)
            try:
                t, _ = timed(lambda: runner.sweep(z, streams, one_thread_sweeps))
            finally:
                numba.set_num_threads(threads)
            res["kernel_1t"].append(n * one_thread_sweeps * L / t)

    ratios = [gi / s for gi, s in zip(res["gibbs"], res["sa"], strict=True)]
    out = {
        "graph": g.name,
        "key": name,
        "units": L,
        "edges": g.num_edges,
        "colors": g.num_colors,
        "chains": n,
        "sa_sweeps": sa_sweeps,
        "gibbs_sweeps": gibbs_sweeps,
        "sa_rate": median(res["sa"]),
        "gibbs_rate": median(res["gibbs"]),
        "ratio": median(res["gibbs"]) / median(res["sa"]),
        "ratio_range": spread(ratios),
        "sa_mean_energy": sa_energy[0],
        "gibbs_mean_energy": gibbs_energy[0],
        "energy_diff_in_se": (gibbs_energy[0] - sa_energy[0]) / math.hypot(gibbs_energy[1], sa_energy[1]),
        "raw": res,
    }
    if not args.no_kernel:
        kernel = median(res["kernel"])
        out.update(
            kernel_rate=kernel,
            kernel_1t_rate=median(res["kernel_1t"]),
            sa_core_rate=median(res["sa_core"]),
            per_core_ratio=median(res["kernel_1t"]) / median(res["sa_core"]),
            public_over_kernel=median(res["gibbs"]) / kernel,
            one_thread_sweeps=one_thread_sweeps,
        )
    return out


def bench_conditions(args) -> dict:
    """One Gibbs call of ``args.chains`` chains with ``args.conditions`` distinct conditions (each its own
    bias vector, the first unit clamped to a value that alternates; chains interleaved, ``id = chain % K``)
    against the unconditional call, same sampler settings, alternating call by call; persistent chains in
    all. The conditions given two ways: per chain (``(N, L)`` biases, mask and values with
    ``condition_ids``: the target's call) and per condition (``(K, L)`` rows indexed by ``condition_ids``)."""
    import qhvae

    g = benchmark_graph("chimera")
    n, L, k = args.chains, g.num_nodes, args.conditions
    b, w = random_bm_arrays(g, args.seed, args.coupling_scale, args.coupling_scale)
    rng = np.random.default_rng(args.seed + 1)
    ids = np.arange(n) % k
    table = b + rng.normal(0.0, 0.5, (k, L))
    table_mask = np.zeros((k, L), bool)
    table_mask[:, 0] = True
    table_values = (np.arange(k) % 2).astype(np.uint8)[:, None] * np.ones((1, L), np.uint8)
    biases, mask, values = table[ids], table_mask[ids], table_values[ids]
    samplers = {name: qhvae.get_sampler("gibbs", graph=g, num_sweeps=10, burn_in=0)
                for name in ("plain", "per_chain", "per_condition")}
    calls = {
        "plain": lambda seed: samplers["plain"].sample_arrays(b, (g.edges, w), n, seed=seed),
        "per_chain": lambda seed: samplers["per_chain"].sample_arrays(
            b, (g.edges, w), n, seed=seed, biases=biases, clamp_mask=mask, clamp_values=values, condition_ids=ids),
        "per_condition": lambda seed: samplers["per_condition"].sample_arrays(
            b, (g.edges, w), n, seed=seed, condition_biases=table, condition_clamp_mask=table_mask,
            condition_clamp_values=table_values, condition_ids=ids),
    }
    for seed in range(3):  # compile, start the chains
        for call in calls.values():
            call(seed)
    times = {name: [] for name in calls}
    reps = max(args.reps, 5) * 10
    for rep in range(reps):
        for name, call in calls.items():
            t, samples = timed(lambda: call(100 + rep))
            times[name].append(t)
            if name != "plain":
                assert (samples[:, 0] == ids % 2).all()
    out = {"graph": g.name, "chains": n, "conditions": k, "sweeps": 10, "plain_ms": 1e3 * median(times["plain"]),
           "raw": times}
    for name in ("per_chain", "per_condition"):
        ratios = [c / p for c, p in zip(times[name], times["plain"], strict=True)]
        out[name] = {"ms": 1e3 * median(times[name]), "ratio": median(ratios), "ratio_range": spread(ratios)}
    out["ratio"], out["ratio_range"], out["conditional_ms"] = (out["per_chain"]["ratio"],
                                                              out["per_chain"]["ratio_range"], out["per_chain"]["ms"])
    return out


def fmt_rate(x: float) -> str:
    return f"{x:.3g}"


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
        "chains": args.chains, "reps": args.reps, "seconds/run": args.seconds,
        "b,W ~ U[-s,s], s": args.coupling_scale, "seed": args.seed, "quick": args.quick,
    }
    load = OtherLoad()
    print_header(console, "block Gibbs vs dwave-samplers SA at beta = 1 (spin updates / s)", info, settings)

    if args.conditions:
        r = bench_conditions(args)
        table = Table(title=f"one Gibbs call, {r['chains']} chains x {r['sweeps']} sweeps on {r['graph']}: "
                            f"{r['conditions']} conditions vs none (median of {len(r['raw']['plain'])} alternating "
                            "calls)")
        for col in ("conditions given", "unconditional ms", "conditional ms", "conditional/unconditional", "range",
                    "target"):
            table.add_column(col, justify="right")
        for name, label in (("per_chain", "per chain (N, L) + ids"), ("per_condition", "per condition (K, L) + ids")):
            lo, hi = r[name]["ratio_range"]
            verdict = "<= 1.3x " + ("[green]met[/]" if r[name]["ratio"] <= 1.3 else "[red]MISSED[/]")
            table.add_row(label, f"{r['plain_ms']:.2f}", f"{r[name]['ms']:.2f}", f"{r[name]['ratio']:.2f}",
                          f"{lo:.2f}-{hi:.2f}", verdict)
        console.print(table)
        load_frac = load.fraction()
        if load_frac is not None:
            console.print(f"CPU taken by other processes during the run: {100 * load_frac[0]:.0f}% of the machine")
        if args.json:
            write_json(args.json, {"machine": info, "settings": vars(args), "results": r})
        return 0

    names = [x.strip() for x in args.graphs.split(",") if x.strip()]
    results = []
    for name in names:
        console.print(f"running {name} ...")
        results.append(bench_graph(name, args))

    threads = numba.get_num_threads()
    table = Table(title=f"public path, median of {args.reps} (ours: sample_arrays, {threads} numba threads; "
                        "SA: sample(), 1 thread)")
    for col in ("graph", "L", "edges", "colours", "SA sweeps", "SA upd/s", "Gibbs sweeps", "Gibbs upd/s",
                "ours/SA", "ours/SA range", "target"):
        table.add_column(col, justify="right")
    for r in results:
        target = TARGETS.get(r["key"])
        verdict = "-"
        if target is not None:
            verdict = f">= {target:g}x " + ("[green]met[/]" if r["ratio"] >= target else "[red]MISSED[/]")
        lo, hi = r["ratio_range"]
        table.add_row(
            r["graph"], str(r["units"]), str(r["edges"]), str(r["colors"]), str(r["sa_sweeps"]),
            fmt_rate(r["sa_rate"]), str(r["gibbs_sweeps"]), fmt_rate(r["gibbs_rate"]),
            f"{r['ratio']:.2f}", f"{lo:.2f}-{hi:.2f}", verdict,
        )
    console.print(table)

    if not args.no_kernel:
        table = Table(title="lower level, median: kernel = ChainRunner.sweep (no per-call overhead); "
                            "SA core = its C++ sampling_ns only")
        for col in ("graph", f"kernel upd/s ({numba.get_num_threads()} thr)", "kernel upd/s (1 thr)",
                    "SA core upd/s", "per-core ours/SA", "public/kernel", "<E> Gibbs", "<E> SA", "diff/se"):
            table.add_column(col, justify="right")
        for r in results:
            table.add_row(
                r["graph"], fmt_rate(r["kernel_rate"]), fmt_rate(r["kernel_1t_rate"]), fmt_rate(r["sa_core_rate"]),
                f"{r['per_core_ratio']:.2f}", f"{r['public_over_kernel']:.2f}",
                f"{r['gibbs_mean_energy']:.2f}", f"{r['sa_mean_energy']:.2f}", f"{r['energy_diff_in_se']:+.1f}",
            )
        console.print(table)
        console.print(
            "<E>: mean energy of the last run's samples; both sample the Boltzmann distribution at beta = 1, so "
            "diff/se (the difference over its standard error) should be within about +-2 (a sanity check)."
        )
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
        write_json(args.json, {"machine": info, "machine_end": info_end, "settings": vars(args),
                               "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
