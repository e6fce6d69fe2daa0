"""The fast population-annealing path (issue #11): its kernel and bookkeeping.

The statistical tests of the PA sampler and of its log Z (tests/test_sampler_statistics.py,
tests/test_log_partition.py) check the whole algorithm against exact enumeration and
tree decomposition. These check the pieces that those tests do not isolate:

* ``anneal_sweeps`` at a fixed beta samples the Boltzmann distribution (independent
  chains against enumeration) and the energies it accumulates during the last sweep
  are the energies of the final states;
* the resampling copies (``parent``) and the copy-only path (``num_sweeps = 0``, where
  PA is sequential importance resampling from the uniform distribution and log Z is
  still an unbiased estimate);
* the adaptive step solves the ESS equation: every step but the last keeps exactly
  ``ess_target`` of the worst population;
* running the sweeps on numba's threads or on the calling thread gives the same samples.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import qhvae
from qhvae import topology
from qhvae.samplers._kernels import anneal_sweeps, anneal_sweeps_serial, energies, seed_streams, split_csr
from qhvae.samplers.conversions import seed_sequence
from qhvae.samplers.pa import anneal
from qhvae.testing.statistics import ALPHA, check_iid, exact_target, random_bm


def kernel_args(bm: qhvae.BoltzmannMachine, colors: np.ndarray):
    indptr, neighbors, weights = bm.csr()
    order = np.argsort(colors, kind="stable").astype(np.int64)
    neighbors, weights, split = split_csr(indptr, neighbors, weights.astype(np.float32), order)
    return bm.linear.astype(np.float32), indptr.astype(np.int64), split, neighbors, weights, order


@pytest.mark.parametrize("kernel, blocks", [(anneal_sweeps_serial, 1), (anneal_sweeps, 4)])
def test_anneal_sweeps_sample_boltzmann_and_track_energies(kernel, blocks):
    """20000 independent chains, 60 sweeps at beta = 1 from uniform states: exact Boltzmann samples."""
    graph = topology.chimera(1)
    bm = random_bm(graph, 301)
    n = 20_000
    z = np.random.default_rng(0).integers(0, 2, (bm.num_variables, n), np.uint8)
    streams = seed_streams(np.random.SeedSequence(1), n)
    energy = np.zeros(n)
    kernel(z, streams, np.arange(n), *kernel_args(bm, graph.colors), np.float32(1.0), 60, blocks, energy)
    np.testing.assert_allclose(energy, energies(z, bm.linear, bm.edges, bm.weights), atol=1e-4)
    report = check_iid(np.ascontiguousarray(z.T), exact_target(bm, "chimera(1)"))
    assert report.passed, report


def test_anneal_sweeps_copy_parents_and_keep_streams():
    """Slots copy their parent's state and energy, keep their own stream, and then diverge."""
    graph = topology.chimera(2)
    bm = random_bm(graph, 302)
    n = 64
    z = np.random.default_rng(2).integers(0, 2, (bm.num_variables, n), np.uint8)
    streams = seed_streams(np.random.SeedSequence(3), n)
    energy = energies(z, bm.linear, bm.edges, bm.weights)
    parent = np.arange(n)
    parent[[5, 6, 40]] = [7, 7, 2]
    args = kernel_args(bm, graph.colors)
    z1, e1, s1 = z.copy(), energy.copy(), streams.copy()
    anneal_sweeps_serial(z1, s1, parent, *args, np.float32(1.0), 0, 1, e1)
    want = z[:, parent]
    np.testing.assert_array_equal(z1, want)
    np.testing.assert_array_equal(e1, energy[parent])
    np.testing.assert_array_equal(s1, streams)  # no sweep: no random number drawn
    anneal_sweeps_serial(z1, s1, np.arange(n), *args, np.float32(1.0), 3, 1, e1)
    assert not np.array_equal(z1[:, 5], z1[:, 6]), "two copies of one replica evolved in lockstep"


