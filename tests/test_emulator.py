"""The QPU emulator: QPU-like interface and validation, and the physics it claims.

Statistical checks use fixed seeds and tolerances derived from the sample size at a
false-alarm rate of about ``ALPHA = 1e-4`` per check (Bonferroni over the quantities a
check looks at), as in ``qhvae.testing.statistics``; the exact-distribution check is
``qhvae.testing.statistics.check_iid`` itself, with a negative control showing it has power.
"""

from __future__ import annotations

import math

import dimod
import networkx as nx
import numpy as np
import pytest
from scipy import stats

from qhvae.hardware import device_graph
from qhvae.samplers.qpu.emulator import (
    PROFILES,
    EmulatorParameterError,
    NoiseProfile,
    QPUEmulator,
    beta_at_freeze_out,
    freeze_out_point,
)
from qhvae.samplers.schedules import pause_quench
from qhvae.testing.statistics import ALPHA, check_iid, spin_bqm_target


def z_bound(num_stats: int, alpha: float = ALPHA) -> float:
    """Two-sided normal quantile for ``num_stats`` statistics at family false-alarm rate alpha."""
    return float(stats.norm.isf(alpha / (2 * num_stats)))


@pytest.fixture(scope="module")
def chimera_ideal() -> QPUEmulator:
    return QPUEmulator("chimera", (2, 2, 4), noise="ideal", seed=11)


@pytest.fixture(scope="module")
def pegasus_low() -> QPUEmulator:
    return QPUEmulator(noise="low", seed=5)


def ball(qpu: QPUEmulator, size: int, root: int | None = None) -> tuple[list, list]:
    """``size`` working qubits around ``root`` (BFS) and the working couplers among them."""
    g = qpu.to_networkx_graph()
    root = qpu.nodelist[0] if root is None else root
    nodes = [root] + [v for _, v in nx.bfs_edges(g, root)][: size - 1]
    sub = g.subgraph(nodes)
    return sorted(nodes), sorted(tuple(sorted(e)) for e in sub.edges)


def spins_in_order(ss: dimod.SampleSet, labels: list) -> np.ndarray:
    """Raw samples (one row per read) with columns in ``labels`` order."""
    cols = [ss.variables.index(v) for v in labels]
    return np.repeat(ss.record.sample[:, cols], ss.record.num_occurrences, axis=0)


# ------------------------------------------------------------------ interface


def test_properties_and_parameters_shaped_like_mock_dwave_sampler():
    from dwave.system.testing import MockDWaveSampler

    qpu = QPUEmulator(noise="low", seed=0)
    mock = MockDWaveSampler(topology_type="pegasus", topology_shape=[6])
    props = qpu.properties
    shared = {"chip_id", "topology", "num_qubits", "qubits", "couplers", "h_range", "j_range",
              "extended_j_range", "per_qubit_coupling_range", "annealing_time_range", "default_annealing_time",
              "max_anneal_schedule_points", "num_reads_range", "default_programming_thermalization",
              "default_readout_thermalization", "problem_timing_data", "parameters", "supported_problem_types",
              "category", "programming_thermalization_range", "readout_thermalization_range"}
    assert shared <= set(props) and shared <= set(mock.properties)
    for key in ("h_range", "j_range", "extended_j_range", "annealing_time_range", "max_anneal_schedule_points",
                "num_reads_range", "topology", "num_qubits"):
        assert props[key] == mock.properties[key], key
    assert props["h_range"] == [-4.0, 4.0] and props["j_range"] == [-1.0, 1.0]
    # Same perfect-yield working graph as the mock, and every parameter we accept is a QPU one.
    assert qpu.nodelist == mock.nodelist and qpu.edgelist == mock.edgelist
    assert props["qubits"] == qpu.nodelist and props["couplers"] == [list(e) for e in qpu.edgelist]
    assert set(qpu.parameters) - {"seed"} <= set(mock.parameters)
    assert set(props["parameters"]) == set(qpu.parameters)
    dimod.testing.assert_sampler_api(qpu)
    dimod.testing.assert_structured_api(qpu)
    assert device_graph(qpu).topology_type == "pegasus"


