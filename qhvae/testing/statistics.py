"""Statistics for testing Boltzmann samplers against exact answers (used by every test suite here).

The checks of qhvae's own tests, of the conformance kit (:mod:`qhvae.testing.conformance`)
and of the plugins' tests all live here, so that a plugin author tests a sampler with exactly
the statistics qhvae uses for its built-ins.

The tests compare samples with the exact distribution ``p(z) = exp(-E(z)) / Z`` of a
Boltzmann machine (``E(z) = b.z + sum_(i<j) W_ij z_i z_j``, beta = 1, dimod's BINARY
energy): by enumerating all ``2**L`` states for small models (:func:`exact_target`), or
through exact marginals (``<z_i>``, ``<z_i z_j>``) for larger low-treewidth ones.
Tolerances follow from the sample size and a fixed false-alarm rate :data:`ALPHA`;
nothing here is tuned to make a particular sampler pass.

Two sampling designs:

* **independent samples** (the exact sampler; one call of Gibbs, whose chains are
  independent; simulated annealing, whose reads are independent): :func:`check_iid`
  (the moments alone: :func:`check_moments_iid`).
* **batches** ``(M, n, L)``, independent of each other but correlated inside (one
  population-annealing call is a batch, since its replicas share ancestors through
  resampling; one persistent Gibbs chain followed over several calls is a batch):
  :func:`check_batched`. The variance of every statistic is taken from the spread
  *between* batches, which is honest whatever the correlation inside a batch.

Each check returns a :class:`Report`; ``passed`` is False if *any* statistic rejects,
and ``str(report)`` lists every number, so a failing assert explains itself. The tests'
negative controls feed deliberately wrong samples to the same checks and assert that
they fail, so the checks are known to have power.

False alarms: each statistic family (moments; chi-square; TV) rejects a correct
sampler with probability at most about ``ALPHA``. Seeds are fixed, so a test is
deterministic: ``ALPHA`` is the chance that the seed we picked fails a correct sampler.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats
from scipy.special import gammaln, logsumexp

from ..samplers.machine import BoltzmannMachine
from ..topology import LatentGraph

__all__ = [
    "ALPHA",
    "Target",
    "MomentSpec",
    "Report",
    "random_bm",
    "all_states",
    "exact_target",
    "brute_force_energies",
    "spin_bqm_target",
    "state_index",
    "expected_tv_iid",
    "tv_bound_iid",
    "binned_cells",
    "check_iid",
    "check_batched",
    "check_moments_iid",
    "check_moments_batched",
    "check_error_bar_calibration",
    "exact_moments",
]

#: False-alarm rate of each statistic family (Bonferroni-corrected across its members).
ALPHA = 1e-4


# --------------------------------------------------------------------------- targets


def random_bm(graph: LatentGraph, seed: int, scale: float = 2.0) -> BoltzmannMachine:
    """A BM on ``graph`` with ``b_i`` and ``W_ij`` drawn uniformly from ``[-scale, scale]``."""
    rng = np.random.default_rng(seed)
    b = rng.uniform(-scale, scale, graph.num_nodes)
    w = rng.uniform(-scale, scale, graph.num_edges)
    return BoltzmannMachine.from_arrays(b, (graph.edges, w))


def all_states(num_units: int) -> np.ndarray:
    """``(2**L, L)`` uint8: row ``k`` is the state whose unit ``i`` is bit ``i`` of ``k``."""
    k = np.arange(2**num_units, dtype=np.int64)
    return ((k[:, None] >> np.arange(num_units)[None, :]) & 1).astype(np.uint8)


def state_index(samples: np.ndarray) -> np.ndarray:
    """Index of each sample's state in :func:`all_states` order (unit ``i`` = bit ``i``)."""
    samples = np.asarray(samples)
    weights = np.int64(1) << np.arange(samples.shape[-1], dtype=np.int64)
    return samples.astype(np.int64) @ weights


