"""Tools for testing samplers: the conformance kit plugin authors run in their own tests."""

from .conformance import CheckResult, ConformanceReport, assert_conforms, boltzmann_statistics, check_sampler

__all__ = ["CheckResult", "ConformanceReport", "assert_conforms", "boltzmann_statistics", "check_sampler"]
