"""Tools for testing samplers: the conformance kit plugin authors run in their own tests."""

from .conformance import CheckResult, ConformanceReport, assert_conforms, boltzmann_statistics, check_sampler
from .dimod_suite import dimod_test_case, run_dimod_suite

__all__ = ["CheckResult", "ConformanceReport", "assert_conforms", "boltzmann_statistics", "check_sampler",
           "dimod_test_case", "run_dimod_suite"]
