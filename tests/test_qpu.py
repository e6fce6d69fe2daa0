"""The qpu sampler on dwave-system's MockDWaveSampler and on the emulator; beta_eff estimation."""

import io
import os
import warnings

import dimod
import numpy as np
import pytest

import qhvae
from qhvae import topology
from qhvae.samplers.gibbs import GibbsSampler
from qhvae.samplers.qpu import (
    BetaEffEstimator,
    NoiseProfile,
    QPUEmulator,
    QPUError,
    QPUSampler,
    mpl_inverse_temperature,
    spin_parameters,
)
from qhvae.samplers.schedules import ScheduleError

warnings.filterwarnings("ignore", message=".*parameter is valid for DWaveSampler.*")


@pytest.fixture
def mock():
    from dwave.system.testing import MockDWaveSampler

    return MockDWaveSampler(topology_type="chimera", topology_shape=[2, 2, 4], broken_nodes=[5],
                            broken_edges=[(0, 4)])


def test_spin_form_matches_dimod():
    rng = np.random.default_rng(0)
    g = topology.chimera(1)
    bm = qhvae.BoltzmannMachine.from_arrays(rng.normal(size=8), (g.edges, rng.normal(size=g.num_edges)))
    h, J = spin_parameters(bm)
    spin = bm.to_bqm().change_vartype(dimod.SPIN, inplace=False)
    assert np.allclose([spin.get_linear(i) for i in range(8)], h)
    assert np.allclose([spin.get_quadratic(a, b) for a, b in g.edges], J)


def test_schedules_are_validated_against_the_device_before_any_call(mock):
    s = QPUSampler(mock, beta_estimator=None)
    assert s.schedule == [(0.0, 0.0), (1.0, 0.5), (11.0, 0.5), (11.25, 1.0)]  # paper App. B, fastest quench
    with pytest.raises(ScheduleError, match="maximum slope"):
        QPUSampler(mock, schedule=[(0, 0), (1, 0.5), (1.1, 1.0)])
    with pytest.raises(ScheduleError, match="longer than the maximum anneal time"):
        QPUSampler(mock, schedule="forward", schedule_options={"annealing_time": 5000})
    with pytest.raises(ScheduleError, match="between 2 and 12 points"):
        QPUSampler(mock, schedule=[(float(i), i / 20) for i in range(21)])
    with pytest.raises(ScheduleError, match="pause_point must lie in"):
        QPUSampler(mock, schedule_options={"pause_point": 1.2})
    with pytest.raises(ScheduleError, match="unknown schedule shape"):
        QPUSampler(mock, schedule="zigzag")
    with pytest.raises(TypeError, match="no 'nodelist'"):
        QPUSampler(dimod.ExactSolver())


def test_broken_qubits_are_masked_and_sampled_exactly(mock):
    g = topology.chimera(1)
    s = QPUSampler(mock, graph=g, beta_estimator=None)
    edge_mask, unit_mask = s.masks_for(g)
    placement = s.placement(g)
    assert placement.num_missing_qubits + placement.num_missing_couplers == int((unit_mask == 0).sum()) + int(
        (edge_mask == 0).sum()) or placement.num_defects == 0
    out = s.sample_arrays(np.zeros(8), (g.edges, np.zeros(g.num_edges)), 40, seed=0)
    assert out.shape == (40, 8) and set(np.unique(out)) <= {0, 1}


def test_clipping_is_counted(mock):
    g = topology.from_edges(2, [(0, 1)])
    s = QPUSampler(mock, graph=g, beta_estimator=None, beta_eff=0.5)
    # b = (20, 2), W = 8 -> h = (12, 3) / 0.5 = (24, 6) > 4 and J = 2 / 0.5 = 4 > 1
    result = s.sample_bm(qhvae.BoltzmannMachine.from_arrays([20.0, 2.0], ([[0, 1]], [8.0])), 10, seed=0)
    assert result.info["clipped_h"] == 2 and result.info["clipped_j"] == 1
    assert s.clip_counts == {"h": 2, "J": 1, "calls": 1}


