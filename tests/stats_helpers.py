"""Statistics for testing Boltzmann samplers against exact enumeration.

Every test here compares samples with the exact distribution ``p(z) = exp(-E(z)) / Z``
of a small Boltzmann machine (``E(z) = b.z + sum_(i<j) W_ij z_i z_j``, beta = 1,
dimod's BINARY energy), obtained by enumerating all ``2**L`` states. Tolerances are
derived from the sample size and a fixed false-alarm rate :data:`ALPHA`, never tuned.

Two sampling designs are supported:

* **independent samples** (the exact sampler; one call of Gibbs, whose chains are
  independent; simulated annealing, whose reads are independent): :func:`check_iid`.
* **batches** ``(M, n, L)`` that are independent of each other but correlated inside
  (one population-annealing call = one batch, because its replicas share ancestors
  through resampling; one persistent Gibbs chain followed over several calls = one
  batch): :func:`check_batched`. The variance of every statistic is estimated from the
  spread *between* batches, which is honest whatever the correlation inside a batch.

Each check returns a :class:`Report` whose ``passed`` is False if *any* statistic
rejects; ``str(report)`` explains every number, so a failing assert is self-describing.
Negative controls in the tests feed samples of a deliberately wrong distribution to the
same checks and assert that they fail, so the checks are known to have power.

False alarms: each check rejects a correct sampler with probability at most about
``ALPHA`` per statistic family (moments, chi-square, TV: so <= 3 * ALPHA per check).
The seeds are fixed, so a given test is deterministic; ALPHA is the chance that the
fixed seed we happened to pick makes a correct sampler fail.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats
from scipy.special import gammaln, logsumexp

import qhvae
from qhvae.topology import LatentGraph

__all__ = [
    "ALPHA",
    "Target",
    "Report",
    "random_bm",
    "exact_target",
    "state_index",
    "expected_tv_iid",
    "tv_bound_iid",
    "binned_cells",
    "check_iid",
    "check_batched",
    "spin_bqm_target",
]

#: False-alarm rate of each statistic family (Bonferroni-corrected across its members).
ALPHA = 1e-4


# --------------------------------------------------------------------------- targets


def random_bm(graph: LatentGraph, seed: int, scale: float = 2.0) -> qhvae.BoltzmannMachine:
    """A BM on ``graph`` with ``b_i`` and ``W_ij`` drawn uniformly from ``[-scale, scale]``."""
    rng = np.random.default_rng(seed)
    b = rng.uniform(-scale, scale, graph.num_nodes)
    w = rng.uniform(-scale, scale, graph.num_edges)
    return qhvae.BoltzmannMachine.from_arrays(b, (graph.edges, w))


def all_states(num_units: int) -> np.ndarray:
    """``(2**L, L)`` uint8: row ``k`` is the state whose unit ``i`` is bit ``i`` of ``k``."""
    k = np.arange(2**num_units, dtype=np.int64)
    return ((k[:, None] >> np.arange(num_units)[None, :]) & 1).astype(np.uint8)


def state_index(samples: np.ndarray) -> np.ndarray:
    """Index of each sample's state in :func:`all_states` order (unit ``i`` = bit ``i``)."""
    samples = np.asarray(samples)
    weights = np.int64(1) << np.arange(samples.shape[-1], dtype=np.int64)
    return samples.astype(np.int64) @ weights


def moment_names(num_units: int) -> list[str]:
    iu, ju = np.triu_indices(num_units, k=1)
    return [f"<z{i}>" for i in range(num_units)] + [f"<z{i} z{j}>" for i, j in zip(iu, ju)]


def moments_of(samples: np.ndarray) -> np.ndarray:
    """Means ``<z_i>`` then pair correlations ``<z_i z_j>`` (i < j) of ``(..., n, L)`` samples.

    Every statistic is the mean of a 0/1 variable (``z_i`` or ``z_i z_j``), so a single
    sample's contribution has variance exactly ``m (1 - m)``.
    """
    x = np.asarray(samples, dtype=np.float64)
    n, num_units = x.shape[-2], x.shape[-1]
    second = np.einsum("...ni,...nj->...ij", x, x) / n
    iu, ju = np.triu_indices(num_units, k=1)
    return np.concatenate([np.diagonal(second, axis1=-2, axis2=-1), second[..., iu, ju]], axis=-1)


