"""The annealer's effective temperature (``qhvae.samplers.qpu.temperature``, issue #12): the C3 update
converges at every size, and a fresh sampler is calibrated.

The hardware is the emulator with a known, fixed ``beta_eff`` (the ``ideal`` profile: no
control errors, no drift), so the right answer is known exactly.
"""

import math

import dimod
import numpy as np
import pytest

import qhvae
from qhvae import topology
from qhvae.samplers.qpu import PROFILES, BetaEffEstimator, QPUEmulator, QPUSampler
from qhvae.testing.statistics import check_moments_iid, exact_moments, exact_target, random_bm


def fixed_beta_device(cells: int, beta: float, sweeps: int, seed: int = 0) -> QPUEmulator:
    """A Chimera emulator of ``cells x cells`` unit cells that samples at exactly ``beta``."""
    return QPUEmulator("chimera", (cells, cells, 4), noise=PROFILES["ideal"].replace(fixed_beta=beta, sweeps=sweeps),
                       seed=seed)


def hardware_reads(device: QPUEmulator, programmed: dimod.BinaryQuadraticModel, reads: int, seed: int) -> np.ndarray:
    """``(reads, n)`` spins of the device for ``programmed``, columns in the BQM's variable order."""
    ss = device.sample(programmed, num_reads=reads, auto_scale=False, answer_mode="raw", seed=seed)
    position = {v: i for i, v in enumerate(ss.variables)}
    return ss.record.sample[:, [position[v] for v in programmed.variables]]


def run_c3(cells: int, start: float, updates: int, true_beta: float = 0.5, reads: int = 500,
           aux_samples: int = 500, **options) -> tuple[list[float], float]:
    """``updates`` C3 updates (default step unless ``options`` say otherwise), from ``start``;
    the estimates and the last estimate's statistical error.

    The problem is programmed at the current estimate and read from the device, exactly as
    the QPU sampler does; the estimator is driven directly so that nothing but its update
    rule moves the estimate.

    The statistical error of the C3 fixed point, ``<H>_beta = mean of the hardware energies``,
    is ``sqrt(Var(H) (1 / N_hw + 1 / N_aux)) / Var(H)`` (the derivative of ``<H>_beta`` is
    ``-Var(H)``; the hardware and auxiliary means are independent), computed here from the
    last batch's own energies.
    """
    graph = topology.chimera(cells)
    device = fixed_beta_device(cells, true_beta, sweeps=64)
    bm = random_bm(graph, seed=cells, scale=1.0)
    programmer = QPUSampler(device, graph=graph, beta_estimator=None, seed=0)  # programs, never estimates
    estimator = BetaEffEstimator("c3", aux_samples=aux_samples, **options)
    beta, history = start, []
    for k in range(updates):
        programmer.effective_beta = beta
        programmed, _ = programmer.program(bm, programmer.placement(graph))
        spins = hardware_reads(device, programmed, reads, seed=k)
        beta = estimator.update(beta, programmed, spins, list(programmed.variables), seed=1000 + k)
        history.append(beta)
    energy = programmed.energies((spins, list(programmed.variables)))
    stderr = math.sqrt(energy.var() * (1 / reads + 1 / aux_samples)) / energy.var()
    # the estimator reports the same error (from its auxiliary samples' variance)
    assert estimator.last_stderr == pytest.approx(stderr, rel=0.5)
    return history, stderr


@pytest.mark.parametrize("start", [0.1, 3.0])
def test_c3_converges_on_a_288_unit_chimera_from_far_starts(start):
    """With the paper's default fixed step the estimate oscillated or crawled here (the step
    times Var(H) was about 2.8, above the stable limit of 2); the damped Newton step gets
    within a few statistical errors of the truth in 12 updates from either side."""
    history, stderr = run_c3(6, start, updates=12)
    assert stderr < 0.01  # the tolerance below is sharp: a few percent of beta at most
    # Six standard errors: the population-annealing auxiliary samples are correlated
    # through resampling (fewer effective samples than N_aux), and a damped estimate
    # fluctuates less than one batch's error, so this is a loose but honest bound.
    tolerance = 6 * stderr
    assert abs(history[-1] - 0.5) < tolerance, (history, tolerance)
    assert all(abs(b - 0.5) < 2 * tolerance for b in history[-3:]), (history, tolerance)  # settled, not passing by


@pytest.mark.parametrize("start", [0.1, 3.0])
def test_c3_converges_on_a_small_graph_from_far_starts(start):
    history, stderr = run_c3(1, start, updates=12, reads=2000, aux_samples=2000)
    assert abs(history[-1] - 0.5) < 6 * stderr, (history, stderr)


