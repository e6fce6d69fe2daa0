"""Statistics helpers: exact moments by enumeration and a sample-size-derived moment test."""

from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.special import logsumexp

import qhvae

#: Family-wise false-alarm rate of one moment test (Bonferroni over its statistics).
ALPHA = 1e-4


def random_bm(graph: qhvae.LatentGraph, seed: int, scale: float) -> qhvae.BoltzmannMachine:
    """``b_i``, ``W_ij`` ~ U(-scale, scale) on ``graph``."""
    rng = np.random.default_rng(seed)
    return qhvae.BoltzmannMachine.from_arrays(
        rng.uniform(-scale, scale, graph.num_nodes), (graph.edges, rng.uniform(-scale, scale, graph.num_edges))
    )


def exact_moments(bm: qhvae.BoltzmannMachine) -> tuple[np.ndarray, np.ndarray, float, float]:
    """``<z_i>``, ``<z_i z_j>`` (full matrix), ``<E>`` and ``log Z`` by enumerating all 2**L states."""
    n = bm.num_variables
    k = np.arange(2**n, dtype=np.int64)
    states = ((k[:, None] >> np.arange(n)) & 1).astype(np.float64)
    energy = bm.energies(states)
    log_z = float(logsumexp(-energy))
    p = np.exp(-energy - log_z)
    return p @ states, (states * p[:, None]).T @ states, float(p @ energy), log_z


def moment_test(bm: qhvae.BoltzmannMachine, samples: np.ndarray, alpha: float = ALPHA) -> tuple[bool, str, float]:
    """z-test of every ``<z_i>`` and ``<z_i z_j>`` of i.i.d. ``samples`` against the exact values.

    Each statistic is the mean of ``N`` independent 0/1 variables with exact mean ``m``,
    so its standard error is ``sqrt(m (1 - m) / N)``: the tolerance is derived from the
    sample size, never tuned. The critical ``|z|`` is Bonferroni-corrected over all
    ``L + L (L - 1) / 2`` statistics at family-wise rate ``alpha``.

    Returns:
        ``(passed, message, worst |z|)`` with the worst statistic's numbers in the message.
    """
    n_samples, n = samples.shape
    means, pairs, _, _ = exact_moments(bm)
    x = samples.astype(np.float64)
    iu = np.triu_indices(n, 1)
    exact = np.concatenate([means, pairs[iu]])
    sampled = np.concatenate([x.mean(0), ((x.T @ x) / n_samples)[iu]])
    names = [f"<z{i}>" for i in range(n)] + [f"<z{i} z{j}>" for i, j in zip(*iu)]
    se = np.sqrt(np.maximum(exact * (1 - exact), 1.0 / n_samples) / n_samples)
    z = np.abs(sampled - exact) / se
    critical = stats.norm.ppf(1 - alpha / (2 * exact.size))
    w = int(np.argmax(z))
    msg = (f"worst {names[w]}: sampled {sampled[w]:.4f}, exact {exact[w]:.4f}, |error| {abs(sampled[w] - exact[w]):.4f}, "
           f"|z| {z[w]:.2f} (critical {critical:.2f} for {exact.size} statistics, N = {n_samples}); "
           f"max |marginal error| {np.abs(sampled - exact)[:n].max():.4f}, "
           f"max |pair error| {np.abs(sampled - exact)[n:].max():.4f}")
    return bool(z[w] <= critical), msg, float(z[w])