@pytest.mark.parametrize("kind, shape, qubits", [("chimera", (2, 2, 4), 32), ("pegasus", (2,), 48),
                                                 ("zephyr", (1, 2), 24)])
def test_topologies(kind, shape, qubits):
    qpu = QPUEmulator(kind, shape, noise="ideal")
    assert qpu.properties["topology"] == {"type": kind, "shape": list(shape)}
    assert qpu.properties["num_qubits"] == qubits
    assert len(qpu.nodelist) <= qubits and all(u < v for u, v in qpu.edgelist)


def test_broken_qubits_and_couplers():
    full = QPUEmulator("chimera", (2, 2, 4), noise="ideal")
    dead_q = full.nodelist[3]
    dead_e = next(e for e in full.edgelist if dead_q not in e)
    qpu = QPUEmulator("chimera", (2, 2, 4), broken_nodes=[dead_q], broken_edges=[dead_e[::-1]], noise="ideal")
    assert dead_q not in qpu.nodelist and dead_e not in qpu.edgelist
    assert all(dead_q not in e for e in qpu.edgelist)
    assert len(qpu.edgelist) == len(full.edgelist) - 1 - sum(dead_q in e for e in full.edgelist)
    with pytest.raises(dimod.exceptions.BinaryQuadraticModelStructureError, match=f"qubit {dead_q}"):
        qpu.sample_ising({dead_q: 1.0}, {})
    u, v = dead_e
    with pytest.raises(dimod.exceptions.BinaryQuadraticModelStructureError, match=rf"coupler \(({u}, {v}|{v}, {u})\)"):
        qpu.sample_ising({}, {dead_e: -1.0})
    with pytest.raises(ValueError, match="qubit 99999"):  # not even on the lattice
        qpu.sample_ising({99999: 1.0}, {})
    # Structures are checked once and remembered only when they pass: a refused one stays refused.
    with pytest.raises(dimod.exceptions.BinaryQuadraticModelStructureError, match=f"qubit {dead_q}"):
        qpu.sample_ising({dead_q: 1.0}, {})
    good = qpu.edgelist[0]
    for _ in range(2):
        assert len(qpu.sample_ising({}, {good: -1.0}, num_reads=3)) > 0
    a, b = full.nodelist[0], full.nodelist[1]  # same cell, same side: never coupled in Chimera
    with pytest.raises(ValueError, match="coupler"):
        qpu.sample_ising({}, {(a, b): 1.0})


def test_random_yield_is_seeded_and_near_the_fraction():
    a = QPUEmulator(noise="ideal", qubit_yield=0.9, coupler_yield=0.95, seed=3)
    b = QPUEmulator(noise="ideal", qubit_yield=0.9, coupler_yield=0.95, seed=3)
    c = QPUEmulator(noise="ideal", qubit_yield=0.9, coupler_yield=0.95, seed=4)
    assert a.nodelist == b.nodelist and a.edgelist == b.edgelist and a.nodelist != c.nodelist
    n = 680  # perfect-yield working qubits of pegasus(6)
    tol = z_bound(1) * math.sqrt(0.9 * 0.1 * n)
    assert abs(len(a.nodelist) - 0.9 * n) < tol
    assert set(a.nodelist) <= set(QPUEmulator(noise="ideal").nodelist)


# ----------------------------------------------------------------- validation