@dataclass(frozen=True)
class MomentSpec:
    """Which 0/1 statistics to test: every ``z_i`` and ``z_i z_j`` for the listed pairs.

    Each statistic is the mean of a 0/1 variable, so one sample's contribution has
    variance exactly ``m (1 - m)``.
    """

    num_units: int
    pairs: np.ndarray  # (P, 2)

    @classmethod
    def all_pairs(cls, num_units: int) -> MomentSpec:
        iu, ju = np.triu_indices(num_units, k=1)
        return cls(num_units, np.stack([iu, ju], 1))

    @property
    def size(self) -> int:
        return self.num_units + self.pairs.shape[0]

    @property
    def names(self) -> list[str]:
        return [f"<z{i}>" for i in range(self.num_units)] + [f"<z{i} z{j}>" for i, j in self.pairs.tolist()]

    def of(self, samples: np.ndarray) -> np.ndarray:
        """The statistics averaged over the sample axis of ``(..., n, L)`` samples."""
        x = np.asarray(samples, dtype=np.float64)
        n = x.shape[-2]
        means = x.sum(-2) / n
        if self.pairs.shape[0] == 0:
            return means
        if self.pairs.shape[0] * 4 >= self.num_units**2:  # dense: one matrix product
            second = np.einsum("...ni,...nj->...ij", x, x) / n
            corr = second[..., self.pairs[:, 0], self.pairs[:, 1]]
        else:
            corr = np.einsum("...np,...np->...p", x[..., self.pairs[:, 0]], x[..., self.pairs[:, 1]]) / n
        return np.concatenate([means, corr], axis=-1)


@dataclass
class Target:
    """The exact distribution of a small BM: every state and its probability."""

    name: str
    states: np.ndarray  # (K, L) uint8 in all_states order
    p: np.ndarray  # (K,) float64, sums to 1
    log_z: float

    @property
    def num_units(self) -> int:
        return int(self.states.shape[1])

    @property
    def spec(self) -> MomentSpec:
        return MomentSpec.all_pairs(self.num_units)

    @property
    def moments(self) -> np.ndarray:
        """Exact ``<z_i>`` and ``<z_i z_j>`` for all pairs (the order of :attr:`spec`)."""
        x = self.states.astype(np.float64)
        second = (x * self.p[:, None]).T @ x
        pairs = self.spec.pairs
        return np.concatenate([np.diag(second), second[pairs[:, 0], pairs[:, 1]]])


def brute_force_energies(bm: BoltzmannMachine, states: np.ndarray, chunk: int = 1 << 16) -> np.ndarray:
    """``E(z) = b.z + z^T W_upper z + offset`` in float64, by a dense matrix, chunk by chunk.

    Written independently of ``BoltzmannMachine.energies`` (and of the samplers' numba
    kernels), so the reference does not share their code.
    """
    n = bm.num_variables
    upper = np.zeros((n, n))
    np.add.at(upper, (bm.edges[:, 0], bm.edges[:, 1]), bm.weights)
    out = np.empty(states.shape[0])
    for a in range(0, states.shape[0], chunk):
        z = states[a : a + chunk].astype(np.float64)
        out[a : a + chunk] = z @ bm.linear + np.einsum("ni,ni->n", z @ upper, z) + bm.offset
    return out


def exact_target(bm: BoltzmannMachine, name: str = "") -> Target:
    """Enumerate all ``2**L`` states of ``bm`` (independently of qhvae's exact sampler)."""
    if bm.num_variables > 20:
        raise ValueError("enumeration is for at most 20 units")
    states = all_states(bm.num_variables)
    energy = brute_force_energies(bm, states)
    log_z = float(logsumexp(-energy))
    return Target(name, states, np.exp(-energy - log_z), log_z)


def spin_bqm_target(bqm, name: str = "") -> tuple[Target, list]:
    """Exact Boltzmann distribution (beta = 1) of any BQM, over 0/1 indicators of its values.

    For a SPIN model a state's indicator is ``z = (s + 1) / 2``. Energies come from
    dimod itself. Returns the target and the variable order of its columns.
    """
    labels = list(bqm.variables)
    states01 = all_states(len(labels))
    values = 2 * states01.astype(np.int8) - 1 if bqm.vartype.name == "SPIN" else states01
    energy = bqm.energies((values, labels))
    log_z = float(logsumexp(-energy))
    return Target(name, states01, np.exp(-energy - log_z), log_z), labels


# ----------------------------------------------------------------- total variation


