"""Wall time of 1000 samples of a 288-unit Chimera BM: openjij-sqa vs qhvae's gibbs.

Run: ``python plugins/qhvae-openjij/benchmarks/bench_chimera.py [num_samples]``.
The model has ``b, W ~ U(-1, 1)`` on ``qhvae.topology.chimera(6)``. Gibbs is persistent:
its first call includes numba compilation and ``burn_in`` sweeps, later calls run
``num_sweeps`` sweeps, so both are reported. Mean energies are printed as a sanity check
(all samplers target the same distribution).
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

import qhvae


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main(num_samples: int = 1000) -> None:
    graph = qhvae.topology.chimera(6)
    rng = np.random.default_rng(0)
    bm = qhvae.BoltzmannMachine.from_arrays(
        rng.uniform(-1, 1, graph.num_nodes), (graph.edges, rng.uniform(-1, 1, graph.num_edges)))
    print(f"{graph.name}: {bm.num_variables} units, {bm.num_edges} couplings; {num_samples} samples; "
          f"{os.cpu_count()} CPUs")

    gibbs = qhvae.get_sampler("gibbs", graph=graph)
    for label in ("gibbs, first call (numba JIT + burn-in)", "gibbs, next call", "gibbs, next call"):
        dt, res = timed(lambda: gibbs.sample_bm(bm, num_samples, seed=1))
        print(f"  {label:48s} {dt:8.3f} s   <E> = {bm.energies(res.samples).mean():8.3f}")

    for config in ({}, {"trotter": 4}, {"anneal_sweeps": 0}):
        sqa = qhvae.get_sampler("openjij-sqa", **config)
        dt, res = timed(lambda: sqa.sample_bm(bm, num_samples, seed=1))
        name = "openjij-sqa " + (", ".join(f"{k}={v}" for k, v in config.items()) or "(defaults)")
        print(f"  {name:48s} {dt:8.3f} s   <E> = {bm.energies(res.samples).mean():8.3f}"
              f"   (raw SQA <E> before the finish: {res.info.get('sqa_mean_energy', float('nan')):.3f})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