@dataclass
class Target:
    """The exact distribution of a small BM: every state, its probability, its moments."""

    name: str
    bm: qhvae.BoltzmannMachine | None
    states: np.ndarray  # (K, L) uint8 in all_states order
    p: np.ndarray  # (K,) float64, sums to 1
    log_z: float

    @property
    def num_units(self) -> int:
        return int(self.states.shape[1])

    @property
    def moments(self) -> np.ndarray:
        """Exact ``<z_i>`` and ``<z_i z_j>`` (same order as :func:`moments_of`)."""
        x = self.states.astype(np.float64)
        second = (x * self.p[:, None]).T @ x
        iu, ju = np.triu_indices(self.num_units, k=1)
        return np.concatenate([np.diag(second), second[iu, ju]])


def exact_target(bm: qhvae.BoltzmannMachine, name: str = "") -> Target:
    """Enumerate all ``2**L`` states of ``bm`` (independently of qhvae's exact sampler)."""
    if bm.num_variables > 20:
        raise ValueError("enumeration is for at most 20 units")
    states = all_states(bm.num_variables)
    energy = bm.energies(states)
    log_z = float(logsumexp(-energy))
    return Target(name, bm, states, np.exp(-energy - log_z), log_z)


def spin_bqm_target(bqm, name: str = "") -> tuple[Target, list]:
    """Exact Boltzmann distribution of any (SPIN or BINARY) BQM at beta = 1 over its own values.

    Returns the target over 0/1 indicator states (``z = (s + 1) / 2`` for spins) and the
    variable order used for the columns.
    """
    labels = list(bqm.variables)
    states01 = all_states(len(labels))
    values = 2 * states01.astype(np.int8) - 1 if bqm.vartype.name == "SPIN" else states01
    energy = bqm.energies((values, labels))
    log_z = float(logsumexp(-energy))
    return Target(name, None, states01, np.exp(-energy - log_z), log_z), labels


# ----------------------------------------------------------------- total variation


def expected_tv_iid(p: np.ndarray, n: int) -> float:
    """Exact ``E[TV(p_hat, p)]`` for ``n`` independent samples of ``p``.

    ``TV = 1/2 sum_s |p_hat_s - p_s|`` and ``n p_hat_s ~ Binomial(n, p_s)``. The mean
    absolute deviation of a binomial is known in closed form (De Moivre):
    ``E|X - n p| = 2 k C(n, k) p^k (1 - p)^(n - k + 1)`` with ``k = floor(n p) + 1``,
    so by linearity ``E[TV] = sum_s E|X_s - n p_s| / (2 n)`` exactly. (For ``n p_s``
    large this is the normal value ``sum_s sqrt(p_s (1 - p_s) / (2 pi n))``; the exact
    form also covers the many rare states of a 2**16-state model.)
    """
    p = np.asarray(p, dtype=np.float64)
    p = p[(p > 0) & (p < 1)]
    k = np.floor(n * p) + 1.0
    log_mad = (
        math.log(2.0)
        + np.log(k)
        + gammaln(n + 1.0)
        - gammaln(k + 1.0)
        - gammaln(n - k + 1.0)
        + k * np.log(p)
        + (n - k + 1.0) * np.log1p(-p)
    )
    return float(np.exp(log_mad).sum() / (2.0 * n))


def tv_bound_iid(p: np.ndarray, n: int, alpha: float = ALPHA) -> tuple[float, float, float]:
    """Rejection threshold for ``TV(p_hat, p)`` with ``n`` independent samples.

    McDiarmid's bounded-difference inequality: replacing one of the ``n`` samples moves
    ``1/n`` of probability mass between two states, so TV changes by at most ``1/n`` and
    ``P(TV >= E[TV] + t) <= exp(-2 n t^2)``. With ``t = sqrt(ln(1/alpha) / (2 n))`` a
    correct sampler exceeds ``E[TV] + t`` with probability at most ``alpha``. This holds
    for any ``p`` and ``n`` (no normal approximation), and is conservative: the true
    standard deviation of TV is about ``0.3 / sqrt(n)`` or less, while ``t`` corresponds
    to ``0.5 / sqrt(n)`` per sigma-equivalent.

    Returns:
        ``(threshold, expected_tv, t)``.
    """
    expected = expected_tv_iid(p, n)
    t = math.sqrt(math.log(1.0 / alpha) / (2.0 * n))
    return expected + t, expected, t


def tv_distance(counts: np.ndarray, p: np.ndarray) -> float:
    return float(0.5 * np.abs(counts / counts.sum() - p).sum())


# --------------------------------------------------------------------- chi-square


def binned_cells(p: np.ndarray, n: int, min_expected: float = 5.0) -> np.ndarray:
    """Assign every state to a cell with expected count ``>= min_expected`` for ``n`` samples.

    States are sorted by probability; each state with ``n p_s >= min_expected`` is its
    own cell, the rarer ones are grouped, in order of probability, into cells of
    expected count at least ``min_expected`` (the usual validity rule of Pearson's
    chi-square). Returns the ``(K,)`` cell label of each state.
    """
    order = np.argsort(-p, kind="stable")
    cells = np.empty(p.size, np.int64)
    cell, acc = 0, 0.0
    for s in order:
        cells[s] = cell
        acc += n * p[s]
        if acc >= min_expected:
            cell, acc = cell + 1, 0.0
    if acc > 0 and cell > 0:  # the last, under-filled cell joins the previous one
        cells[cells == cell] = cell - 1
    return cells