@pytest.mark.parametrize("kwargs, error, match", [
    ({"auto_scale": False, "h": 4.5}, ValueError, "outside h_range"),
    ({"auto_scale": False, "J": -2.5}, ValueError, "outside extended_j_range"),
    ({"auto_scale": False, "J": 1.5}, ValueError, "outside extended_j_range"),
    ({"anneal_schedule": [[1.0, 0.0], [21.0, 1.0]]}, ValueError, "start at"),
    ({"anneal_schedule": [[0.0, 0.2], [20.0, 1.0]]}, ValueError, "start at"),
    ({"anneal_schedule": [[0.0, 1.0], [5.0, 0.5], [10.0, 1.0]]}, ValueError, "reverse annealing"),
    ({"anneal_schedule": [[0.0, 0.0], [10.0, 0.5], [10.0, 0.6], [20.0, 1.0]]}, ValueError, "increase strictly"),
    ({"anneal_schedule": [[0.0, 0.0], [10.0, 0.6], [15.0, 0.5], [20.0, 1.0]]}, ValueError, "must not decrease"),
    ({"anneal_schedule": [[0.0, 0.0], [20.0, 0.9]]}, ValueError, "final point"),
    ({"anneal_schedule": [[0.0, 0.0], [10.0, 1.2], [20.0, 1.0]]}, ValueError, r"\[0, 1\]"),
    ({"anneal_schedule": [[float(i), i / 12] for i in range(13)]}, ValueError, "between 2 and 12 points"),
    ({"anneal_schedule": [[0.0, 0.0]]}, ValueError, "between 2 and 12 points"),
    ({"anneal_schedule": [[0.0, 0.0], [2001.0, 1.0]]}, ValueError, "maximum anneal time"),
    ({"anneal_schedule": [[0.0, 0.0], [10.0, 0.5], [10.1, 1.0]]}, ValueError, "maximum slope"),
    ({"anneal_schedule": [[0.0, 0.0], [1.0, 0.5], [11.0, 0.5], [11.2, 1.0]]}, ValueError, "maximum slope"),
    ({"anneal_schedule": [[0.0, 0.0], [20.0, float("nan")]]}, ValueError, "non-finite"),
    ({"anneal_schedule": "fast"}, TypeError, "pairs"),
    ({"anneal_schedule": [[0.0, 0.0, 1.0], [20.0, 1.0, 1.0]]}, TypeError, "pairs"),
    ({"anneal_schedule": [[0.0, 0.0], [20.0, 1.0]], "annealing_time": 20.0}, ValueError, "only one"),
    ({"annealing_time": 0.1}, ValueError, "annealing_time_range"),
    ({"annealing_time": 2500.0}, ValueError, "annealing_time_range"),
    ({"num_reads": 0}, ValueError, "num_reads_range"),
    ({"num_reads": 10001}, ValueError, "num_reads_range"),
    ({"num_reads": 2.0}, ValueError, "num_reads"),
    ({"answer_mode": "all"}, ValueError, "answer_mode"),
    ({"auto_scale": "yes"}, ValueError, "auto_scale"),
    ({"readout_thermalization": -1.0}, ValueError, "readout_thermalization"),
    ({"seed": -3}, ValueError, "seed"),
    ({"chain_strength": 2.0}, EmulatorParameterError, "not a parameter of this solver"),
    ({"num_spin_reversal_transforms": 5}, EmulatorParameterError, "SpinReversalTransformComposite"),
    ({"anneal_offsets": [0.0]}, EmulatorParameterError, "does not emulate"),
    ({"initial_state": {}}, EmulatorParameterError, "does not emulate"),
])
def test_qpu_like_validation(chimera_ideal, kwargs, error, match):
    q0, q1 = chimera_ideal.edgelist[0]
    kwargs = dict(kwargs)
    h = {q0: kwargs.pop("h", 0.5), q1: -0.5}
    J = {(q0, q1): kwargs.pop("J", -0.5)}
    with pytest.raises(error, match=match):
        chimera_ideal.sample_ising(h, J, **kwargs)


def test_unknown_parameter_is_a_key_error_like_the_cloud_client(chimera_ideal):
    q = chimera_ideal.nodelist[0]
    with pytest.raises(KeyError):
        chimera_ideal.sample_ising({q: 1.0}, {}, bogus=1)


