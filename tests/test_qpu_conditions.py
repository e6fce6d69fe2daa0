"""Conditional sampling on a QPU: per-condition h, or the machine's own h plus flux biases."""

import itertools

import dimod
import numpy as np
import pytest

from qhvae import topology
from qhvae.exceptions import ConfigError
from qhvae.samplers.conditions import ChainConditions
from qhvae.samplers.machine import BoltzmannMachine
from qhvae.samplers.qpu import QPUEmulator, QPUSampler
from qhvae.samplers.qpu.emulator import NoiseProfile
from qhvae.samplers.qpu.flux import FLUX_BIAS_CONSTANTS

pytestmark = pytest.mark.filterwarnings("ignore:.*parameter is valid for DWaveSampler")

GRAPH = topology.chimera(1)  # 8 units, K_{4,4}: 256 states to enumerate
BIASES = np.array(
    [
        [-1.5, 0.5, 1.0, 0.0, -0.5, 0.3, 1.2, -0.8],
        [1.0, -1.0, 0.0, 0.8, 0.6, -1.2, -0.4, 0.2],
        [0.0, 0.0, 2.0, -2.0, 0.5, 0.5, -0.5, 0.0],
    ]
)
CHAINS = 1500  # per condition


def machine() -> BoltzmannMachine:
    rng = np.random.default_rng(0)
    return BoltzmannMachine.from_arrays(
        rng.normal(0.0, 0.5, GRAPH.num_nodes), (GRAPH.edges, rng.normal(0.0, 0.7, GRAPH.num_edges))
    )


def exact_means(bm: BoltzmannMachine, biases: np.ndarray) -> np.ndarray:
    """Per-unit ``E[z]`` of ``exp(-E)`` with linear biases ``biases``, by enumeration."""
    z = np.array(list(itertools.product([0, 1], repeat=bm.num_variables)), np.float64)
    energy = z @ biases + (bm.weights * z[:, bm.edges[:, 0]] * z[:, bm.edges[:, 1]]).sum(axis=1)
    p = np.exp(-(energy - energy.min()))
    return (p / p.sum()) @ z


def qpu(condition_with: str, **options) -> QPUSampler:
    # beta_eff known and fixed: the programmed problem is sampled exactly at beta = 1.
    device = QPUEmulator("chimera", (1, 1, 4), noise=NoiseProfile(name="fixed", fixed_beta=1.0, sweeps=64), seed=0)
    return QPUSampler(
        device,
        graph=GRAPH,
        beta_eff=1.0,
        beta_estimator=None,
        num_spin_reversal_transforms=4,
        condition_with=condition_with,
        seed=0,
        **options,
    )


def conditional(sampler: QPUSampler, bm: BoltzmannMachine):
    ids = np.repeat(np.arange(len(BIASES)), CHAINS)
    ids = ids[np.random.default_rng(1).permutation(ids.size)]  # the groups interleaved
    result = sampler.sample_bm(bm, ids.size, seed=2, conditions=_conditions(ids))
    return ids, result


def _conditions(ids):
    return ChainConditions.build(ids.size, GRAPH.num_nodes, condition_ids=ids, condition_biases=BIASES)


def test_flux_biases_sample_the_conditions_like_h_and_like_enumeration():
    bm = machine()
    by_h, by_flux = qpu("h"), qpu("flux_biases")
    ids, h_result = conditional(by_h, bm)
    _, flux_result = conditional(by_flux, bm)
    assert flux_result.info["condition_with"] == "flux_biases" and flux_result.info["conditions"] == 3
    assert "condition_with" not in h_result.info
    # The emulator sampled the machine's own h plus the flux biases' h: the condition's h.
    last = by_flux.device.last_call
    assert last.h_flux is not None and np.abs(last.h_flux).max() > 0.1
    assert np.abs(last.h_programmed + last.h_flux).max() > 0
    for k, biases in enumerate(BIASES):
        exact = exact_means(bm, biases)
        stderr = np.sqrt(np.clip(exact * (1 - exact), 1e-4, None) / CHAINS)
        h_means = h_result.samples[ids == k].mean(axis=0)
        flux_means = flux_result.samples[ids == k].mean(axis=0)
        assert np.all(np.abs(h_means - exact) < 5 * stderr), (k, h_means, exact)
        assert np.all(np.abs(flux_means - exact) < 5 * stderr), (k, flux_means, exact)
        assert np.all(np.abs(flux_means - h_means) < 5 * np.sqrt(2) * stderr), (k, flux_means, h_means)