def expected_tv_iid(p: np.ndarray, n: int) -> float:
    """Exact ``E[TV(p_hat, p)]`` for ``n`` independent samples of ``p``.

    ``TV = 1/2 sum_s |p_hat_s - p_s|`` and ``n p_hat_s ~ Binomial(n, p_s)``. The mean
    absolute deviation of a binomial is known in closed form (De Moivre):
    ``E|X - n p| = 2 k C(n, k) p^k (1 - p)^(n - k + 1)`` with ``k = floor(n p) + 1``,
    so by linearity ``E[TV] = sum_s E|X_s - n p_s| / (2 n)`` exactly. For ``n p_s``
    large each term is the normal value, giving the familiar
    ``E[TV] ~ sum_s sqrt(p_s (1 - p_s) / (2 pi n))``; the exact form also covers the
    many rare states of a 2**16-state model, where the normal value overestimates.
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
    ``1/n`` of probability mass between two states, so TV changes by at most ``1/n``,
    hence ``P(TV >= E[TV] + t) <= exp(-2 n t^2)``. With ``t = sqrt(ln(1/alpha) / (2 n))``
    a correct sampler exceeds ``E[TV] + t`` with probability at most ``alpha``, for any
    ``p`` and ``n`` (no normal approximation). It is conservative: the standard deviation
    of TV is at most ``sqrt((1 - 2/pi) / 4 n) ~ 0.3 / sqrt(n)`` (independent-cell normal
    approximation), while ``t`` is ``sqrt(ln(1/alpha) / 2) ~ 2.1`` times ``1 / sqrt(n)``.

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
    expected count at least ``min_expected`` (the usual validity rule for Pearson's
    chi-square). The cells depend only on ``p`` and ``n``, never on the samples.
    Returns the ``(K,)`` cell label of each state.
    """
    order = np.argsort(-p, kind="stable")
    expected = n * p[order]
    cells_sorted = np.empty(p.size, np.int64)
    cell, acc = 0, 0.0
    for pos, e in enumerate(expected):
        cells_sorted[pos] = cell
        acc += e
        if acc >= min_expected:
            cell, acc = cell + 1, 0.0
    if acc > 0 and cell > 0:  # the last, under-filled cell joins the previous one
        cells_sorted[cells_sorted == cell] = cell - 1
    cells = np.empty(p.size, np.int64)
    cells[order] = cells_sorted
    return cells


# ------------------------------------------------------------------------- report


@dataclass
class Report:
    """Outcome of a check, with every statistic that went into it."""

    title: str
    passed: bool = True
    lines: list[str] = field(default_factory=list)
    values: dict = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)

    def add(self, key: str, ok: bool, line: str, **values) -> None:
        self.passed &= bool(ok)
        if not ok:
            self.failed.append(key)
        self.lines.append(("ok   " if ok else "FAIL ") + line)
        self.values.update(values)

    def __str__(self) -> str:
        return "\n".join([self.title, *("  " + s for s in self.lines)])


def _worst(names: list[str], pvalues: np.ndarray, est: np.ndarray, exact: np.ndarray) -> str:
    j = int(np.argmin(pvalues))
    return f"worst {names[j]}: sampled {est[j]:.5f} vs exact {exact[j]:.5f} (p = {pvalues[j]:.2e})"


# ------------------------------------------------------------------ moment tests


def _moments_iid(report: Report, samples: np.ndarray, exact: np.ndarray, spec: MomentSpec, alpha: float) -> None:
    n = samples.shape[0]
    est = spec.of(samples)
    counts = np.rint(est * n)
    lower = stats.binom.cdf(counts, n, exact)
    upper = stats.binom.sf(counts - 1, n, exact)
    pv = np.minimum(1.0, 2.0 * np.minimum(lower, upper))
    s = exact.size
    k = stats.norm.isf(alpha / (2 * s))
    se = np.sqrt(exact * (1 - exact) / n)
    with np.errstate(divide="ignore", invalid="ignore"):  # a statistic exactly 0 or 1 has no spread
        z = np.where(se > 0, np.abs(est - exact) / se, np.where(est == exact, 0.0, np.inf))
    report.add(
        "moments",
        pv.min() > alpha / s,
        f"moments: {s} statistics, min exact-binomial p = {pv.min():.2e} vs Bonferroni alpha/S = {alpha / s:.1e} "
        f"(max |z| = {z.max():.2f} vs k = {k:.2f}); {_worst(spec.names, pv, est, exact)}",
        moments_min_p=float(pv.min()), moments_max_z=float(z.max()),
    )