def test_valid_schedules_and_extended_j_range(chimera_ideal):
    q0, q1 = chimera_ideal.edgelist[0]
    paper = [list(p) for p in pause_quench()]  # 1 us to s=0.5, 10 us pause, fastest quench (slope 2 / us)
    assert paper == [[0.0, 0.0], [1.0, 0.5], [11.0, 0.5], [11.25, 1.0]]
    for schedule in (paper, [[0.0, 0.0], [0.5, 1.0]], [[0.0, 0.0], [2000.0, 1.0]],
                     [(float(i), i / 11) for i in range(12)]):
        ss = chimera_ideal.sample_ising({q0: 0.1}, {(q0, q1): -2.0}, anneal_schedule=schedule, auto_scale=False,
                                        num_reads=3, seed=0)
        assert ss.record.num_occurrences.sum() == 3
        assert ss.info["timing"]["qpu_anneal_time_per_sample"] == schedule[-1][0]
    assert chimera_ideal.validate_anneal_schedule(paper) == paper


# ----------------------------------------------------------- sampling basics


def test_raw_histogram_vartypes_info_and_reproducibility(chimera_ideal):
    q0, q1 = chimera_ideal.edgelist[0]
    h, J = {q0: 0.2, q1: -0.1}, {(q0, q1): 0.3}
    raw = chimera_ideal.sample_ising(h, J, num_reads=50, answer_mode="raw", seed=7, label="p1")
    assert len(raw) == 50 and np.all(raw.record.num_occurrences == 1)
    again = chimera_ideal.sample_ising(h, J, num_reads=50, answer_mode="raw", seed=7)
    np.testing.assert_array_equal(raw.record.sample, again.record.sample)
    hist = chimera_ideal.sample_ising(h, J, num_reads=50, seed=7)
    assert hist.record.num_occurrences.sum() == 50 and len(hist) <= 4
    dimod.testing.assert_sampleset_energies(raw, dimod.BQM.from_ising(h, J))
    assert raw.info["problem_label"] == "p1" and isinstance(raw.info["problem_id"], str)
    t = raw.info["timing"]
    assert t["qpu_access_time"] == pytest.approx(t["qpu_sampling_time"] + t["qpu_programming_time"])
    assert t["qpu_sampling_time"] == pytest.approx(
        50 * (t["qpu_anneal_time_per_sample"] + t["qpu_readout_time_per_sample"] + t["qpu_delay_time_per_sample"]))
    # BINARY problems come back BINARY (what a QPU does with a QUBO), with dimod's energies.
    qubo = chimera_ideal.sample_qubo({(q0, q0): 1.0, (q0, q1): -2.0}, num_reads=20, answer_mode="raw", seed=1)
    assert qubo.vartype is dimod.BINARY and set(np.unique(qubo.record.sample)) <= {0, 1}
    dimod.testing.assert_sampleset_energies(qubo, dimod.BQM.from_qubo({(q0, q0): 1.0, (q0, q1): -2.0}))
    # h as a list indexed by qubit, zeros ignored (DWaveSampler's convention).
    ss = chimera_ideal.sample_ising([0.0] * q0 + [0.5], {}, num_reads=2)
    assert list(ss.variables) == [q0]
    # Whole-emulator reproducibility: same constructor seed, calls without seeds.
    a = QPUEmulator("chimera", (2, 2, 4), noise="high", seed=2)
    b = QPUEmulator("chimera", (2, 2, 4), noise="high", seed=2)
    for _ in range(2):
        sa = a.sample_ising(h, J, num_reads=30, answer_mode="raw")
        sb = b.sample_ising(h, J, num_reads=30, answer_mode="raw")
        np.testing.assert_array_equal(sa.record.sample, sb.record.sample)
    # An empty problem is fine.
    assert len(chimera_ideal.sample_ising({}, {}, num_reads=3).variables) == 0


def test_binary_conversion_matches_dimod(chimera_ideal):
    """The emulator's own Ising -> BINARY conversion (b = 2h - 2 sum J, W = 4J) is dimod's."""
    rng = np.random.default_rng(0)
    nodes, edges = ball(chimera_ideal, 6)
    h = rng.uniform(-1, 1, len(nodes))
    J = rng.uniform(-1, 1, len(edges))
    idx = {q: i for i, q in enumerate(nodes)}
    e = np.array([[idx[u], idx[v]] for u, v in edges])
    spin_bqm = dimod.BQM(dict(zip(nodes, h, strict=True)), dict(zip(edges, J, strict=True)), 0.0, "SPIN")
    bqm = spin_bqm.change_vartype("BINARY", inplace=False)
    b = 2 * h
    np.subtract.at(b, e[:, 0], 2 * J)
    np.subtract.at(b, e[:, 1], 2 * J)
    np.testing.assert_allclose(b, [bqm.linear[q] for q in nodes])
    np.testing.assert_allclose(4 * J, [bqm.quadratic[uv] for uv in edges])