class Flaky(dimod.Sampler, dimod.Structured):
    """A QPU that times out ``failures`` times before answering (through the mock)."""

    def __init__(self, mock, failures):
        self.mock, self.failures, self.calls = mock, failures, 0

    nodelist = property(lambda self: self.mock.nodelist)
    edgelist = property(lambda self: self.mock.edgelist)
    properties = property(lambda self: self.mock.properties)
    parameters = property(lambda self: self.mock.parameters)

    def sample(self, bqm, **kwargs):
        self.calls += 1
        if self.calls <= self.failures:
            raise TimeoutError("SAPI did not answer")
        return self.mock.sample(bqm, **kwargs)


def test_transient_failures_retry_then_fall_back(mock):
    g = topology.from_edges(2, [(0, 1)])
    bm = qhvae.BoltzmannMachine.from_arrays([0.0, 0.0], ([[0, 1]], [1.0]))
    flaky = Flaky(mock, failures=2)
    s = QPUSampler(flaky, graph=g, beta_estimator=None, retries=3, backoff=0.0, num_spin_reversal_transforms=0)
    assert s.sample_bm(bm, 5, seed=0).samples.shape == (5, 2) and flaky.calls == 3
    dead = QPUSampler(Flaky(mock, failures=99), graph=g, beta_estimator=None, retries=2, backoff=0.0)
    with pytest.raises(QPUError, match=r"the device failed 3 times \(TimeoutError: SAPI did not answer\)"):
        dead.sample_bm(bm, 5, seed=0)
    rescued = QPUSampler(Flaky(mock, failures=99), graph=g, beta_estimator=None, retries=1, backoff=0.0,
                         fallback=qhvae.get_sampler("exact"))
    with pytest.warns(RuntimeWarning, match="falling back to the classical sampler 'exact'"):
        result = rescued.sample_bm(bm, 5, seed=0)
    assert result.info["fallback"]["sampler"] == "exact"


def test_the_registry_builds_the_samplers_named_by_options(mock):
    """fallback and aux_sampler are instances; qhvae.get_sampler builds them from a name (with the graph)."""
    g = topology.from_edges(2, [(0, 1)])
    bm = qhvae.BoltzmannMachine.from_arrays([0.0, 0.0], ([[0, 1]], [1.0]))
    rescued = qhvae.get_sampler("qpu", device=Flaky(mock, failures=99), graph=g, beta_estimator=None, retries=1,
                                backoff=0.0, fallback="exact")
    assert isinstance(rescued.fallback, qhvae.BoltzmannSampler) and rescued.fallback.name == "exact"
    with pytest.warns(RuntimeWarning, match="falling back to the classical sampler 'exact'"):
        assert rescued.sample_bm(bm, 5, seed=0).info["fallback"]["sampler"] == "exact"
    graph = topology.chimera(1)
    s = qhvae.get_sampler("emulator", noise_profile="ideal", topology_type="chimera", topology_shape=[1, 1, 4],
                          graph=graph, beta_estimator="c3", aux_sampler="gibbs", fallback="pa")
    assert s.fallback.name == "pa" and s.fallback.graph is graph  # a factory with a graph gets the graph
    assert isinstance(s.beta_estimator.aux_sampler, GibbsSampler) and s.beta_estimator.aux_sampler.graph is graph
    with pytest.raises(KeyError, match="unknown sampler 'nope'"):
        qhvae.get_sampler("qpu", device=mock, fallback="nope")
    # Without the registry a name cannot be resolved: the error says how to build the instance.
    with pytest.raises(TypeError, match=r"fallback must be a qhvae BoltzmannSampler.*get_sampler\('exact'\)"):
        QPUSampler(mock, fallback="exact")
    with pytest.raises(TypeError, match=r"aux_sampler must be .*get_sampler\('pa'\)"):
        BetaEffEstimator("c3", aux_sampler="pa")


def test_real_qpu_without_credentials_is_a_clear_error(monkeypatch, tmp_path):
    if os.environ.get("DWAVE_API_TOKEN"):
        pytest.skip("D-Wave credentials are configured: this test checks the message without them")
    monkeypatch.setenv("DWAVE_CONFIG_FILE", str(tmp_path / "missing.conf"))
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(qhvae.SamplerError, match="could not connect to a D-Wave QPU.*dwave config create"):
        qhvae.get_sampler("qpu")


@pytest.mark.skipif(not os.environ.get("DWAVE_API_TOKEN"), reason="no D-Wave credentials (DWAVE_API_TOKEN)")
def test_real_qpu_samples_a_chimera_cell():  # pragma: no cover - needs hardware
    s = qhvae.get_sampler("qpu", graph=topology.chimera(1))
    assert s.sample_arrays(np.zeros(8), None, 10, seed=0).shape == (10, 8)


