"""Population annealing (and AIS) on the 288-unit Chimera Boltzmann machine: wall time and log Z.

For biases ``b ~ U[-1, 1]`` and couplings ``W ~ U[-s, s]`` on ``chimera(6)`` (``s`` = 1
and 2 by default, the range of a trained prior's couplings), with 1000 replicas:

* ``qhvae.evaluate.log_partition(b, (g.edges, w), method="pa", num_replicas=1000,
  seed=seed, graph=g, num_sweeps=K)`` for several ``K`` (sweeps per temperature step,
  adaptive schedule);
* the same with ``method="ais"`` (annealed importance sampling, 1000 linear steps);
* the sampler path ``qhvae.get_sampler("pa", graph=g).sample_bm(bm, 1000, seed=seed)``
  (its defaults: 4 sweeps, ESS target 0.9);

each over several seeds. First, the cost of one sampler call (issue #11): milliseconds
per 1000-replica ``get_sampler("pa", graph=g).sample_bm(bm, 1000, seed=i)`` call, wall
and CPU time, median over interleaved repeats, side by side with the implementation
before issue #11 (kept below as ``OldPopulationAnnealingSampler``, a reference copy
that is not part of the package) and the ratio. Then the table gives the median wall time, the mean of log Z, the
spread of log Z over the seeds (sample standard deviation) and the median of the
reported error bar, and their ratio: a ratio near 1 means the error bar is honest
(with 5 seeds the spread itself is uncertain by about +-35%). Unless ``--no-reference``,
one long PA run (10x the replicas, 16 sweeps) gives a reference value, and each
setting's mean is compared with it in units of its standard error over seeds.

Usage::

    python benchmarks/bench_pa.py            # ~1-2 min
    python benchmarks/bench_pa.py --quick    # smoke run, a few seconds
    python benchmarks/bench_pa.py --calls-only --call-repeats 31   # only the per-call timing
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np
from scipy.special import logsumexp

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
    p.add_argument("--call-repeats", type=int, default=21, help="timed sampler calls per implementation")
    p.add_argument("--calls-only", action="store_true", help="only time the sampler call (new vs old), no tables")
    p.add_argument("--no-old", action="store_true", help="skip the pre-#11 reference implementation")
    p.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = p.parse_args(argv)
    if args.quick:
        args.replicas = min(args.replicas, 200)
        args.seeds = min(args.seeds, 2)
        args.sweeps = "1,4"
        args.scales = args.scales.split(",")[0]
        args.ais_steps = args.ais_steps or 50
        args.no_reference = True
        args.call_repeats = min(args.call_repeats, 3)
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


# ------------------------------------------------------------ the implementation before issue #11
# A reference copy of qhvae.samplers.pa.anneal as it was before issue #11 (2026-12-02), to
# time the new one against in the same process. Not part of the package.


def _old_ess_fraction(log_w: np.ndarray) -> float:
    w = np.exp(log_w - log_w.max())
    return float(w.sum() ** 2 / (w.size * (w * w).sum()))


def _old_next_beta(energy: np.ndarray, pops: list[np.ndarray], beta: float, ess_target: float) -> float:
    def worst(db: float) -> float:
        return min(_old_ess_fraction(-db * energy[p]) for p in pops)

    hi = 1.0 - beta
    if worst(hi) >= ess_target:
        return 1.0
    lo = 0.0
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if worst(mid) >= ess_target else (lo, mid)
    return beta + max(lo, 1e-6)


def _old_systematic(log_w: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    p = np.exp(log_w - log_w.max())
    cdf = np.cumsum(p / p.sum())
    cdf[-1] = 1.0
    positions = (rng.random() + np.arange(log_w.size)) / log_w.size
    return np.searchsorted(cdf, positions)


def old_anneal(bm, num_replicas, seed, *, colors, num_sweeps=4, ess_target=0.9, num_populations=1):
    """Population annealing before issue #11 (adaptive schedule, resampling; the PA path only)."""
    from qhvae.samplers._kernels import energies, seed_streams
    from qhvae.samplers.gibbs import ChainRunner

    n = bm.num_variables
    init_seed, stream_seed, resample_seed = seed.spawn(3)
    rng = np.random.default_rng(resample_seed)
    streams = seed_streams(stream_seed, num_replicas)
    z = np.random.default_rng(init_seed).integers(0, 2, (n, num_replicas), np.uint8)
    runner = ChainRunner(bm, colors)
    pops = np.array_split(np.arange(num_replicas), num_populations)
    log_z = np.full(num_populations, n * np.log(2.0))
    energy = energies(z, bm.linear, bm.edges, bm.weights)
    beta, step, min_ess, variance_terms = 0.0, 0, 1.0, 0.0
    while beta < 1.0:
        new_beta = min(_old_next_beta(energy, pops, beta, ess_target), 1.0)
        log_w = -(new_beta - beta) * energy
        for m, p in enumerate(pops):
            inc = logsumexp(log_w[p]) - np.log(p.size)
            log_z[m] += inc
            w = np.exp(log_w[p] - inc)
            variance_terms += float(np.var(w) / p.size) / num_populations
            min_ess = min(min_ess, _old_ess_fraction(log_w[p]))
        index = np.concatenate([p[_old_systematic(log_w[p], rng)] for p in pops])
        z = np.ascontiguousarray(z[:, index])
        beta = new_beta
        runner.sweep(z, streams, num_sweeps, beta)
        energy = energies(z, bm.linear, bm.edges, bm.weights)
        step += 1
    sizes = np.array([p.size for p in pops], dtype=np.float64)
    total = float(logsumexp(log_z, b=sizes / sizes.sum()))
    stderr = float(np.std(np.exp(log_z - total), ddof=1) / np.sqrt(num_populations)) if num_populations > 1 \
        else float(np.sqrt(variance_terms))
    info = {"log_z": total - bm.offset, "log_z_stderr": stderr, "num_steps": step, "min_ess_fraction": min_ess}
    return np.ascontiguousarray(z.T), info


