"""Samples are Boltzmann at beta = 1: moments against exact enumeration, with controls.

Tolerances come from the sample size (see ``qhvae.testing.statistics.check_moments_iid``): every
statistic's count is exactly binomial at its exact value ``m`` (standard error ``sqrt(m (1 - m) / N)``),
its p-value is Bonferroni-corrected at family-wise rate 1e-4, and the seeds are fixed, so each test
is deterministic. Controls show the test has power (raw SQA read-outs fail) and is not
too strict (qhvae's exact sampler passes).
"""

import numpy as np
import pytest
from scipy import stats

import qhvae
from qhvae.testing.statistics import ALPHA, check_moments_iid, exact_moments, exact_target, random_bm

MODELS = {
    "chimera(1) 8 units, U(-2, 2)": (qhvae.topology.chimera(1), 1, 2.0),
    "chimera(1, 1, 6) 12 units, U(-2, 2)": (qhvae.topology.chimera(1, 1, 6), 2, 2.0),
    "full(10) frustrated, U(-1, 1)": (qhvae.topology.full(10), 3, 1.0),
}
N = 10_000


def model(name):
    graph, seed, scale = MODELS[name]
    return random_bm(graph, seed, scale)


def moments(bm, samples, name):
    """Every ``<z_i>`` and ``<z_i z_j>`` of i.i.d. ``samples`` against exact enumeration."""
    target = exact_target(bm)
    return check_moments_iid(samples, target.moments, target.spec, name)


@pytest.mark.parametrize("name", list(MODELS))
def test_moments_match_exact_enumeration(sqa, name):
    bm = model(name)
    samples = sqa.sample_bm(bm, N, seed=2024).samples
    report = moments(bm, samples, name)
    assert report.passed, report

    # Mean energy, with its exact standard error.
    _, _, mean_e, log_z = exact_moments(bm)
    k = np.arange(2**bm.num_variables, dtype=np.int64)
    states = ((k[:, None] >> np.arange(bm.num_variables)) & 1).astype(np.float64)
    e = bm.energies(states)
    var_e = float(np.exp(-e - log_z) @ (e - mean_e) ** 2)
    z = abs(bm.energies(samples).mean() - mean_e) / np.sqrt(var_e / N)
    assert z <= stats.norm.ppf(1 - ALPHA / 2), f"{name}: <E> off by {z:.2f} standard errors"


def test_enumeration_agrees_with_qhvae_exact_sampler():
    exact = qhvae.get_sampler("exact")
    for name in MODELS:
        bm = model(name)
        assert np.isclose(exact_moments(bm)[3], exact.log_partition(bm), rtol=0, atol=1e-9)


def test_positive_control_exact_sampler_passes():
    bm = model("chimera(1) 8 units, U(-2, 2)")
    samples = qhvae.get_sampler("exact").sample_bm(bm, N, seed=2024).samples
    report = moments(bm, samples, "exact sampler")
    assert report.passed, report


@pytest.mark.parametrize("anneal_beta", [1.0, 8.0])
def test_negative_control_raw_sqa_is_not_boltzmann(sqa, anneal_beta):
    """Without the classical finish the SQA read-out freezes out: too hot at beta = 1, too cold at beta = T."""
    bm = model("chimera(1) 8 units, U(-2, 2)")
    samples = sqa.sample_bm(bm, 2000, seed=7, anneal_beta=anneal_beta, equilibration_sweeps=0).samples
    report = moments(bm, samples, f"raw SQA at anneal_beta {anneal_beta}")
    assert not report.passed and report.values["moments_max_z"] > 10, report