def offsets_only(sigma):
    return NoiseProfile(name="offsets", fixed_beta=1.0, offset_sigma_h=sigma, sweeps=64)


def test_spin_reversal_transforms_remove_fixed_qubit_offsets():
    """Zero-bias independent units: offsets bias them; averaging over transforms does not."""
    graph = topology.bernoulli(64)
    device = QPUEmulator("chimera", (4, 4, 4), noise=offsets_only(0.3), seed=3)
    reads = 4000
    deviations = {}
    for transforms in (0, 40):
        s = QPUSampler(device, graph=graph, beta_estimator=None, num_spin_reversal_transforms=transforms, seed=1)
        z = s.sample_arrays(np.zeros(64), None, reads, seed=2)
        deviations[transforms] = z.mean(axis=0) - 0.5
    # Sampling variance of a mean of `reads` fair bits: 1 / (4 reads). Offsets of sd 0.3 at beta 1
    # shift p by ~ tanh(0.3) / 2 = 0.15, a mean squared deviation ~ 2e-2 without transforms.
    sampling_var = 1 / (4 * reads)
    assert np.mean(deviations[0] ** 2) > 20 * sampling_var
    # With balanced transforms (each qubit flipped in half of them) a fixed offset cancels
    # exactly, p(o) and 1 - p(o) averaging to 1/2; what is left is sampling noise, whose mean
    # square over 64 units is sampling_var * chi2_64 / 64 (sd 0.18 sampling_var): 2x is > 5 sd.
    assert np.mean(deviations[40] ** 2) < 2 * sampling_var
    # and the offsets are what moved the means: they correlate with -offset
    offsets = np.array([device.qubit_offsets[q] for q in s.placement(graph).qubits])
    assert np.corrcoef(deviations[0], -offsets)[0, 1] > 0.8


def test_mpl_recovers_the_emulators_true_beta_eff():
    graph = topology.chimera(2)
    device = QPUEmulator("chimera", (4, 4, 4), noise="ideal", seed=5)
    schedule = [(0.0, 0.0), (1.0, 0.5), (11.0, 0.5), (11.25, 1.0)]
    true_beta = device.true_beta_eff(schedule)
    rng = np.random.default_rng(0)
    b, w = rng.uniform(-1, 1, 32), rng.uniform(-1, 1, graph.num_edges)
    s = QPUSampler(device, graph=graph, beta_eff=1.0, beta_estimator=BetaEffEstimator("mpl", smoothing=1.0),
                   schedule=schedule, seed=0)
    bm = qhvae.BoltzmannMachine.from_arrays(b, (graph.edges, w))
    s.sample_bm(bm, 4000, seed=1)  # the first call measures the device's beta
    estimate = s.effective_beta
    # MPL's relative standard error with N samples of L units is about 1/sqrt(N L) times an O(1)
    # factor; with N L = 128000 a 5% tolerance is > 10 standard errors and still sharp enough.
    assert estimate == pytest.approx(true_beta, rel=0.05)
    # after the update, programming (h, J) / beta_eff samples the prior itself: beta ~ 1
    r = s.sample_bm(bm, 4000, seed=2)
    h, J = spin_parameters(bm)
    spins = 2 * r.samples.astype(int) - 1
    couplings = {tuple(e): j for e, j in zip(graph.edges, J, strict=True)}
    spin_bqm = dimod.BinaryQuadraticModel.from_ising(dict(enumerate(h)), couplings)
    assert mpl_inverse_temperature(spin_bqm, spins, range(32)) == pytest.approx(1.0, rel=0.05)


def test_paper_c3_update_moves_towards_the_true_beta():
    device = QPUEmulator("chimera", (2, 2, 4), noise=NoiseProfile(name="fixed", fixed_beta=2.0, sweeps=256), seed=1)
    graph = topology.chimera(1)
    rng = np.random.default_rng(1)
    bm = qhvae.BoltzmannMachine.from_arrays(rng.uniform(-1, 1, 8), (graph.edges, rng.uniform(-2, 2, 16)))
    est = BetaEffEstimator("c3", learning_rate=0.05, aux_samples=2000)
    s = QPUSampler(device, graph=graph, beta_eff=1.0, beta_estimator=est, seed=0)
    for i in range(25):
        s.sample_bm(bm, 1000, seed=i)
    assert abs(s.effective_beta - 2.0) < abs(1.0 - 2.0) / 2
    assert len(s.beta_history) == 26