def test_auto_scale_like_a_qpu(chimera_ideal):
    q0, q1 = chimera_ideal.edgelist[0]
    ss = chimera_ideal.sample_ising({q0: 8.0, q1: -2.0}, {(q0, q1): -1.0}, num_reads=5, answer_mode="raw", seed=0)
    call = chimera_ideal.last_call
    assert call.scale_factor == pytest.approx(2.0)
    np.testing.assert_allclose(call.h_programmed, [4.0, -1.0])
    np.testing.assert_allclose(call.j_programmed, [-0.5])
    # Energies are reported for the submitted problem, not the scaled one.
    dimod.testing.assert_sampleset_energies(ss, dimod.BQM.from_ising({q0: 8.0, q1: -2.0}, {(q0, q1): -1.0}))
    chimera_ideal.sample_ising({q0: 0.25}, {(q0, q1): 0.05}, num_reads=1)  # scales up too
    assert chimera_ideal.last_call.scale_factor == pytest.approx(0.0625)
    np.testing.assert_allclose(chimera_ideal.last_call.h_programmed, [4.0, 0.0])
    np.testing.assert_allclose(chimera_ideal.last_call.j_programmed, [0.8])
    chimera_ideal.sample_ising({q0: 0.25}, {(q0, q1): 0.1}, num_reads=1, auto_scale=False)
    assert chimera_ideal.last_call.h_programmed[0] == pytest.approx(0.25)


# ---------------------------------------------------------------- the physics


def test_beta_eff_model():
    low, high = QPUEmulator(noise="low", seed=0), QPUEmulator(noise="high", seed=0)
    # beta_eff = B(s*)/(2 k_B T) with B anchored at Advantage_system4.1's published B(0.612) = 3.91 GHz:
    # at s* = 0.612 and T = 15.4 mK it is dwave-system's freezeout effective temperature, inverted.
    from dwave.system.temperatures import freezeout_effective_temperature

    published = 1.0 / freezeout_effective_temperature(freezeout_B=3.91, temperature=15.4)
    assert beta_at_freeze_out(0.612, NoiseProfile(temperature_mk=15.4)) == pytest.approx(published, rel=1e-4)
    # Plain anneal of the default 20 us freezes at the profile's freeze_s; slower anneals freeze later.
    assert low.freeze_out() == pytest.approx(0.45) and high.freeze_out() == pytest.approx(0.40)
    betas = [low.true_beta_eff(annealing_time=t) for t in (0.5, 2.0, 20.0, 200.0, 2000.0)]
    assert all(a < b for a, b in zip(betas, betas[1:], strict=False))
    # The paper's pause-and-quench freezes at (nearly) the pause point when the pause is long
    # compared with the relaxation time there; longer pauses get closer.
    assert 0.48 < low.freeze_out(pause_quench()) <= 0.5
    assert low.freeze_out(pause_quench(pause_us=100.0)) == pytest.approx(0.5, abs=1e-6)
    # On the noisier device (earlier freeze-out) the same pause equilibrates only part of the way.
    assert high.freeze_out() < high.freeze_out(pause_quench()) < 0.45
    # A pause beyond the freeze-out region changes little: the state froze on the ramp.
    late = low.freeze_out(pause_quench(pause_point=0.8, ramp_us=16.0))
    assert late < 0.5
    # Fixed beta overrides the schedule.
    fixed = QPUEmulator("chimera", (1, 1, 4), noise=PROFILES["ideal"].replace(fixed_beta=1.0))
    assert fixed.true_beta_eff(pause_quench()) == 1.0 == fixed.true_beta_eff(annealing_time=500.0)
    assert freeze_out_point([[0, 0], [20, 1]], PROFILES["ideal"]) == pytest.approx(0.45)