def test_the_emulator_turns_flux_biases_into_the_fields_h_would_program():
    bm = machine()
    by_h, by_flux = qpu("h"), qpu("flux_biases")
    ids = np.repeat([0], 8)
    cond = _conditions(ids)
    by_h.sample_bm(bm, 8, seed=3, conditions=cond, num_spin_reversal_transforms=0)
    by_flux.sample_bm(bm, 8, seed=3, conditions=cond, num_spin_reversal_transforms=0)
    h_call, flux_call = by_h.device.last_call, by_flux.device.last_call
    assert h_call.h_flux is None
    assert h_call.variables == flux_call.variables
    np.testing.assert_allclose(flux_call.h_programmed + flux_call.h_flux, h_call.h_programmed, atol=1e-9)
    np.testing.assert_allclose(flux_call.h_sampled, h_call.h_sampled, atol=1e-9)
    assert not np.allclose(flux_call.h_programmed, h_call.h_programmed)


def test_flux_bias_constants_default_to_h_to_fluxbias_and_are_checked():
    from dwave.system.temperatures import h_to_fluxbias

    assert FLUX_BIAS_CONSTANTS == {"B": 1.391, "Ip": None, "MAFM": 1.647}
    assert h_to_fluxbias(1.0) == h_to_fluxbias(1.0, **FLUX_BIAS_CONSTANTS)
    assert qpu("flux_biases", flux_bias_constants={"B": 2.0}).flux_bias_constants["B"] == 2.0
    with pytest.raises(ConfigError, match="flux_bias_constants"):
        qpu("flux_biases", flux_bias_constants={"Bs": 2.0})
    for bad in (-1.0, 0.0, float("nan"), float("inf"), True, "1.4"):
        with pytest.raises(ConfigError, match=r"flux_bias_constants\['B'\] must be a finite number > 0"):
            qpu("flux_biases", flux_bias_constants={"B": bad})
    with pytest.raises(ConfigError, match="condition_with"):
        qpu("fluxes")


def test_clamps_take_the_h_path():
    bm = machine()
    mask = np.zeros((2, GRAPH.num_nodes), bool)
    mask[:, 0] = True
    kwargs = dict(
        condition_ids=np.repeat([0, 1], 50),
        condition_biases=BIASES[:2],
        condition_clamp_mask=mask,
        condition_clamp_values=np.array([[1] + [0] * 7, [0] * 8]),
    )
    cond = ChainConditions.build(100, GRAPH.num_nodes, **kwargs)
    h_samples = qpu("h").sample_bm(bm, 100, seed=4, conditions=cond).samples
    flux_samples = qpu("flux_biases").sample_bm(bm, 100, seed=4, conditions=cond).samples
    np.testing.assert_array_equal(h_samples, flux_samples)
    assert (flux_samples[:50, 0] == 1).all() and (flux_samples[50:, 0] == 0).all()


def test_a_device_without_flux_biases_is_refused_naming_the_option():
    sampler = QPUSampler(qpu("h").device, graph=GRAPH, beta_estimator=None)
    nodes, edges = sampler.device.nodelist, sampler.device.edgelist
    plain = dimod.StructureComposite(dimod.RandomSampler(), nodes, edges)
    assert "flux_biases" not in plain.parameters
    QPUSampler(plain, graph=GRAPH, beta_estimator=None, schedule=None)  # the default needs no flux biases
    with pytest.raises(ConfigError, match="condition_with='flux_biases'.*flux_biases"):
        QPUSampler(plain, graph=GRAPH, beta_estimator=None, schedule=None, condition_with="flux_biases")


def test_mock_dwave_sampler_takes_the_flux_bias_call():
    from dwave.system.testing import MockDWaveSampler

    mock = MockDWaveSampler(topology_type="chimera", topology_shape=[1, 1, 4])
    assert "flux_biases" in mock.parameters
    calls = []
    sample = mock.sample

    def recording(bqm, **params):
        calls.append(params)
        return sample(bqm, **params)

    mock.sample = recording
    sampler = QPUSampler(
        mock, graph=GRAPH, beta_estimator=None, num_spin_reversal_transforms=2, condition_with="flux_biases", seed=0
    )
    ids = np.repeat([0, 1], 10)
    cond = ChainConditions.build(20, GRAPH.num_nodes, condition_ids=ids, condition_biases=BIASES[:2])
    samples = sampler.sample_bm(machine(), 20, seed=5, conditions=cond).samples
    assert samples.shape == (20, GRAPH.num_nodes)
    assert len(calls) == 4 and all(len(c["flux_biases"]) == mock.properties["num_qubits"] for c in calls)
    assert any(np.abs(c["flux_biases"]).max() > 0 for c in calls)