def test_a_restored_sampler_continues_the_same_beta_eff():
    """The checkpointed state (``get_state``, saved as ``sampler_state.npz``) carries the beta_eff
    estimator's history and its auxiliary sampler's chains: a sampler restored from another's state
    takes exactly the same next C3 step as the original, which a restored beta_eff alone does not."""
    graph = topology.chimera(1)
    rng = np.random.default_rng(3)
    bm = qhvae.BoltzmannMachine.from_arrays(rng.uniform(-1, 1, 8), (graph.edges, rng.uniform(-2, 2, 16)))

    def annealer():
        device = QPUEmulator("chimera", (1, 1, 4), noise=NoiseProfile(name="fixed", fixed_beta=2.0, sweeps=64), seed=1)
        est = BetaEffEstimator("c3", learning_rate=0.05, aux_samples=200,
                               aux_sampler=GibbsSampler(num_sweeps=2, burn_in=5))
        return QPUSampler(device, graph=graph, beta_eff=1.0, beta_estimator=est, seed=0)

    original = annealer()
    for i in range(3):
        original.sample_bm(bm, 200, seed=i)
    buffer = io.BytesIO()  # through an .npz without pickles, as a training checkpoint stores it
    np.savez(buffer, **original.get_state())
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as f:
        state = {k: f[k] for k in f.files}
    restored = annealer()
    restored.set_state(state)
    assert restored.effective_beta == original.effective_beta
    assert restored.beta_estimator.history == original.beta_estimator.history
    assert len(restored.beta_estimator.history) == 3
    original.sample_bm(bm, 200, seed=3)
    restored.sample_bm(bm, 200, seed=3)
    assert restored.effective_beta == original.effective_beta != original.beta_history[-2]
    assert restored.beta_estimator.history == original.beta_estimator.history
    assert restored.beta_history == original.beta_history
    # Negative control: beta_eff alone (what the state held before) does not continue the same estimate.
    partial = annealer()
    partial.set_state({k: v for k, v in state.items() if not k.startswith("beta_estimator/")})
    partial.sample_bm(bm, 200, seed=3)
    assert partial.effective_beta != original.effective_beta


def test_emulator_sampler_from_the_registry():
    s = qhvae.get_sampler("emulator", noise_profile="ideal", topology_type="chimera", topology_shape=[4, 4, 4],
                          graph=topology.chimera(1), seed=0)
    assert s.name == "emulator" and isinstance(s.device, QPUEmulator)
    assert s.sample_arrays(np.zeros(8), None, 20, seed=0).shape == (20, 8)
    with pytest.raises(ValueError, match="unknown noise profile|noise"):
        qhvae.get_sampler("emulator", noise_profile="loud")


@pytest.mark.slow
def test_training_on_a_device_with_dead_qubits_masks_them():
    pytest.importorskip("tensorflow")
    import keras

    from qhvae.vae import QVAE

    graph = topology.chimera(1)
    # A device exactly the size of the patch, with one dead qubit and one dead coupler.
    sampler = qhvae.get_sampler("emulator", noise_profile="low", topology_type="chimera", topology_shape=[1, 1, 4],
                                broken_nodes=[2], broken_edges=[(0, 5)], graph=graph, seed=0)
    model = QVAE((8, 8, 1), graph, sampler=sampler, network="fc",
                 network_options={"hidden": [16]}, num_negative_samples=64, seed=0)
    unit_mask, edge_mask = model.prior.unit_mask_np, model.prior.edge_mask_np
    dead_unit = int(np.flatnonzero(unit_mask == 0)[0])
    assert (unit_mask == 0).sum() == 1
    touching = (graph.edges == dead_unit).any(axis=1)
    assert np.all(edge_mask[touching] == 0) and (edge_mask == 0).sum() == touching.sum() + 1
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    x = (np.random.default_rng(0).random((32, 8, 8, 1)) < 0.3).astype(np.float32)
    history = model.fit(x, batch_size=16, epochs=2, verbose=0).history
    assert np.all(np.isfinite(history["loss"]))
    w = model.prior.masked_weights().numpy()
    assert np.all(w[edge_mask == 0] == 0) and np.any(w[edge_mask == 1] != 0)
    assert len(sampler.beta_history) == 1 + 4  # beta_eff re-estimated at every step