@pytest.mark.parametrize("kind, shape", [("chimera", (2, 2, 4)), ("pegasus", (6,))])
def test_ideal_profile_is_exact_boltzmann_at_beta_eff(kind, shape):
    """10 coupled qubits (9 couplers on Chimera, 19 on Pegasus): samples against exact
    enumeration at the true beta_eff (about 5 for the pause-and-quench schedule, so
    beta |J| reaches 2: strongly coupled)."""
    qpu = QPUEmulator(kind, shape, noise="ideal", seed=11)
    rng = np.random.default_rng(2024)
    nodes, edges = ball(qpu, 10)
    h = dict(zip(nodes, rng.uniform(-0.4, 0.4, len(nodes)), strict=True))
    J = dict(zip(edges, rng.uniform(-0.4, 0.4, len(edges)), strict=True))
    schedule = pause_quench()
    n = 4000
    ss = qpu.sample_ising(h, J, num_reads=n, anneal_schedule=schedule, auto_scale=False, answer_mode="raw", seed=3)
    call = qpu.last_call
    beta = qpu.true_beta_eff(schedule)
    assert call.beta_eff == beta and call.drift_factor == 1.0
    np.testing.assert_array_equal(call.h_sampled, [h[v] for v in call.variables])
    np.testing.assert_array_equal(call.j_sampled, [J[tuple(sorted(c))] for c in call.couplers])

    bqm = dimod.BQM.from_ising(h, J)
    target, labels = spin_bqm_target(dimod.BQM.from_ising({v: beta * b for v, b in h.items()},
                                                          {e: beta * b for e, b in J.items()}), "ideal")
    z = (spins_in_order(ss, labels) + 1) // 2
    report = check_iid(z, target)
    assert report.passed, str(report)
    # Negative control: the same samples are rejected at a 20% wrong temperature.
    wrong, _ = spin_bqm_target(dimod.BQM.from_ising({v: 0.8 * beta * b for v, b in h.items()},
                                                    {e: 0.8 * beta * b for e, b in J.items()}), "wrong beta")
    assert not check_iid(z, wrong).passed
    assert bqm.num_variables == 10