# ------------------------------------------------------------------------- report


@dataclass
class Report:
    """Outcome of a check, with every statistic that went into it."""

    title: str
    passed: bool = True
    lines: list[str] = field(default_factory=list)
    values: dict = field(default_factory=dict)

    def add(self, ok: bool, line: str, **values) -> None:
        self.passed &= bool(ok)
        self.lines.append(("ok   " if ok else "FAIL ") + line)
        self.values.update(values)

    def __str__(self) -> str:
        return "\n".join([self.title, *("  " + s for s in self.lines)])


def _worst(names: list[str], pvalues: np.ndarray, est: np.ndarray, exact: np.ndarray) -> str:
    j = int(np.argmin(pvalues))
    return f"worst {names[j]}: sampled {est[j]:.5f} vs exact {exact[j]:.5f} (p = {pvalues[j]:.2e})"


# -------------------------------------------------------------- independent samples


def check_iid(samples: np.ndarray, target: Target, alpha: float = ALPHA) -> Report:
    """Test ``N`` independent samples against the exact distribution.

    Three statistics, each at false-alarm rate ``alpha``:

    1. **Moments**: every ``<z_i>`` and ``<z_i z_j>`` (all pairs, not only edges). The
       count ``N m_hat`` of a 0/1 statistic is exactly ``Binomial(N, m)``; its two-sided
       exact binomial p-value must exceed ``alpha / S`` (Bonferroni over the ``S``
       statistics). Equivalently ``|m_hat - m| <~ k sqrt(m (1 - m) / N)`` with
       ``k = Phi^-1(1 - alpha / (2 S))`` (about 5.3 for S = 136), exact for small ``m``.
    2. **Pearson chi-square** on :func:`binned_cells` (expected count >= 5 per cell):
       p-value of ``chi2(cells - 1)`` must exceed ``alpha``.
    3. **Total variation** over all ``2**L`` states: ``TV <= E[TV] + sqrt(ln(1/alpha) / 2N)``
       (:func:`tv_bound_iid`: exact expectation, McDiarmid deviation).
    """
    samples = np.asarray(samples)
    n = samples.shape[0]
    report = Report(f"{target.name}: {n} independent samples, alpha = {alpha:g} per statistic family")

    # 1. moments, exact binomial tests
    exact = target.moments
    est = moments_of(samples)
    counts = np.rint(est * n)
    pv = np.minimum(1.0, 2.0 * np.minimum(stats.binom.cdf(counts, n, exact), stats.binom.sf(counts - 1, n, exact)))
    s = exact.size
    names = moment_names(target.num_units)
    k = stats.norm.isf(alpha / (2 * s))
    zmax = float(np.max(np.abs(est - exact) / np.sqrt(exact * (1 - exact) / n)))
    report.add(
        pv.min() > alpha / s,
        f"moments: {s} statistics, min exact-binomial p = {pv.min():.2e} vs Bonferroni {alpha / s:.1e} "
        f"(max |z| = {zmax:.2f}, k = {k:.2f}); {_worst(names, pv, est, exact)}",
        moments_min_p=float(pv.min()), moments_max_z=zmax,
    )

    # 2. chi-square on binned states
    idx = state_index(samples)
    state_counts = np.bincount(idx, minlength=target.p.size).astype(np.float64)
    cells = binned_cells(target.p, n)
    obs = np.bincount(cells, weights=state_counts)
    expct = np.bincount(cells, weights=target.p) * n
    chi2 = float(((obs - expct) ** 2 / expct).sum())
    dof = obs.size - 1
    pchi = float(stats.chi2.sf(chi2, dof))
    report.add(
        pchi > alpha,
        f"chi-square: {chi2:.1f} on {dof} dof ({target.p.size} states in {obs.size} cells), p = {pchi:.2e}",
        chi2_p=pchi, chi2=chi2, dof=dof,
    )

    # 3. total variation
    tv = tv_distance(state_counts, target.p)
    bound, expected, t = tv_bound_iid(target.p, n, alpha)
    report.add(
        tv <= bound,
        f"TV: {tv:.4f} vs bound {bound:.4f} = E[TV] {expected:.4f} + McDiarmid {t:.4f}",
        tv=tv, tv_bound=bound, tv_expected=expected,
    )
    return report


