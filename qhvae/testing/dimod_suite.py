"""dimod's own generated sampler tests, for qhvae samplers and plugins.

Every qhvae sampler is a :class:`dimod.Sampler`, so it must pass the tests that dimod
generates for any sampler (:func:`dimod.testing.load_sampler_bqm_tests`: empty, single-variable,
disconnected and dense BQMs of both vartypes and every BQM class) and
:func:`dimod.testing.assert_sampler_api`. The conformance kit runs them
(:func:`qhvae.testing.check_sampler`), so a plugin gets them with no extra code; a test suite
can also collect them as ordinary tests with :func:`dimod_test_case`.

Example:
    >>> passed, failures = run_dimod_suite(lambda: __import__("qhvae").get_sampler("exact"))
    >>> passed, failures
    (True, [])
"""

from __future__ import annotations

import unittest
from collections.abc import Callable

import dimod
import dimod.testing

__all__ = ["dimod_test_case", "run_dimod_suite"]

#: dimod's generated BQMs go up to this many variables here: enough for every structure it
#: builds, small enough that a slow (QPU-shaped) sampler finishes in seconds.
DEFAULT_MAX_VARIABLES = 6


def dimod_test_case(factory: Callable[[], dimod.Sampler], name: str = "Sampler",
                    max_num_variables: int = DEFAULT_MAX_VARIABLES) -> type[unittest.TestCase]:
    """A :class:`unittest.TestCase` class holding dimod's generated tests for one sampler.

    Args:
        factory: builds the sampler (called for every test, so each starts fresh).
        name: the sampler's name, used in the class name that test reports show.
        max_num_variables: the largest BQM dimod generates.

    Returns:
        The class; assign it to a module-level name in a test module for pytest to collect it.
    """

    def test_sampler_api(self):
        dimod.testing.assert_sampler_api(factory())

    factory.__name__ = name.replace("-", "_")
    cls = type(f"TestDimod_{factory.__name__}", (unittest.TestCase,), {"test_sampler_api": test_sampler_api})
    return dimod.testing.load_sampler_bqm_tests(factory, max_num_variables=max_num_variables)(cls)


def run_dimod_suite(factory: Callable[[], dimod.Sampler], name: str = "Sampler",
                    max_num_variables: int = DEFAULT_MAX_VARIABLES) -> tuple[bool, list[str]]:
    """Run dimod's generated tests on the sampler ``factory`` builds.

    Returns:
        ``(passed, failures)``, each failure as ``"test name: first line of the error"``.
    """
    case = dimod_test_case(factory, name, max_num_variables)
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(case)
    result = unittest.TestResult()
    suite.run(result)
    failures = []
    for test, trace in result.failures + result.errors:
        last = [line for line in trace.strip().splitlines() if line.strip()][-1]
        failures.append(f"{test.id().rsplit('.', 1)[-1]}: {last}")
    return not failures, failures
