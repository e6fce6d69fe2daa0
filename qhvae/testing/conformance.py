"""Conformance kit: check that a sampler honours the qhvae sampler contract.

Plugin authors run it in their own test suite::

    from qhvae.testing import assert_conforms

    def test_my_sampler_conforms():
        assert_conforms(MySampler())

It checks the dimod Sampler API (and runs dimod's own generated sampler tests), both vartypes, the fast
array path, seeding, output validation and, most importantly, that the samples follow the Boltzmann distribution at
beta = 1, against exact enumeration on small graphs.

Seeding is checked twice: one instance called twice with one seed, and two fresh instances
called alike (the same seed must give the same run, so a sampler may own no random state
that its calls' seeds do not fix: a device drawn at random when built, a generator seeded
from the clock on its first call). Pass the sampler by name, or a class or function that
builds it (``assert_conforms(MySampler)``), so that the kit builds the two instances; an
instance is copied before its first call, which cannot see what its constructor drew.

How the Boltzmann check decides (no tuned tolerances): the samples are drawn in ``B``
independent batches (separate calls with separate seeds; persistent samplers are reset
before each batch). For each statistic (every unit mean ``<z_i>``, every pair
correlation ``<z_i z_j>`` and the mean energy) the batch means give a Student-t statistic
``t = (mean - exact) / (sd / sqrt(B))`` with ``B - 1`` degrees of freedom. Batch means
capture any correlation between the samples of one call (population-annealing replicas,
Gibbs chains), so the error bar is honest for every kind of sampler. The critical value
is the two-sided Student-t quantile at a family-wise false-alarm rate ``alpha`` (default
1e-3) split over all statistics (Bonferroni): a correct sampler fails with probability
below ``alpha``, and a sampler whose bias exceeds a few error bars fails.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import dimod
import numpy as np
from scipy import stats

from ..samplers.base import BoltzmannSampler
from ..samplers.conditions import ChainConditions, reduced_machine
from ..samplers.machine import BoltzmannMachine
from ..topology import LatentGraph, chimera, full
from .dimod_suite import run_dimod_suite
from .statistics import exact_moments

__all__ = ["CheckResult", "ConformanceReport", "check_sampler", "assert_conforms", "boltzmann_statistics"]


@dataclass
class CheckResult:
    """One named check and what it found."""

    name: str
    passed: bool
    message: str = ""


@dataclass
class ConformanceReport:
    """The outcome of :func:`check_sampler`.

    Attributes:
        sampler: the label of the sampler checked.
        checks: every check run, in order.
    """

    sampler: str
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> list[str]:
        return [f"{c.name}: {c.message}" for c in self.checks if not c.passed]

    def __str__(self) -> str:
        lines = [f"conformance of {self.sampler}: {'PASSED' if self.passed else 'FAILED'}"]
        for c in self.checks:
            lines.append(f"  [{'ok' if c.passed else 'FAIL'}] {c.name}" + (f": {c.message}" if c.message else ""))
        return "\n".join(lines)


def _exact_moments(bm: BoltzmannMachine) -> tuple[np.ndarray, np.ndarray, float]:
    """Exact ``<z_i>``, ``<z_i z_j>`` (i < j) and ``<E>`` of a small model, by enumeration."""
    means, pairs, mean_energy, _ = exact_moments(bm)
    return means, pairs[np.triu_indices(bm.num_variables, 1)], mean_energy


def boltzmann_statistics(
    bm: BoltzmannMachine, batches: list[np.ndarray], alpha: float = 1e-3
) -> tuple[bool, str, float]:
    """Compare batches of samples of ``bm`` with its exact moments (see the module docstring).

    Returns:
        ``(passed, message, worst |t| over critical value)``.
    """
    b = len(batches)
    if b < 3:
        raise ValueError("need at least 3 batches for batch-means error bars")
    means, pairs, energy = _exact_moments(bm)
    iu = np.triu_indices(bm.num_variables, 1)
    rows = []
    for s in batches:
        zf = s.astype(np.float64)
        rows.append(np.concatenate([zf.mean(0), ((zf.T @ zf) / len(zf))[iu], [bm.energies(s).mean()]]))
    per_batch = np.array(rows)
    exact = np.concatenate([means, pairs, [energy]])
    names = ([f"<z_{i}>" for i in range(bm.num_variables)] + [f"<z_{i} z_{j}>" for i, j in zip(*iu, strict=True)]
             + ["<E>"])
    mean = per_batch.mean(0)
    se = per_batch.std(0, ddof=1) / np.sqrt(b)
    if np.all(per_batch == per_batch[0]):
        return False, "every batch gave identical statistics: the sampler ignores its seed or is deterministic", np.inf
    critical = stats.t.ppf(1 - alpha / (2 * exact.size), df=b - 1)
    # A statistic with zero spread (e.g. a unit frozen at 0 in every sample) is compared exactly.
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(se > 0, np.abs(mean - exact) / se, np.where(np.isclose(mean, exact, atol=1e-12), 0, np.inf))
    worst = int(np.argmax(t))
    ratio = float(t[worst] / critical)
    msg = (f"worst statistic {names[worst]}: sampled {mean[worst]:.4f} ± {se[worst]:.4f}, exact "
           f"{exact[worst]:.4f} (|t| = {t[worst]:.2f}, critical {critical:.2f} at family-wise alpha {alpha:g} "
           f"over {exact.size} statistics, {b} batches of {len(batches[0])})")
    return bool(ratio <= 1.0), msg, ratio


def _reference_models(seed: int) -> list[tuple[str, BoltzmannMachine]]:
    rng = np.random.default_rng(seed)
    out = []
    graph: LatentGraph
    for graph, scale in ((chimera(1), 1.0), (full(6), 1.0)):
        b = rng.uniform(-scale, scale, graph.num_nodes)
        w = rng.uniform(-scale, scale, graph.num_edges)
        name = f"{graph.name} with b, W ~ U(-{scale}, {scale})"
        out.append((name, BoltzmannMachine.from_arrays(b, (graph.edges, w))))
    return out


def _reset(sampler: BoltzmannSampler) -> None:
    if sampler.persistent:
        sampler.set_state({})


def _check(report: ConformanceReport, name: str, fn: Callable[[], str | None]) -> None:
    try:
        message = fn() or ""
        report.checks.append(CheckResult(name, True, message))
    except AssertionError as exc:
        report.checks.append(CheckResult(name, False, str(exc)))
    except Exception as exc:
        report.checks.append(CheckResult(name, False, f"{type(exc).__name__}: {exc}"))


def _fresh_instances(sampler: Any) -> tuple[Any, Callable[[], Any] | str]:
    """``(sampler, make)``: the sampler to check and how to build a fresh one like it (or why not)."""
    if isinstance(sampler, str):
        from ..registry import get_sampler

        name = sampler
        return get_sampler(name), lambda: get_sampler(name)
    if callable(sampler) and not isinstance(sampler, dimod.Sampler):
        return sampler(), sampler
    try:
        # Copies taken before the first call, in the state a fresh instance has.
        copies = [copy.deepcopy(sampler), copy.deepcopy(sampler)]
    except Exception as exc:
        return sampler, (f"the instance cannot be copied ({type(exc).__name__}: {exc}); pass a class or "
                         "function that builds the sampler to check fresh instances")
    return sampler, copies.pop


def check_sampler(
    sampler: BoltzmannSampler | str | Callable[[], BoltzmannSampler],
    *,
    seed: int = 0,
    quick: bool = False,
    alpha: float = 1e-3,
    params: dict[str, Any] | None = None,
    dimod_suite: bool = True,
) -> ConformanceReport:
    """Run the conformance checks on a sampler and return a report (never raises for a bad sampler).

    Args:
        sampler: the sampler, a registered name, or a class or function that builds it
            (with a name or a builder, the fresh-instances check builds its own instances).
        seed: base seed; the check is deterministic for a deterministic-given-seed sampler.
        quick: fewer, smaller batches (about 4x less sampling), for fast test suites.
        alpha: family-wise false-alarm rate of the Boltzmann test.
        params: extra parameters passed to every sampling call.
        dimod_suite: also run dimod's generated sampler tests (:mod:`qhvae.testing.dimod_suite`).

    Example:
        >>> report = check_sampler("exact", quick=True)
        >>> report.passed
        True
    """
    sampler, make_fresh = _fresh_instances(sampler)
    params = dict(params or {})
    report = ConformanceReport(getattr(sampler, "label", repr(sampler)))
    if not isinstance(sampler, BoltzmannSampler):
        report.checks.append(CheckResult("is a qhvae.BoltzmannSampler", False,
                                         f"got {type(sampler).__name__}; subclass qhvae.BoltzmannSampler"))
        return report
    num_batches, batch = (10, 400) if quick else (20, 1000)

    def dimod_api():
        assert isinstance(sampler, dimod.Sampler), "not a dimod.Sampler"
        assert {"num_reads", "seed"} <= set(sampler.parameters), "parameters must list num_reads and seed"
        assert isinstance(sampler.properties, dict), "properties must be a dict"

    def vartypes():
        for vartype in (dimod.SPIN, dimod.BINARY):
            bqm = dimod.BinaryQuadraticModel({"a": 0.3, ("b", 1): -0.2, 7: 0.1},
                                             {("a", ("b", 1)): 0.5, (("b", 1), 7): -0.4}, 1.5, vartype)
            _reset(sampler)
            ss = sampler.sample(bqm, num_reads=9, seed=seed, **params)
            assert isinstance(ss, dimod.SampleSet), f"sample() returned {type(ss).__name__}, not a dimod.SampleSet"
            assert ss.vartype is vartype, f"a {vartype.name} BQM came back as {ss.vartype.name}"
            assert set(ss.variables) == set(bqm.variables), f"variables {list(ss.variables)} != {list(bqm.variables)}"
            assert len(ss) == 9, f"asked for 9 reads, got {len(ss)}"
            assert np.allclose(ss.record.energy, bqm.energies(ss)), "SampleSet energies disagree with the BQM"

    def array_path():
        for n, units in ((7, 1), (5, 8)):
            _reset(sampler)
            out = sampler.sample_arrays(np.zeros(units), None, n, seed=seed, **params)
            assert isinstance(out, np.ndarray) and out.shape == (n, units) and out.dtype == np.uint8, (
                f"sample_arrays returned {type(out).__name__} {getattr(out, 'shape', '')}, "
                f"expected ({n}, {units}) uint8")

    def seeding():
        g = chimera(1)
        w = np.random.default_rng(seed).uniform(-1, 1, g.num_edges)
        draws = []
        for s in (seed, seed, seed + 1):
            _reset(sampler)
            draws.append(sampler.sample_arrays(np.zeros(8), (g.edges, w), 64, seed=s, **params))
        assert np.array_equal(draws[0], draws[1]), "the same seed gave different samples"
        assert not np.array_equal(draws[0], draws[2]), "different seeds gave identical samples: the seed is ignored"

    def fresh_instances():
        if isinstance(make_fresh, str):
            return f"not checked: {make_fresh}"
        g = chimera(1)
        w = np.random.default_rng(seed).uniform(-1, 1, g.num_edges)
        runs = []
        for _ in range(2):
            fresh = make_fresh()
            # Several calls: a random state may show only once it has moved (a drifting device).
            runs.append([fresh.sample_arrays(np.zeros(8), (g.edges, w), 64, seed=s, **params)
                         for s in (seed, seed + 1, seed)])
        for call, (first, second) in enumerate(zip(*runs, strict=True)):
            assert np.array_equal(first, second), (
                f"two fresh instances gave different samples on call {call + 1} with the same seed: the sampler "
                "draws random numbers its calls' seeds do not fix (when built, or from a global or unseeded "
                "generator); take them from the call's seed, or from a seed the constructor takes")

    def rejects_bad_input():
        try:
            sampler.sample_arrays([0.0, np.nan], None, 2, **params)
        except ValueError:
            return None
        raise AssertionError("NaN parameters were accepted")

    def dimod_generated_tests():
        def factory():
            _reset(sampler)
            return sampler

        passed, failures = run_dimod_suite(factory, report.sampler)
        assert passed, f"{len(failures)} failed: " + "; ".join(failures[:3])

    _check(report, "dimod Sampler API", dimod_api)
    if dimod_suite:
        _check(report, "dimod's generated sampler tests", dimod_generated_tests)
    _check(report, "SPIN and BINARY vartypes, labels, energies", vartypes)
    _check(report, "fast array path shape and dtype", array_path)
    _check(report, "seeding", seeding)
    _check(report, "two fresh instances, same seed, same samples", fresh_instances)
    _check(report, "rejects NaN parameters", rejects_bad_input)
    for i, (label, bm) in enumerate(_reference_models(seed)):

        def boltzmann(bm=bm, i=i):
            batches = []
            for k in range(num_batches):
                _reset(sampler)
                batches.append(sampler.sample_bm(bm, batch, seed=seed + 1000 * (i + 1) + k, **params).samples)
            ok, msg, _ = boltzmann_statistics(bm, batches, alpha=alpha)
            assert ok, msg
            return msg

        _check(report, f"Boltzmann at beta = 1 on {label}", boltzmann)

    def conditional():
        # Two conditions interleaved in every call: two clamped units, and shifted biases.
        label, bm = _reference_models(seed)[0]
        L = bm.num_variables
        mask = np.zeros((2, L), bool)
        mask[0, [0, L - 1]] = True
        values = np.zeros((2, L), np.uint8)
        values[0, 0] = 1
        biases = np.stack([bm.linear, bm.linear + np.linspace(-1.0, 1.0, L)])
        which = np.arange(batch) % 2
        conditions = ChainConditions.build(batch, L, biases=biases[which], clamp_mask=mask[which],
                                           clamp_values=values[which])
        per_condition: list[list[np.ndarray]] = [[], []]
        for k in range(num_batches):
            _reset(sampler)
            out = sampler.sample_bm(bm, batch, seed=seed + 7919 * (k + 1), conditions=conditions, **params).samples
            for c in range(2):
                rows = out[which == c]
                assert (rows[:, mask[c]] == values[c][mask[c]]).all(), "a clamped unit moved"
                per_condition[c].append(rows[:, ~mask[c]])
        messages = []
        for c in range(2):
            reduced, _ = reduced_machine(bm, biases[c], mask[c], values[c])
            ok, msg, _ = boltzmann_statistics(reduced, per_condition[c], alpha=alpha / 2)
            assert ok, f"condition {c} ({'clamped' if c == 0 else 'shifted biases'}): {msg}"
            messages.append(msg)
        return "; ".join(messages)

    _check(report, "conditional sampling (clamped units, per-chain biases) on the first model", conditional)
    return report


def assert_conforms(sampler: BoltzmannSampler | str, **kwargs) -> ConformanceReport:
    """:func:`check_sampler`, raising ``AssertionError`` with the report when a check fails.

    Example:
        >>> _ = assert_conforms("exact", quick=True)
    """
    report = check_sampler(sampler, **kwargs)
    if not report.passed:
        raise AssertionError(str(report))
    return report