def test_pa_without_sweeps_is_unbiased_importance_resampling():
    """``num_sweeps=0``: only reweighting and resampling (copies); log Z within its error bar."""
    graph = topology.chimera(1)
    bm = random_bm(graph, 303, scale=1.0)
    log_z = exact_target(bm, "chimera(1)").log_z
    _, info = anneal(bm, 16_000, seed_sequence(4), colors=graph.colors, num_sweeps=0, num_populations=32)
    k = float(stats.t.isf(ALPHA / 2, 31))
    assert abs(info["log_z"] - log_z) <= k * info["log_z_stderr"], (info["log_z"], info["log_z_stderr"], log_z)


@pytest.mark.parametrize("num_populations", [1, 8])
def test_adaptive_steps_keep_the_target_ess(num_populations):
    """Each step but the last is the largest with the worst population's ESS at the target."""
    graph = topology.chimera(2)
    bm = random_bm(graph, 304)
    _, info = anneal(bm, 1000, seed_sequence(5), colors=graph.colors, ess_target=0.8,
                     num_populations=num_populations)
    assert info["min_ess_fraction"] == pytest.approx(0.8, abs=1e-6)
    assert info["betas"][0] == 0.0 and info["betas"][-1] == 1.0 and info["num_steps"] == len(info["betas"]) - 1
    assert np.all(np.diff(info["betas"]) > 0)


@pytest.mark.parametrize("num_replicas", [77, 1000, 1003])
def test_threads_do_not_change_the_samples(num_replicas):
    """Chains own their random streams, so splitting them into thread blocks changes nothing."""
    graph = topology.chimera(3)
    bm = random_bm(graph, 305, scale=1.0)
    runs = [anneal(bm, num_replicas, seed_sequence(6), colors=graph.colors, num_populations=4, parallel=parallel)
            for parallel in (True, False)]
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][1]["log_z"] == runs[1][1]["log_z"]


def test_sampler_accepts_parallel_parameter():
    graph = topology.chimera(1)
    bm = random_bm(graph, 306)
    sampler = qhvae.get_sampler("pa", graph=graph)
    a = sampler.sample_bm(bm, 200, seed=7, parallel=False)
    b = sampler.sample_bm(bm, 200, seed=7, parallel=True)
    np.testing.assert_array_equal(a.samples, b.samples)


def test_a_cached_runner_is_the_runner_built_from_scratch():
    from qhvae.samplers.gibbs import ChainRunner

    graph = topology.chimera(2)
    cache: dict = {}
    rng = np.random.default_rng(3)
    for _ in range(3):  # the first call builds the structure, the others reuse it with new parameters
        bm = qhvae.BoltzmannMachine.from_arrays(rng.normal(size=graph.num_nodes),
                                                (graph.edges, rng.normal(size=graph.num_edges)))
        cached, fresh = ChainRunner.for_machine(bm, graph.colors, cache), ChainRunner(bm, graph.colors)
        for name in ("indptr", "order", "neighbors", "split", "linear", "weights"):
            assert np.array_equal(getattr(cached, name), getattr(fresh, name)), name
        z, streams = np.zeros((graph.num_nodes, 16), np.uint8), seed_streams(np.random.SeedSequence(0), 16)
        z2, streams2 = z.copy(), streams.copy()
        cached.sweep(z, streams, 3)
        fresh.sweep(z2, streams2, 3)
        assert np.array_equal(z, z2)
    assert len(cache) == 1


def test_pa_reuses_the_structure_across_calls_without_changing_a_sample():
    graph = topology.chimera(2)
    sampler = qhvae.get_sampler("pa", graph=graph)
    rng = np.random.default_rng(4)
    for call in range(3):  # training's pattern: one graph, new parameters every call
        bm = qhvae.BoltzmannMachine.from_arrays(rng.normal(size=graph.num_nodes),
                                                (graph.edges, rng.normal(size=graph.num_edges)))
        result = sampler.sample_bm(bm, 300, seed=call)
        samples, info = anneal(bm, 300, seed_sequence(call), colors=graph.colors, num_populations=2)
        np.testing.assert_array_equal(result.samples, samples)
        assert result.info["log_z"] == info["log_z"]
    assert len(sampler._structures) == 1