def _moments_batched(report: Report, batches: np.ndarray, exact: np.ndarray, spec: MomentSpec, alpha: float) -> None:
    m_batches, n = batches.shape[0], batches.shape[1]
    total = m_batches * n
    per_batch = spec.of(batches)  # (M, S)
    pooled = per_batch.mean(0)
    iid_var = exact * (1 - exact) / total
    between_var = per_batch.var(0, ddof=1) / m_batches
    se = np.sqrt(np.maximum(between_var, iid_var))
    t = (pooled - exact) / se
    s = exact.size
    pv = 2.0 * stats.t.sf(np.abs(t), m_batches - 1)
    k = stats.t.isf(alpha / (2 * s), m_batches - 1)
    design = between_var / iid_var
    report.add(
        "moments",
        pv.min() > alpha / s,
        f"moments: {s} statistics, min Student-t({m_batches - 1}) p = {pv.min():.2e} vs Bonferroni alpha/S = "
        f"{alpha / s:.1e} (max |t| = {np.abs(t).max():.2f} vs k = {k:.2f}; design effect median "
        f"{np.median(design):.2f}, max {design.max():.2f}); {_worst(spec.names, pv, pooled, exact)}",
        moments_min_p=float(pv.min()), design_effect_moments=float(design.max()),
    )


def check_moments_iid(
    samples: np.ndarray, exact: np.ndarray, spec: MomentSpec, name: str = "", alpha: float = ALPHA
) -> Report:
    """Moments of ``N`` independent samples against exact values (see :func:`check_iid`, item 1).

    The i.i.d. moment test: every ``<z_i>`` and the ``<z_i z_j>`` of ``spec``, each an exact
    binomial test, Bonferroni-corrected over the ``S`` statistics at family-wise rate ``alpha``.
    ``report.values`` holds ``moments_min_p`` and ``moments_max_z`` (the worst ``|z|`` in
    standard errors ``sqrt(m (1 - m) / N)``).

    Example:
        >>> from qhvae.topology import chimera
        >>> bm = random_bm(chimera(1), seed=1)
        >>> target = exact_target(bm)
        >>> rng = np.random.default_rng(0)
        >>> samples = target.states[rng.choice(target.p.size, 4000, p=target.p)]
        >>> check_moments_iid(samples, target.moments, target.spec, "exact draws").passed
        True
        >>> check_moments_iid(1 - samples, target.moments, target.spec, "flipped").passed
        False
    """
    report = Report(f"{name}: {samples.shape[0]} independent samples, alpha = {alpha:g}")
    _moments_iid(report, np.asarray(samples), np.asarray(exact, np.float64), spec, alpha)
    return report


def check_moments_batched(
    batches: np.ndarray, exact: np.ndarray, spec: MomentSpec, name: str = "", alpha: float = ALPHA
) -> Report:
    """Moments of ``(M, n, L)`` batched samples against exact values (see :func:`check_batched`, item 1)."""
    batches = np.asarray(batches)
    report = Report(f"{name}: {batches.shape[0]} independent batches x {batches.shape[1]} samples, alpha = {alpha:g}")
    _moments_batched(report, batches, np.asarray(exact, np.float64), spec, alpha)
    return report


# -------------------------------------------------------------- independent samples