def old_sampler(graph):
    """``get_sampler("pa", graph=graph)`` with the pre-#11 ``anneal``: the same public call path."""
    from qhvae.samplers.base import SampleResult
    from qhvae.samplers.gibbs import coloring_for
    from qhvae.samplers.pa import PopulationAnnealingSampler

    class OldPopulationAnnealingSampler(PopulationAnnealingSampler):
        def _sample(self, bm, num_samples, seed, **params):
            pops = int(np.clip(num_samples // 125, 1, 8)) if self.num_populations is None else self.num_populations
            samples, info = old_anneal(bm, num_samples, seed, colors=coloring_for(bm, self.graph, self._colorings),
                                       num_populations=pops, **{**self.defaults, **params})
            return SampleResult(samples, info)

    return OldPopulationAnnealingSampler(graph=graph)


def time_sampler_calls(scale: float, args, console) -> dict:
    """ms per ``sample_bm(bm, R, seed=i)`` call of the new and (unless ``--no-old``) the old sampler, interleaved."""
    import qhvae

    g = benchmark_graph("chimera")
    b, w = random_bm_arrays(g, args.model_seed, 1.0, scale)
    bm = qhvae.BoltzmannMachine.from_arrays(b, (g.edges, w))
    samplers = {"new": qhvae.get_sampler("pa", graph=g)}
    if not args.no_old:
        samplers["old"] = old_sampler(g)
    for sampler in samplers.values():  # warm up: numba compile or cache load
        sampler.sample_bm(bm, args.replicas, seed=12_345)
    walls = {k: [] for k in samplers}
    cpus = {k: [] for k in samplers}
    log_z = {k: [] for k in samplers}
    steps = {k: [] for k in samplers}
    for rep in range(args.call_repeats):
        for name, sampler in samplers.items():  # interleaved, so that both see the same load
            c0, t0 = time.process_time(), time.perf_counter()
            info = sampler.sample_bm(bm, args.replicas, seed=rep).info
            walls[name].append(time.perf_counter() - t0)
            cpus[name].append(time.process_time() - c0)
            log_z[name].append(info["log_z"])
            steps[name].append(info["num_steps"])
    out = {"scale": scale, "replicas": args.replicas, "repeats": args.call_repeats}
    for name in samplers:
        values = np.array(log_z[name])
        out[name] = {
            "wall_ms_median": 1e3 * median(walls[name]), "wall_ms_range": [1e3 * x for x in spread(walls[name])],
            "cpu_ms_median": 1e3 * median(cpus[name]), "log_z_mean": float(values.mean()),
            "log_z_spread": float(values.std(ddof=1)) if values.size > 1 else math.nan,
            "num_steps": (int(min(steps[name])), int(max(steps[name]))), "walls_s": walls[name],
        }
    line = (f"  s={scale:g}: new: {out['new']['wall_ms_median']:.1f} ms per {args.replicas}-replica sampler call "
            f"(median of {args.call_repeats}; range {out['new']['wall_ms_range'][0]:.1f}-"
            f"{out['new']['wall_ms_range'][1]:.1f}; CPU {out['new']['cpu_ms_median']:.1f} ms)")
    if "old" in out:
        ratios = np.array(walls["old"]) / np.array(walls["new"])
        out["ratio_median"] = float(np.median(ratios))
        line += (f"; old: {out['old']['wall_ms_median']:.1f} ms (CPU {out['old']['cpu_ms_median']:.1f} ms); "
                 f"old/new {out['ratio_median']:.1f}x")
    console.print(line)
    for name in samplers:
        lo, hi = out[name]["num_steps"]
        console.print(f"      {name}: log Z {out[name]['log_z_mean']:.4f} "
                      f"(sd over seeds {out[name]['log_z_spread']:.4f}), steps {lo if lo == hi else f'{lo}-{hi}'}")
    return out


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

    scales = [float(x) for x in args.scales.split(",") if x.strip()]
    console.print(f"sampler call timing (get_sampler('pa', graph=chimera(6)).sample_bm, {args.replicas} replicas, "
                  f"defaults; new vs pre-#11 implementation, interleaved):")
    calls = [time_sampler_calls(scale, args, console) for scale in scales]
    results = []
    if not args.calls_only:
        for scale in scales:
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
    if results:
        methods = sorted({row["stderr_method"] for res in results for row in res["rows"]})
        console.print("K: block-Gibbs sweeps per temperature step; ais: 1000 linear steps (or --ais-steps); "
                      "sampler pa: get_sampler('pa', graph=g).sample_bm(bm, R, seed=s) with its defaults. "
                      "wall s: median over seeds. spread (sd): standard deviation of log Z over the seeds; "
                      "stderr (med): median reported error bar; (mean-ref)/se: offset of the mean from the "
                      "reference in units of sqrt(sd^2/seeds + ref_stderr^2).")
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
        write_json(args.json, {"machine": info, "machine_end": info_end, "settings": vars(args), "calls": calls,
                               "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
