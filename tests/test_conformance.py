"""The conformance kit passes the built-ins and catches deliberately broken samplers."""

import numpy as np
import pytest

import qhvae
from qhvae.samplers.base import BoltzmannSampler, SampleResult
from qhvae.testing import assert_conforms, check_sampler


@pytest.mark.parametrize("name", ["exact", "gibbs", "pa", "sa"])
def test_builtins_conform(name):
    report = assert_conforms(name, quick=True)
    assert len(report.checks) == 10  # the 9 contract checks (conditional sampling the 9th) and dimod's generated tests
    assert "dimod's generated sampler tests" in [c.name for c in report.checks]


class _Exact(BoltzmannSampler):
    """Exact samples, optionally of a distorted model: the base of the broken samplers."""

    name = "broken"

    def __init__(self, beta=1.0, bias_shift=0.0):
        self.exact = qhvae.get_sampler("exact")
        self.beta, self.bias_shift = beta, bias_shift

    def _sample(self, bm, num_samples, seed, **params):
        distorted = qhvae.BoltzmannMachine.from_arrays(
            self.beta * bm.linear + self.bias_shift, (bm.edges, self.beta * bm.weights))
        return SampleResult(self.exact.sample_bm(distorted, num_samples, seed=seed).samples)


class WrongShape(_Exact):
    def _sample(self, bm, num_samples, seed, **params):
        return SampleResult(super()._sample(bm, num_samples, seed).samples[:, :-1])


class Spins(_Exact):
    def _sample(self, bm, num_samples, seed, **params):
        return SampleResult(2 * super()._sample(bm, num_samples, seed).samples.astype(int) - 1)


class IgnoresSeed(_Exact):
    def _sample(self, bm, num_samples, seed, **params):
        return super()._sample(bm, num_samples, np.random.SeedSequence(42))


class AcceptsNaN(BoltzmannSampler):
    name = "nan-friendly"

    def sample_arrays(self, linear, quadratic, num_samples, **kwargs):
        return np.zeros((num_samples, len(linear)), np.uint8)

    def _sample(self, bm, num_samples, seed, **params):
        return SampleResult(np.random.default_rng(seed).integers(0, 2, (num_samples, bm.num_variables)))


def failures(sampler):
    report = check_sampler(sampler, quick=True)
    assert not report.passed
    return "\n".join(report.failures)


def test_catches_wrong_shape():
    text = failures(WrongShape())
    assert "fast array path" in text and "returned samples of shape (7, 0); expected (7, 1)" in text


def test_catches_wrong_vartype():
    text = failures(Spins())
    assert "outside {0, 1} (looks like spins" in text


def test_catches_a_sampler_at_the_wrong_temperature():
    text = failures(_Exact(beta=1.3))
    assert "Boltzmann at beta = 1 on chimera(1)" in text and "worst statistic" in text


def test_catches_biased_fields():
    text = failures(_Exact(bias_shift=0.15))
    assert "Boltzmann at beta = 1" in text and "exact" in text


def test_catches_ignored_seed():
    text = failures(IgnoresSeed())
    assert "different seeds gave identical samples: the seed is ignored" in text
    assert "every batch gave identical statistics" in text


def test_catches_accepting_nan_and_uniform_noise():
    text = failures(AcceptsNaN())
    assert "NaN parameters were accepted" in text
    assert "Boltzmann at beta = 1" in text


def test_report_is_readable():
    report = check_sampler("exact", quick=True)
    text = str(report)
    assert text.startswith("conformance of sampler 'exact' (from package qhvae): PASSED")
    assert text.count("[ok]") == 10  # 9 contract checks and dimod's generated tests


def test_not_a_sampler():
    report = check_sampler(object())
    assert not report.passed and "subclass qhvae.BoltzmannSampler" in report.failures[0]


class RandomChip(_Exact):
    """Draws a random row order when built: right distribution, repeatable per instance, not per seed."""

    def __init__(self):
        super().__init__()
        self.order = np.random.default_rng().permutation(64)

    def _sample(self, bm, num_samples, seed, **params):
        samples = super()._sample(bm, num_samples, seed).samples
        return SampleResult(samples[self.order] if num_samples == 64 else samples)


class LazyChip(RandomChip):
    """The same, drawn on the first call (an instance copied before it is used cannot tell)."""

    def __init__(self):
        _Exact.__init__(self)
        self.order = None

    def _sample(self, bm, num_samples, seed, **params):
        if self.order is None:
            self.order = np.random.default_rng().permutation(64)
        return super()._sample(bm, num_samples, seed)


FRESH_CHECK = "two fresh instances, same seed, same samples"


@pytest.mark.parametrize("given", [RandomChip, LazyChip(), LazyChip])
def test_catches_random_state_that_the_seed_does_not_fix(given):
    """Issue #22: every plugin is checked for the same seed giving the same samples from fresh instances."""
    report = check_sampler(given, quick=True, dimod_suite=False)
    failed = {c.name: c.message for c in report.checks if not c.passed}
    assert set(failed) == {FRESH_CHECK}, report
    assert "fresh instances gave different samples" in failed[FRESH_CHECK]


def test_fresh_instances_of_a_name_or_a_builder_are_checked():
    for given in ("gibbs", lambda: qhvae.get_sampler("exact")):
        check = next(c for c in check_sampler(given, quick=True, dimod_suite=False).checks if c.name == FRESH_CHECK)
        assert check.passed and not check.message


class IgnoresConditions(_Exact):
    """Conditions 'natively', wrongly: the unconditional machine's samples with the clamps pasted in."""

    def _sample_conditioned(self, bm, conditions, num_samples, seed, **params):
        return SampleResult(conditions.apply_clamps(self._sample(bm, num_samples, seed).samples))


def test_a_sampler_that_ignores_conditions_fails_the_conditional_check():
    report = check_sampler(IgnoresConditions(), quick=True, dimod_suite=False)
    failed = [c.name for c in report.checks if not c.passed]
    assert failed == ["conditional sampling (clamped units, per-chain biases) on the first model"], report