def test_c3_step_cannot_oscillate_even_with_the_papers_fixed_step():
    """The paper's fixed step with a learning_rate far above its stable limit
    (``learning_rate * Var(H) >> 2``) is capped by the damped Newton step."""
    history, stderr = run_c3(1, 0.3, updates=10, reads=2000, aux_samples=2000, learning_rate=10.0)
    assert abs(history[-1] - 0.5) < 6 * stderr, (history, stderr)


@pytest.mark.parametrize("options, match", [
    ({"damping": 0}, "0 would never move beta_eff"),
    ({"damping": 1.5}, "damping must be a finite number >= 0 and <= 1"),
    ({"learning_rate": -0.1}, "learning_rate must be a finite number > 0"),
    ({"bounds": (2.0, 1.0)}, r"0 < low < high"),
    ({"aux_samples": 10.5}, "aux_samples must be a positive integer"),
])
def test_estimator_options_are_checked(options, match):
    with pytest.raises(ValueError, match=match):
        BetaEffEstimator("c3", **options)


# ------------------------------------------------------------------------- calibration


@pytest.mark.parametrize("true_beta", [0.4, 2.5])
@pytest.mark.parametrize("method", ["mpl", "c3"])
def test_the_first_call_is_already_at_the_models_temperature(method, true_beta):
    """A fresh sampler starts at beta_eff = 1; its first samples must follow the model anyway."""
    graph = topology.chimera(1)
    bm = random_bm(graph, seed=3, scale=1.0)
    sampler = qhvae.get_sampler("emulator", noise_profile=PROFILES["ideal"].replace(fixed_beta=true_beta, sweeps=256),
                                topology_type="chimera", topology_shape=[2, 2, 4], graph=graph,
                                beta_estimator=method, seed=0)
    assert sampler.effective_beta == 1.0
    first = sampler.sample_bm(bm, 4000, seed=1)
    # Every <z_i> and <z_i z_j> within its sampling error (exact binomial tests, Bonferroni over all of them).
    target = exact_target(bm)
    report = check_moments_iid(first.samples, target.moments, target.spec, f"{method}, first call")
    assert report.passed, report
    assert sampler.calibrated and first.info["calibration"]["calibrated"]
    assert sampler.effective_beta == pytest.approx(true_beta, rel=0.1)
    assert len(sampler.beta_history) == 2  # calibration adds reads, not history entries
    # Negative control: the same first call without calibration is far off.
    plain = qhvae.get_sampler("emulator", noise_profile=PROFILES["ideal"].replace(fixed_beta=true_beta, sweeps=256),
                              topology_type="chimera", topology_shape=[2, 2, 4], graph=graph,
                              beta_estimator=method, calibrate=False, seed=0)
    uncalibrated = plain.sample_bm(bm, 4000, seed=1).samples
    assert not check_moments_iid(uncalibrated, target.moments, target.spec, f"{method}, uncalibrated").passed
    means = exact_moments(bm)[0]
    assert np.abs(uncalibrated.mean(0) - means).max() > 5 * np.abs(first.samples.mean(0) - means).max()


def test_an_uninformative_first_call_leaves_calibration_for_later():
    """An all-zero prior (a VAE's first step) says nothing about the temperature: no extra
    reads, and the first informative call calibrates."""
    graph = topology.chimera(1)
    device = fixed_beta_device(2, 2.5, sweeps=256)
    sampler = QPUSampler(device, graph=graph, seed=0)
    zero = sampler.sample_bm(qhvae.BoltzmannMachine.from_arrays(np.zeros(8), (graph.edges, np.zeros(16))), 500, seed=0)
    assert sampler.effective_beta == 1.0
    bm = random_bm(graph, seed=3, scale=1.0)
    first = sampler.sample_bm(bm, 4000, seed=1)
    target = exact_target(bm)
    report = check_moments_iid(first.samples, target.moments, target.spec, "first informative call")
    assert report.passed, report
    assert zero.info["calibration"]["reads"] == 0 and not zero.info["calibration"]["calibrated"]
    assert sampler.calibrated and first.info["calibration"]["reads"] > 0


def test_calibration_survives_a_checkpoint():
    graph = topology.chimera(1)
    bm = random_bm(graph, seed=3, scale=1.0)
    sampler = QPUSampler(fixed_beta_device(2, 2.5, sweeps=256), graph=graph, seed=0)
    sampler.sample_bm(bm, 2000, seed=1)
    restored = QPUSampler(fixed_beta_device(2, 2.5, sweeps=256), graph=graph, seed=0)
    restored.set_state(sampler.get_state())
    assert restored.calibrated
    assert "calibration" not in restored.sample_bm(bm, 2000, seed=2).info  # no second calibration
    fresh = QPUSampler(fixed_beta_device(2, 2.5, sweeps=256), graph=graph, seed=0)
    fresh.set_state(QPUSampler(fixed_beta_device(2, 2.5, sweeps=256), graph=graph, seed=0).get_state())
    assert not fresh.calibrated  # a state saved before any call calibrates after the restore