def test_couplers_land_on_the_placed_qubits():
    """Qubit labels differ from unit positions: every programmed coupler must exist on the device."""
    graph = topology.chimera(1)
    device = QPUEmulator("chimera", (2, 2, 4), noise="ideal", broken_nodes=[0], seed=0)
    s = QPUSampler(device, graph=graph, beta_estimator=None, seed=0)
    qubits = s.placement(graph).qubits
    assert 0 not in set(np.asarray(qubits).tolist())
    rng = np.random.default_rng(0)
    out = s.sample_arrays(rng.uniform(-1, 1, 8), (graph.edges, rng.uniform(-1, 1, graph.num_edges)), 50, seed=1)
    assert out.shape == (50, 8)
    used = {tuple(sorted(c)) for c in device.last_call.couplers}
    assert len(used) == graph.num_edges and used <= {tuple(sorted(e)) for e in device.edgelist}


class GroundStateDevice(dimod.Sampler, dimod.Structured):
    """Answers every problem with its exact ground state (couplings must be zero), with the
    columns in a chosen order: ``sorted`` (dimod's default), ``submitted``, ``shuffled``, or
    ``histogram`` (one aggregated row)."""

    def __init__(self, order):
        self.qpu = QPUEmulator("chimera", (2, 2, 4), noise="ideal", seed=0)
        self.order, self.received = order, []

    nodelist = property(lambda self: self.qpu.nodelist)
    edgelist = property(lambda self: self.qpu.edgelist)
    properties = property(lambda self: self.qpu.properties)
    parameters = property(lambda self: self.qpu.parameters)

    def sample(self, bqm, num_reads=1, **kwargs):
        self.received.append(bqm)
        labels = list(bqm.variables)
        if self.order == "shuffled":
            labels = [labels[i] for i in np.random.default_rng(len(self.received)).permutation(len(labels))]
        state = np.array([[-1 if bqm.get_linear(v) > 0 else 1 for v in labels]], np.int8)
        if self.order == "histogram":
            return dimod.SampleSet.from_samples((state, labels), "SPIN", 0.0, num_occurrences=[num_reads])
        return dimod.SampleSet.from_samples((np.repeat(state, num_reads, 0), labels), "SPIN", 0.0,
                                            sort_labels=self.order == "sorted")


@pytest.mark.parametrize("order", ["sorted", "submitted", "shuffled", "histogram"])
def test_transforms_are_undone_whatever_the_column_order(order):
    """The read-back's fast paths (sorted or submitted columns) and its general path give the same spins."""
    graph = topology.chimera(1)
    device = GroundStateDevice(order)
    s = QPUSampler(device, graph=graph, beta_estimator=None, num_spin_reversal_transforms=5, seed=0)
    b = np.array([1.0, -2.0, 0.5, -0.5, 3.0, -1.0, 2.0, -3.0])
    out = s.sample_bm(qhvae.BoltzmannMachine.from_arrays(b, (graph.edges, np.zeros(graph.num_edges))), 50, seed=1)
    assert out.samples.flags.c_contiguous
    # the ground state of E = b z is z_i = 1 exactly where b_i < 0, in every read and every transform
    assert np.array_equal(out.samples, np.tile(b < 0, (50, 1)).astype(np.uint8))
    flipped = [np.sign([bqm.get_linear(v) for v in bqm.variables]) for bqm in device.received]
    assert len(flipped) == 5 and not all(np.array_equal(f, flipped[0]) for f in flipped)  # transforms differ


def test_the_device_gets_the_programmed_problem_without_transforms():
    graph = topology.chimera(1)
    device = GroundStateDevice("sorted")
    s = QPUSampler(device, graph=graph, beta_estimator=None, num_spin_reversal_transforms=0, beta_eff=2.0, seed=0)
    rng = np.random.default_rng(0)
    bm = qhvae.BoltzmannMachine.from_arrays(rng.uniform(-1, 1, 8), (graph.edges, rng.uniform(-1, 1, graph.num_edges)))
    s.sample_bm(bm, 10, seed=0)
    programmed, report = s.program(bm, s.placement(graph))
    (received,) = device.received
    assert list(received.variables) == list(programmed.variables) and received == programmed
    assert report == {"clipped_h": 0, "clipped_j": 0, "dropped_couplings": 0}