def check_iid(samples: np.ndarray, target: Target, alpha: float = ALPHA) -> Report:
    """Test ``N`` independent samples against the exact distribution.

    Three statistic families, each at false-alarm rate ``alpha``:

    1. **Moments**: every ``<z_i>`` and ``<z_i z_j>`` (all pairs, not only edges). The
       count ``N m_hat`` of a 0/1 statistic is exactly ``Binomial(N, m)``; its two-sided
       exact binomial p-value must exceed ``alpha / S`` (Bonferroni over the ``S``
       statistics). Equivalently ``|m_hat - m| <~ k sqrt(m (1 - m) / N)`` with
       ``k = Phi^-1(1 - alpha / (2 S))`` (4.7 for S = 36, 4.95 for S = 136), but exact
       for rare statistics where the normal approximation is poor.
    2. **Pearson chi-square** on :func:`binned_cells` (expected count >= 5 per cell):
       the p-value of ``chi2(cells - 1)`` must exceed ``alpha``.
    3. **Total variation** over all ``2**L`` states: ``TV <= E[TV] + sqrt(ln(1/alpha) / 2N)``
       (:func:`tv_bound_iid`: exact expectation, McDiarmid deviation bound).
    """
    samples = np.asarray(samples)
    n = samples.shape[0]
    report = Report(f"{target.name}: {n} independent samples, alpha = {alpha:g} per statistic family")
    _moments_iid(report, samples, target.moments, target.spec, alpha)

    idx = state_index(samples)
    state_counts = np.bincount(idx, minlength=target.p.size).astype(np.float64)
    cells = binned_cells(target.p, n)
    obs = np.bincount(cells, weights=state_counts)
    expct = np.bincount(cells, weights=target.p) * n
    chi2 = float(((obs - expct) ** 2 / expct).sum())
    dof = obs.size - 1
    pchi = float(stats.chi2.sf(chi2, dof))
    report.add(
        "chi2",
        pchi > alpha,
        f"chi-square: {chi2:.1f} on {dof} dof ({target.p.size} states in {obs.size} cells), p = {pchi:.2e}",
        chi2_p=pchi, chi2=chi2, dof=dof,
    )

    tv = tv_distance(state_counts, target.p)
    bound, expected, t = tv_bound_iid(target.p, n, alpha)
    report.add(
        "tv",
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
    standard error, whatever the correlation inside a batch. With ``N = M n`` samples,
    the *design effect* of a statistic is ``d = Var(pooled) / (m (1 - m) / N)`` (1 for
    independent samples) and its effective sample size is ``N_eff = N / d``.

    1. **Moments**: ``t = (m_pooled - m) / SE`` with ``SE^2 = s_between^2 / M`` (floored
       at the independent value ``m (1 - m) / N``: a design effect below 1 is not
       trusted), two-sided Student-t p-value with ``M - 1`` dof > ``alpha / S``.
    2. **Rao-Scott chi-square** (the first-order correction of Pearson's test for
       clustered samples, Rao & Scott 1981): ``X^2 / delta ~ chi2(C - 1)`` with
       ``delta = sum_c (1 - p_c) d_c / (C - 1)`` the mean cell design effect (floored
       at 1); p-value > ``alpha``.
    3. **TV** at ``N_eff = N / d_max``, ``d_max`` the largest cell design effect (floored
       at 1): conservative, since every cell then gets at least its own variance; the
       bound is :func:`tv_bound_iid` at ``N_eff``.
    """
    batches = np.asarray(batches)
    m_batches, n, _ = batches.shape
    total = m_batches * n
    report = Report(
        f"{target.name}: {m_batches} independent batches x {n} correlated samples, alpha = {alpha:g} per family"
    )
    _moments_batched(report, batches, target.moments, target.spec, alpha)

    # Per-batch cell frequencies, sparse: only the (batch, cell) pairs that occur.
    cells = binned_cells(target.p, total)
    num_cells = int(cells.max()) + 1
    idx = state_index(batches)  # (M, n)
    pair_key = np.arange(m_batches, dtype=np.int64)[:, None] * num_cells + cells[idx]
    keys, counts = np.unique(pair_key.ravel(), return_counts=True)
    cell_of_key = keys % num_cells
    freq = counts / n
    sum_h = np.bincount(cell_of_key, weights=freq, minlength=num_cells)
    sum_h2 = np.bincount(cell_of_key, weights=freq * freq, minlength=num_cells)
    mean_h = sum_h / m_batches
    var_h = np.maximum(sum_h2 - m_batches * mean_h**2, 0.0) / (m_batches - 1)  # between-batch variance
    p_cells = np.bincount(cells, weights=target.p, minlength=num_cells)
    obs = mean_h * total
    expct = p_cells * total
    x2 = float(((obs - expct) ** 2 / expct).sum())
    d_cells = (var_h / m_batches) / (p_cells * (1 - p_cells) / total)
    delta = max(1.0, float(((1 - p_cells) * d_cells).sum() / (num_cells - 1)))
    dof = num_cells - 1
    prs = float(stats.chi2.sf(x2 / delta, dof))
    report.add(
        "chi2",
        prs > alpha,
        f"Rao-Scott chi-square: X2 {x2:.1f} / delta {delta:.2f} = {x2 / delta:.1f} on {dof} dof, p = {prs:.2e}",
        chi2_p=prs, design_effect_mean=delta,
    )

    d_max = max(1.0, float(d_cells.max()))
    n_eff = max(1, int(total / d_max))
    state_counts = np.bincount(idx.ravel(), minlength=target.p.size).astype(np.float64)
    tv = tv_distance(state_counts, target.p)
    bound, expected, tdev = tv_bound_iid(target.p, n_eff, alpha)
    report.add(
        "tv",
        tv <= bound,
        f"TV: {tv:.4f} vs bound {bound:.4f} = E[TV | N_eff = {n_eff} = N / {d_max:.2f}] {expected:.4f} "
        f"+ McDiarmid {tdev:.4f}",
        tv=tv, tv_bound=bound, n_eff=n_eff, design_effect_max=d_max,
    )
    return report


# ------------------------------------------------------------ error-bar calibration


def check_error_bar_calibration(
    errors: np.ndarray, stderrs: np.ndarray, stderr_dof: int, name: str = "", alpha: float = ALPHA
) -> Report:
    """Are reported standard errors honest? ``R`` independent estimates with known truth.

    ``errors[r] = estimate_r - truth`` and ``stderrs[r]`` its reported standard error,
    itself estimated with ``stderr_dof`` degrees of freedom (PA/AIS: number of
    populations - 1). If the error bars are honest, with true standard deviation
    ``sigma``, then ``s^2 / sigma^2 ~ chi2(R - 1) / (R - 1)`` for the sample variance
    ``s^2`` of the errors, and ``mean(stderr^2) / sigma^2 ~ chi2(R k) / (R k)`` with
    ``k = stderr_dof``, so ``s^2 / mean(stderr^2) ~ F(R - 1, R k)``: two-sided test at
    ``alpha`` (catches error bars too small *or* too large). The mean error (bias) is
    tested with Student-t, ``|mean| <= t_(R-1, alpha/2) s / sqrt(R)``.
    """
    errors = np.asarray(errors, np.float64)
    stderrs = np.asarray(stderrs, np.float64)
    r = errors.size
    report = Report(f"{name}: {r} independent estimates, alpha = {alpha:g}")
    s = float(errors.std(ddof=1))
    rms = float(np.sqrt(np.mean(stderrs**2)))
    ratio = s / rms
    lo = math.sqrt(stats.f.ppf(alpha / 2, r - 1, r * stderr_dof))
    hi = math.sqrt(stats.f.isf(alpha / 2, r - 1, r * stderr_dof))
    report.add(
        "calibration",
        lo <= ratio <= hi,
        f"error spread / reported stderr: {s:.4f} / {rms:.4f} = {ratio:.2f}, accepted [{lo:.2f}, {hi:.2f}] "
        f"(F({r - 1}, {r * stderr_dof}))",
        spread=s, rms_stderr=rms, ratio=ratio,
    )
    mean = float(errors.mean())
    tcrit = float(stats.t.isf(alpha / 2, r - 1))
    report.add(
        "bias",
        abs(mean) <= tcrit * s / math.sqrt(r),
        f"mean error {mean:+.4f} vs {tcrit:.2f} x {s:.4f} / sqrt({r}) = {tcrit * s / math.sqrt(r):.4f}",
        mean_error=mean,
    )
    return report


# ------------------------------------------------------------ exact moments of a small model


def exact_moments(bm: BoltzmannMachine) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Exact ``<z_i>``, ``<z_i z_j>`` (full ``(L, L)`` matrix), ``<E>`` and ``log Z`` by enumeration.

    Example:
        >>> bm = BoltzmannMachine.from_arrays([0.0, 0.0], None)
        >>> means, pairs, mean_e, log_z = exact_moments(bm)
        >>> means.tolist(), round(log_z, 6)
        ([0.5, 0.5], 1.386294)
    """
    target = exact_target(bm)
    x = target.states.astype(np.float64)
    energy = brute_force_energies(bm, target.states)
    return target.p @ x, (x * target.p[:, None]).T @ x, float(target.p @ energy), target.log_z