# ---------------------------------------------------------------- batched samples


def check_batched(batches: np.ndarray, target: Target, alpha: float = ALPHA) -> Report:
    """Test ``(M, n, L)`` samples: ``M`` independent batches of ``n`` correlated samples.

    Batches are independent (different sampler calls with different seeds, or different
    Gibbs chains), so the between-batch spread of any per-batch average gives its honest
    standard error, whatever the correlation inside a batch. With ``N = M n`` samples, the
    *design effect* of a statistic is ``d = Var(pooled) / (m (1 - m) / N)`` (1 for
    independent samples) and ``N_eff = N / d``.

    1. **Moments**: ``t = (m_pooled - m) / SE`` with ``SE^2 = s_between^2 / M`` (floored
       at the independent value ``m (1 - m) / N``: a design effect below 1 is not
       trusted), two-sided Student-t p-value with ``M - 1`` dof > ``alpha / S``.
    2. **Rao-Scott chi-square** (first-order correction for clustered samples): Pearson's
       ``X^2`` on the binned cells divided by the mean design effect
       ``delta = sum_c (1 - p_c) d_c / (C - 1)`` (floored at 1) is ``chi2(C - 1)``;
       p-value > ``alpha``.
    3. **TV** with ``N_eff = N / d_max``, ``d_max`` the largest cell design effect
       (floored at 1): conservative, since every cell then has at least its own
       variance; the bound is :func:`tv_bound_iid` at ``N_eff``.
    """
    batches = np.asarray(batches)
    m_batches, n, _ = batches.shape
    total = m_batches * n
    report = Report(
        f"{target.name}: {m_batches} independent batches x {n} correlated samples, alpha = {alpha:g} per family"
    )

    # 1. moments with between-batch standard errors
    exact = target.moments
    per_batch = moments_of(batches)  # (M, S)
    pooled = per_batch.mean(0)
    iid_var = exact * (1 - exact) / total
    between_var = per_batch.var(0, ddof=1) / m_batches
    se = np.sqrt(np.maximum(between_var, iid_var))
    t = (pooled - exact) / se
    s = exact.size
    pv = 2.0 * stats.t.sf(np.abs(t), m_batches - 1)
    names = moment_names(target.num_units)
    design_moments = between_var / iid_var
    report.add(
        pv.min() > alpha / s,
        f"moments: {s} statistics, min Student-t({m_batches - 1}) p = {pv.min():.2e} vs Bonferroni "
        f"{alpha / s:.1e} (max |t| = {np.abs(t).max():.2f}; design effect median "
        f"{np.median(design_moments):.2f}, max {design_moments.max():.2f}); {_worst(names, pv, pooled, exact)}",
        moments_min_p=float(pv.min()), design_effect_moments=float(design_moments.max()),
    )

    # 2. Rao-Scott corrected chi-square
    cells = binned_cells(target.p, total)
    num_cells = int(cells.max()) + 1
    idx = state_index(batches)  # (M, n)
    cell_of = cells[idx]
    per_batch_cells = np.stack([np.bincount(c, minlength=num_cells) for c in cell_of]) / n  # (M, C)
    p_cells = np.bincount(cells, weights=target.p, minlength=num_cells)
    obs = per_batch_cells.mean(0) * total
    expct = p_cells * total
    x2 = float(((obs - expct) ** 2 / expct).sum())
    d_cells = (per_batch_cells.var(0, ddof=1) / m_batches) / (p_cells * (1 - p_cells) / total)
    delta = max(1.0, float(((1 - p_cells) * d_cells).sum() / (num_cells - 1)))
    dof = num_cells - 1
    prs = float(stats.chi2.sf(x2 / delta, dof))
    report.add(
        prs > alpha,
        f"Rao-Scott chi-square: X2 {x2:.1f} / delta {delta:.2f} = {x2 / delta:.1f} on {dof} dof, p = {prs:.2e}",
        chi2_p=prs, design_effect_mean=delta,
    )

    # 3. TV at the conservative effective sample size
    d_max = max(1.0, float(d_cells.max()))
    n_eff = max(1, int(total / d_max))
    state_counts = np.bincount(idx.ravel(), minlength=target.p.size).astype(np.float64)
    tv = tv_distance(state_counts, target.p)
    bound, expected, tdev = tv_bound_iid(target.p, n_eff, alpha)
    report.add(
        tv <= bound,
        f"TV: {tv:.4f} vs bound {bound:.4f} = E[TV | N_eff = {n_eff} = N / {d_max:.2f}] {expected:.4f} "
        f"+ McDiarmid {tdev:.4f}",
        tv=tv, tv_bound=bound, n_eff=n_eff, design_effect_max=d_max,
    )
    return report