def test_qubit_offsets_bias_and_spin_reversal_removes_them():
    from dwave.preprocessing import SpinReversalTransformComposite

    profile = NoiseProfile(name="offsets-only", offset_sigma_h=0.25)  # nothing else: no drift, ICE, read-out
    qpu = QPUEmulator("chimera", (2, 2, 4), noise=profile, seed=8)
    offsets = qpu.qubit_offsets
    assert set(offsets) == set(qpu.nodelist) and np.std(list(offsets.values())) > 0.1
    qubits = qpu.nodelist[:8]
    h = {q: 0.0 for q in qubits}  # no couplings: each qubit feels only its own offset
    beta = qpu.true_beta_eff()
    n = 4000
    ss = qpu.sample_ising(h, {}, num_reads=n, answer_mode="raw", seed=1)
    m = spins_in_order(ss, qubits).mean(0)
    expected = -np.tanh(beta * np.array([offsets[q] for q in qubits]))  # E = o s  ->  <s> = -tanh(beta o)
    k = z_bound(len(qubits))
    assert np.all(np.abs(m - expected) <= k * np.sqrt((1 - expected**2) / n)), (m, expected)
    assert np.max(np.abs(m) / np.sqrt(1 / n)) > 10  # the bias is large and visible

    # Balanced spin-reversal transforms: every qubit flipped in exactly half of the 4 runs.
    rng = np.random.default_rng(0)
    srts = np.stack([rng.permutation([True, True, False, False]) for _ in qubits], axis=1)
    srt = SpinReversalTransformComposite(qpu)
    # No call seed: the composite would pass the same one to every run, and with a
    # gauge-invariant problem (h = 0) the runs would then be identical and cancel exactly.
    # Without it each run draws its own seed from the emulator's seeded stream.
    ss = srt.sample(dimod.BQM.from_ising(h, {}), srts=srts, num_reads=n // 4, answer_mode="raw")
    s = spins_in_order(ss, qubits)
    assert s.shape == (n, len(qubits))
    # Each half has mean -+tanh(beta o); the pooled mean is 0 with variance <= 1 / n.
    assert np.all(np.abs(s.mean(0)) <= k * np.sqrt(1 / n)), s.mean(0)


def test_drift_changes_beta_between_calls_and_is_seeded():
    def run(seed, calls):
        # Few sweeps: only beta_eff matters here, and every call is a (tiny) Gibbs run.
        qpu = QPUEmulator("chimera", (1, 1, 4), noise="high", seed=seed, num_sweeps=4)
        q = qpu.nodelist[0]
        for _ in range(calls):
            qpu.sample_ising({q: 0.1}, {}, num_reads=1)
        return qpu, np.array(qpu.beta_history)

    qpu, betas = run(3, 200)
    assert np.allclose([qpu.last_call.beta_schedule], qpu.true_beta_eff())
    assert np.ptp(betas) > 0 and np.all(betas > 0)
    np.testing.assert_array_equal(betas[:20], run(3, 20)[1])
    assert not np.array_equal(betas[:20], run(4, 20)[1])
    # The drift is an Ornstein-Uhlenbeck walk of log beta: its innovations are N(0, s^2 (1 - a^2)).
    p = qpu.profile
    x = np.log(betas / qpu.true_beta_eff())
    a = math.exp(-1 / p.drift_corr_calls)
    innovations = x[1:] - a * x[:-1]
    var = p.drift_sigma**2 * (1 - a * a)
    chi2 = float((innovations**2).sum() / var)
    dof = innovations.size
    assert stats.chi2.sf(chi2, dof) > ALPHA / 2 and stats.chi2.cdf(chi2, dof) > ALPHA / 2, chi2 / dof
    # The ideal profile does not drift.
    ideal = QPUEmulator("chimera", (1, 1, 4), noise="ideal", seed=3)
    for _ in range(3):
        ideal.sample_ising({ideal.nodelist[0]: 0.1}, {}, num_reads=1)
    assert len(set(ideal.beta_history)) == 1


def test_readout_flip_rate_on_strong_fields():
    qpu = QPUEmulator("chimera", (2, 2, 4), noise="high", seed=4)
    p = qpu.profile.readout_flip
    qubits = qpu.nodelist[:16]
    n = 2000
    # h = -4 at beta ~ 2.6: a thermal -1 has probability ~exp(-2 * 4 * 2.6) ~ 1e-9, so every
    # -1 is a read-out flip (ICE and offsets, ~0.05, do not matter against h = -4).
    ss = qpu.sample_ising({q: -4.0 for q in qubits}, {}, num_reads=n, auto_scale=False, answer_mode="raw", seed=9)
    wrong = int((spins_in_order(ss, qubits) == -1).sum())
    total = n * len(qubits)
    assert wrong == qpu.last_call.readout_flips
    assert abs(wrong / total - p) <= z_bound(1) * math.sqrt(p * (1 - p) / total), wrong / total


def test_control_errors_and_precision_are_what_the_profile_says(pegasus_low):
    qpu = pegasus_low
    rng = np.random.default_rng(1)
    h = dict(zip(qpu.nodelist, rng.uniform(-2, 2, len(qpu.nodelist)), strict=True))
    J = dict(zip(qpu.edgelist, rng.uniform(-1, 1, len(qpu.edgelist)), strict=True))
    qpu.sample_ising(h, J, num_reads=1, auto_scale=False, seed=0)
    call, p = qpu.last_call, qpu.profile
    step_h, step_j = 8.0 / 2**p.h_bits, 2.0 / 2**p.j_bits
    h_prog = np.array([h[v] for v in call.variables])
    j_prog = np.array([J[tuple(sorted(c))] for c in call.couplers])
    np.testing.assert_array_equal(call.h_programmed, h_prog)
    offsets = np.array([qpu.qubit_offsets[v] for v in call.variables])
    dh = call.h_sampled - np.round(h_prog / step_h) * step_h - offsets
    dj = call.j_sampled - np.round(j_prog / step_j) * step_j
    for name, d, sigma in (("h", dh, p.ice_sigma_h), ("J", dj, p.ice_sigma_j)):
        chi2 = float((d**2).sum() / sigma**2)
        ok = stats.chi2.sf(chi2, d.size) > ALPHA / 4 and stats.chi2.cdf(chi2, d.size) > ALPHA / 4
        assert ok, (name, chi2 / d.size)
        assert abs(d.mean()) < z_bound(2) * sigma / math.sqrt(d.size), name
    # Control errors are drawn afresh each call; offsets stay.
    qpu.sample_ising(h, J, num_reads=1, auto_scale=False, seed=1)
    assert not np.allclose(qpu.last_call.h_sampled, call.h_sampled)
    # Precision alone: a 3-bit h DAC has a grid step of 1 over h_range [-4, 4].
    coarse = QPUEmulator("chimera", (1, 1, 4), noise=NoiseProfile(h_bits=3, j_bits=2))
    q0, q1 = coarse.edgelist[0]
    coarse.sample_ising({q0: 1.3, q1: -0.4}, {(q0, q1): 0.3}, num_reads=1, auto_scale=False)
    np.testing.assert_array_equal(coarse.last_call.h_sampled, [1.0, -0.0])
    np.testing.assert_array_equal(coarse.last_call.j_sampled, [0.5])


def test_works_under_fixed_embedding_composite(chimera_ideal):
    from dwave.system import FixedEmbeddingComposite

    qpu = chimera_ideal
    adj = qpu.adjacency
    # A triangle on a K_{4,4} cell: a -> 0, b -> 4, c -> chain [1, 5] (1-4, 5-0 and 1-5 are couplers).
    embedding = {"a": [0], "b": [4], "c": [1, 5]}
    assert 4 in adj[0] and 4 in adj[1] and 5 in adj[0] and 5 in adj[1]
    sampler = FixedEmbeddingComposite(qpu, embedding)
    bqm = dimod.BQM.from_ising({"a": 0.1}, {("a", "b"): 0.5, ("b", "c"): 0.5, ("a", "c"): 0.5})
    ss = sampler.sample(bqm, num_reads=200, chain_strength=1.0, seed=0, answer_mode="raw")
    assert set(ss.variables) == {"a", "b", "c"} and ss.record.num_occurrences.sum() == 200
    assert "chain_break_fraction" in ss.record.dtype.names
    # Antiferromagnetic triangle: the ground states are the 6 states that are not all equal.
    s = spins_in_order(ss, ["a", "b", "c"])
    assert np.mean(np.abs(s.sum(1)) == 1) > 0.5


def test_profiles_and_errors():
    assert set(PROFILES) == {"ideal", "low", "high"}
    ideal = PROFILES["ideal"]
    assert (ideal.drift_sigma, ideal.ice_sigma_h, ideal.ice_sigma_j, ideal.offset_sigma_h, ideal.readout_flip,
            ideal.h_bits, ideal.j_bits) == (0.0, 0.0, 0.0, 0.0, 0.0, None, None)
    low, high = PROFILES["low"], PROFILES["high"]
    for field in ("drift_sigma", "ice_sigma_h", "ice_sigma_j", "offset_sigma_h", "readout_flip"):
        assert 0 < getattr(low, field) < getattr(high, field), field
    assert ideal.sweeps > low.sweeps > high.sweeps
    with pytest.raises(ValueError, match="noise must be one of"):
        QPUEmulator(noise="medium")
    with pytest.raises(ValueError, match="readout_flip"):
        NoiseProfile(readout_flip=0.7)
    with pytest.raises(ValueError, match="temperature_mk"):
        NoiseProfile(temperature_mk=0.0)
    with pytest.raises(ValueError, match="topology_type"):
        QPUEmulator("square")
    with pytest.raises(ValueError, match="yields"):
        QPUEmulator(qubit_yield=0.0)
    assert low.replace(readout_flip=0.0).name == "low*"
