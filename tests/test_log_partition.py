"""Log partition functions: exact enumeration, population annealing (PA) and AIS.

``log Z = log sum_z exp(-E(z))`` with ``E(z) = b.z + sum_(i<j) W_ij z_i z_j`` (dimod's
BINARY energy, beta = 1, offset included). References:

* brute-force enumeration written here (``qhvae.testing.statistics.exact_target``), for <= 20 units;
* dwave-samplers' ``TreeDecompositionSampler`` (exact belief propagation on a tree
  decomposition) for a 48-unit and a 64-unit Chimera strip, itself checked against
  enumeration on a 16-unit graph.

Tolerances:

* accuracy: ``|PA - exact| < 0.05`` nats (the issue's requirement). PA's standard
  deviation with 1000 replicas was measured (10-100 runs each) at 0.021-0.037 nats on
  8-20 unit graphs like these (0.04 on 48 units), and falls as ``1/sqrt(R)``; 0.05 nats
  is to be at least 4 standard deviations, so ``R >= 1000 (0.037 * 4 / 0.05)^2 ~ 8800``.
  We use ``R = 16000`` (expected sd <= 0.0095: 0.05 nats >= 5 sd).
* honesty of the error bar: ``|PA - exact| <= k stderr`` where the stderr is the spread
  of ``P`` independent populations, so ``(PA - exact) / stderr`` is Student-t with
  ``P - 1`` dof; ``k = t_(P-1)^-1(1 - alpha / 2G)`` for ``G`` graphs tested together,
  ``alpha = 1e-4``. With ``P = 32``, ``k ~ 5``.
* calibration: over 25 independent runs the spread of the errors must match the reported
  error bars (``qhvae.testing.statistics.check_error_bar_calibration``, an F test), which catches
  error bars that are too small *or* too large; a 3x over-confident error bar is shown
  to fail it (negative control).
"""

from __future__ import annotations

import functools

import dimod
import numpy as np
import pytest
from scipy import stats
from scipy.special import log_expit, logsumexp

import qhvae
from qhvae import topology
from qhvae.evaluate import log_partition
from qhvae.samplers.exact import exact_log_partition
from qhvae.testing.statistics import ALPHA, check_error_bar_calibration, exact_target, random_bm

TOL_NATS = 0.05
PA_REPLICAS, PA_POPULATIONS = 16_000, 32

SMALL_GRAPHS = {  # up to 20 units: exact log Z by enumeration
    "chimera(1)": (lambda: topology.chimera(1), 201),
    "rbm(6,8)": (lambda: topology.rbm(6, 8), 202),
    "full(10)": (lambda: topology.full(10), 203),
    "chimera(1,2)": (lambda: topology.chimera(1, 2), 204),
    "rbm(10,10)": (lambda: topology.rbm(10, 10), 205),  # 20 units, 100 couplings
}
LARGE_GRAPHS = {  # low treewidth: exact log Z by tree decomposition
    "chimera(1,6)": (lambda: topology.chimera(1, 6), 206),  # 48 units
    "chimera(2,4)": (lambda: topology.chimera(2, 4), 207),  # 64 units
}


def t_bound(num_populations: int, num_tests: int, alpha: float = ALPHA) -> float:
    """``k`` with ``P(|t_(P-1)| > k) = alpha / num_tests``: the honest error-bar multiple."""
    return float(stats.t.isf(alpha / (2 * num_tests), num_populations - 1))


@functools.cache
def small_case(name: str):
    factory, seed = SMALL_GRAPHS[name]
    graph = factory()
    bm = random_bm(graph, seed)
    return graph, bm, exact_target(bm, name).log_z


@functools.cache
def large_case(name: str):
    from dwave.samplers import TreeDecompositionSampler

    factory, seed = LARGE_GRAPHS[name]
    graph = factory()
    bm = random_bm(graph, seed)
    info = TreeDecompositionSampler().sample(bm.to_bqm(), num_reads=1, beta=1.0, marginals=True).info
    return graph, bm, float(info["log_partition_function"])


# ------------------------------------------------------------------ exact and analytic