def test_dead_couplers_are_masked_whatever_the_machines_edge_order():
    """The placement's edge mask follows the graph's edge order; a machine listing its couplings in
    another order must still lose exactly the dead coupler."""
    graph = topology.chimera(1)
    device = QPUEmulator("chimera", (1, 1, 4), noise="ideal", broken_edges=[(0, 4)], seed=0)
    s = QPUSampler(device, graph=graph, beta_estimator=None, num_spin_reversal_transforms=0, seed=0)
    placement = s.placement(graph)
    dead = {tuple(sorted(e)) for e, ok in zip(graph.edges.tolist(), placement.edge_mask, strict=True) if not ok}
    assert len(dead) == 1
    rng = np.random.default_rng(0)
    w = rng.uniform(0.5, 1.0, graph.num_edges)
    order = np.arange(graph.num_edges)[::-1]  # same couplings, reversed
    bm = qhvae.BoltzmannMachine.from_arrays(rng.uniform(-1, 1, 8), (graph.edges[order], w[order]))
    bqm, report = s.program(bm, placement)
    assert report["dropped_couplings"] == 1
    qubit_of = dict(enumerate(np.asarray(placement.qubits).tolist()))
    programmed = {tuple(sorted((u, v))) for u, v in bqm.quadratic}
    expected = {tuple(sorted((qubit_of[i], qubit_of[j]))) for i, j in graph.edges.tolist()
                if tuple(sorted((i, j))) not in dead}
    assert programmed == expected
    assert s.sample_bm(bm, 20, seed=1).samples.shape == (20, 8)


class BinaryAnswers(GroundStateDevice):
    """A broken device (or plugin) that answers 0/1 samples to a SPIN problem, labelled ``vartype``."""

    def __init__(self, vartype):
        super().__init__("sorted")
        self.vartype = vartype

    def sample(self, bqm, num_reads=1, **kwargs):
        labels = list(bqm.variables)
        values = np.random.default_rng(0).integers(0, 2, (num_reads, len(labels))).astype(np.int8)
        return dimod.SampleSet.from_samples((values, labels), self.vartype, 0.0)


@pytest.mark.parametrize("vartype", ["BINARY", "SPIN"])
def test_answers_that_are_not_spins_are_refused(vartype):
    graph = topology.chimera(1)
    s = QPUSampler(BinaryAnswers(vartype), graph=graph, beta_estimator=None, num_spin_reversal_transforms=2, seed=0)
    bm = qhvae.BoltzmannMachine.from_arrays(np.zeros(8), (graph.edges, np.zeros(graph.num_edges)))
    with pytest.raises(qhvae.samplers.SamplerError, match="other than -1/\\+1"):
        s.sample_bm(bm, 10, seed=0)


def test_beta_eff_is_estimated_on_every_kth_call_only_and_resumes_the_count():
    """``estimate_every``: the calls between two estimates keep the last one (and cost no estimate)."""
    import qhvae
    from qhvae import topology

    g = topology.chimera(1)
    sampler = qhvae.get_sampler("emulator", graph=g, noise_profile="ideal", estimate_every=3, calibrate=False,
                                num_sweeps=16)
    rng = np.random.default_rng(0)
    b, w = rng.uniform(-1, 1, g.num_nodes), rng.uniform(-1, 1, g.num_edges)
    stamps = []
    for call in range(5):
        info = sampler.sample_bm(qhvae.BoltzmannMachine.from_arrays(b, (g.edges, w)), 64, seed=call).info
        stamps.append("beta_eff_stderr" in info)
    assert stamps == [True, False, False, True, False]
    assert sampler.beta_history[1] != sampler.beta_history[0]  # estimated on call 0
    assert sampler.beta_history[2] == sampler.beta_history[1] == sampler.beta_history[3]
    restored = qhvae.get_sampler("emulator", graph=g, noise_profile="ideal", estimate_every=3, calibrate=False,
                                 num_sweeps=16)
    restored.set_state(sampler.get_state())
    info = restored.sample_bm(qhvae.BoltzmannMachine.from_arrays(b, (g.edges, w)), 64, seed=5).info
    assert "beta_eff_stderr" not in info  # call 5: not due (0, 3, 6, ...)
    with pytest.raises(ValueError, match="estimate_every must be a positive integer"):
        qhvae.get_sampler("emulator", graph=g, estimate_every=0)
