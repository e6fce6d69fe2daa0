"""dimod's own generated sampler tests on every built-in sampler (issue: reliability).

Each class below is :func:`dimod.testing.load_sampler_bqm_tests` plus
:func:`dimod.testing.assert_sampler_api` for one built-in, collected by pytest as ordinary
tests: empty, one-variable, disconnected and dense BQMs of both vartypes and every BQM class.
"""

import pytest

import qhvae
from qhvae.testing import check_sampler, dimod_test_case

TestDimodExact = dimod_test_case(lambda: qhvae.get_sampler("exact"), "exact")
TestDimodGibbs = dimod_test_case(lambda: qhvae.get_sampler("gibbs"), "gibbs")
TestDimodPopulationAnnealing = dimod_test_case(lambda: qhvae.get_sampler("pa"), "pa")
TestDimodSimulatedAnnealing = dimod_test_case(lambda: qhvae.get_sampler("sa"), "sa")
TestDimodEmulatedAnnealer = dimod_test_case(lambda: qhvae.get_sampler("emulator"), "emulator", max_num_variables=3)


def test_empty_bqm_gives_empty_samples_with_the_offset_as_energy():
    import dimod

    bqm = dimod.BinaryQuadraticModel({}, {}, 1.25, "BINARY")
    ss = qhvae.get_sampler("gibbs").sample(bqm, num_reads=4, seed=0)
    assert len(ss) == 4 and len(ss.variables) == 0 and ss.vartype is dimod.BINARY
    assert list(ss.record.energy) == [1.25] * 4
    with pytest.raises(ValueError, match="num_reads must be a positive integer"):
        qhvae.get_sampler("gibbs").sample(bqm, num_reads=0)


def test_conformance_kit_runs_dimods_tests():
    report = check_sampler("exact", quick=True)
    assert "dimod's generated sampler tests" in [c.name for c in report.checks]
    assert report.passed, str(report)


def test_conformance_kit_reports_a_sampler_that_fails_dimods_tests():
    """A sampler that refuses the empty BQM (as the built-ins did) fails the kit's dimod check."""
    import dimod

    class RefusesEmpty(type(qhvae.get_sampler("exact"))):
        def sample(self, bqm, num_reads=100, seed=None, **params):
            if bqm.num_variables == 0:
                raise ValueError("the BQM has no variables")
            return super().sample(bqm, num_reads=num_reads, seed=seed, **params)

    report = check_sampler(RefusesEmpty(), quick=True)
    dimod_check = next(c for c in report.checks if c.name == "dimod's generated sampler tests")
    assert not dimod_check.passed and "empty" in dimod_check.message
    assert isinstance(dimod.SampleSet, type)