@pytest.mark.parametrize("name", SMALL_GRAPHS)
def test_exact_log_partition_matches_brute_force(name):
    graph, bm, log_z = small_case(name)
    assert exact_log_partition(bm) == pytest.approx(log_z, abs=1e-9)
    r = log_partition(bm.linear, (bm.edges, bm.weights), method="exact")
    assert (r.method, r.stderr) == ("exact", 0.0)
    assert r.value == pytest.approx(log_z, abs=1e-9)
    assert log_partition(bm).method == "exact"  # auto: enumeration where feasible
    info = qhvae.get_sampler("exact").sample_bm(bm, 10, seed=0).info
    assert info["log_z"] == pytest.approx(log_z, abs=1e-9) and info["log_z_stderr"] == 0.0


def test_exact_log_partition_with_offset_components_and_spin_models():
    """Disconnected components, isolated units, an energy offset, and a SPIN model via dimod."""
    rng = np.random.default_rng(3)
    # Two components (a 4-cycle and a triangle) plus three isolated units: 10 units.
    edges = np.array([[0, 1], [1, 2], [2, 3], [0, 3], [4, 5], [5, 6], [4, 6]])
    b, w = rng.uniform(-2, 2, 10), rng.uniform(-2, 2, len(edges))
    bm = qhvae.BoltzmannMachine.from_arrays(b, (edges, w), offset=1.7)
    want = exact_target(bm).log_z  # enumeration includes the offset through bm.energies
    assert exact_log_partition(bm) == pytest.approx(want, abs=1e-9)

    spin = dimod.BinaryQuadraticModel({v: rng.uniform(-1, 1) for v in "abcdef"},
                                      {("a", "b"): 0.7, ("b", "c"): -0.4, ("d", "e"): 1.1}, -0.3, "SPIN")
    labels = list(spin.variables)
    states = 2 * ((np.arange(64)[:, None] >> np.arange(6)) & 1) - 1
    want = logsumexp(-spin.energies((states, labels)))
    assert log_partition(spin).value == pytest.approx(want, abs=1e-9)
    bm_spin, _ = qhvae.BoltzmannMachine.from_bqm(spin)
    assert exact_log_partition(bm_spin) == pytest.approx(want, abs=1e-9)


def test_bernoulli_log_partition_is_analytic_at_any_size():
    """No couplings: log Z = sum_i log(1 + exp(-b_i)), also for 288 units (2**288 states)."""
    b = np.random.default_rng(4).uniform(-3, 3, 288)
    want = float(-log_expit(b).sum())
    r = log_partition(b)
    assert r.method == "analytic" and r.stderr == 0.0
    assert r.value == pytest.approx(want, rel=1e-12)
    assert log_partition(b, method="exact").value == pytest.approx(want, rel=1e-12)
    assert exact_log_partition(qhvae.BoltzmannMachine.from_arrays(b)) == pytest.approx(want, rel=1e-12)


# ------------------------------------------------------------- PA against the truth


@pytest.mark.parametrize("name", SMALL_GRAPHS)
def test_pa_log_z_matches_enumeration(name):
    graph, bm, log_z = small_case(name)
    r = log_partition(bm, method="pa", num_replicas=PA_REPLICAS, num_populations=PA_POPULATIONS,
                      seed=11, graph=graph)
    err = r.value - log_z
    k = t_bound(PA_POPULATIONS, len(SMALL_GRAPHS))
    msg = f"{name}: PA {r.value:.4f} +- {r.stderr:.4f} vs exact {log_z:.4f} (error {err:+.4f}, k = {k:.2f})"
    assert r.method == "pa" and r.stderr > 0, msg
    assert abs(err) < TOL_NATS, msg
    assert abs(err) <= k * r.stderr, msg


@pytest.mark.parametrize("name", LARGE_GRAPHS)
def test_pa_log_z_matches_tree_decomposition(name):
    graph, bm, log_z = large_case(name)
    assert log_partition(bm).method == "pa"  # auto: too large to enumerate
    r = log_partition(bm, method="pa", num_replicas=PA_REPLICAS, num_populations=PA_POPULATIONS,
                      seed=12, graph=graph)
    err = r.value - log_z
    k = t_bound(PA_POPULATIONS, len(LARGE_GRAPHS))
    msg = (f"{name}: PA {r.value:.4f} +- {r.stderr:.4f} vs tree decomposition {log_z:.4f} "
           f"(error {err:+.4f}, k = {k:.2f})")
    assert abs(err) < TOL_NATS, msg
    assert abs(err) <= k * r.stderr, msg


def test_tree_decomposition_reference_matches_enumeration():
    graph, bm, log_z = small_case("chimera(1,2)")
    from dwave.samplers import TreeDecompositionSampler

    info = TreeDecompositionSampler().sample(bm.to_bqm(), num_reads=1, beta=1.0, marginals=True).info
    assert info["log_partition_function"] == pytest.approx(log_z, abs=1e-9)


def test_pa_sampler_reports_log_z_with_honest_error_bar():
    """The sampler path: ``sample_bm(...).info`` and the dimod SampleSet's info carry log Z."""
    graph, bm, log_z = small_case("chimera(1,2)")
    sampler = qhvae.get_sampler("pa", graph=graph)
    k = t_bound(8, 2)  # 4000 replicas -> the default 8 populations
    info = sampler.sample_bm(bm, 4_000, seed=13).info
    assert abs(info["log_z"] - log_z) <= k * info["log_z_stderr"], (info["log_z"], info["log_z_stderr"], log_z)
    ss_info = sampler.sample(bm.to_bqm(), num_reads=4_000, seed=14).info
    assert abs(ss_info["log_z"] - log_z) <= k * ss_info["log_z_stderr"], (ss_info, log_z)


@functools.cache
def pa_repeated_runs(num_runs: int = 25):
    """``num_runs`` independent default PA runs (1000 replicas, 8 populations) on chimera(1,2)."""
    graph, bm, log_z = small_case("chimera(1,2)")
    runs = [log_partition(bm, method="pa", seed=100 + s, graph=graph) for s in range(num_runs)]
    assert all(r.info["log_z_stderr_method"] == "spread of independent populations" for r in runs)
    populations = len(runs[0].info["log_z_populations"])
    errors = np.array([r.value - log_z for r in runs])
    stderrs = np.array([r.stderr for r in runs])
    return errors, stderrs, populations


def test_pa_error_bar_is_calibrated():
    """Spread of 25 independent PA estimates vs their reported error bars (F test, both sides)."""
    errors, stderrs, populations = pa_repeated_runs()
    assert populations == 8
    report = check_error_bar_calibration(errors, stderrs, populations - 1, "PA log Z on chimera(1,2)")
    assert report.passed, report
    k = t_bound(populations, errors.size)
    assert np.all(np.abs(errors) <= k * stderrs), (errors / stderrs, k)


def test_negative_control_overconfident_error_bar_is_rejected():
    """The same runs with error bars 3x too small must fail the calibration check."""
    errors, stderrs, populations = pa_repeated_runs()
    report = check_error_bar_calibration(errors, stderrs / 3, populations - 1, "PA with stderr / 3")
    assert "calibration" in report.failed, report


def test_negative_control_wrong_model_is_rejected():
    """PA of a model whose log Z is off by ~0.1 nats (twice the tolerance) must fail both tests.

    All biases are shifted by ``delta = 0.1 / sum_i <z_i>`` (first order:
    ``d log Z = -delta sum_i <z_i>``); the true shift is computed by enumeration.
    """
    graph, bm, log_z = small_case("chimera(1,2)")
    target = exact_target(bm)
    delta = 0.1 / target.moments[: bm.num_variables].sum()
    wrong = qhvae.BoltzmannMachine.from_arrays(bm.linear + delta, (bm.edges, bm.weights))
    true_shift = exact_target(wrong).log_z - log_z
    assert -0.12 < true_shift < -0.08, true_shift
    r = log_partition(wrong, method="pa", num_replicas=PA_REPLICAS, num_populations=PA_POPULATIONS,
                      seed=15, graph=graph)
    err = r.value - log_z
    msg = f"PA of the wrong model {r.value:.4f} +- {r.stderr:.4f} vs exact {log_z:.4f}"
    assert abs(err) > TOL_NATS, msg
    assert abs(err) > t_bound(PA_POPULATIONS, 1) * r.stderr, msg


# ------------------------------------------------------------------------------ AIS


@pytest.mark.slow
def test_ais_log_z_matches_enumeration():
    """AIS (1000 linear beta steps, no resampling) on 16 units: within 0.05 nats, honest error bar."""
    graph, bm, log_z = small_case("chimera(1,2)")
    populations = 16
    r = log_partition(bm, method="ais", num_replicas=2_000, num_populations=populations, seed=16, graph=graph)
    err = r.value - log_z
    k = t_bound(populations, 1)
    msg = f"AIS {r.value:.4f} +- {r.stderr:.4f} vs exact {log_z:.4f} (error {err:+.4f}, k = {k:.2f})"
    assert r.method == "ais" and r.info["num_steps"] == 1000, msg
    assert abs(err) < TOL_NATS, msg
    assert abs(err) <= k * r.stderr, msg
