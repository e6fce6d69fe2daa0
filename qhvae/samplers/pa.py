"""Population annealing: Boltzmann samples at beta = 1 and an estimate of log Z."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy.special import logsumexp

from ..topology import LatentGraph
from ._kernels import energies, seed_streams
from .base import BoltzmannMachine, BoltzmannSampler, SampleResult
from .gibbs import ChainRunner, coloring_for

__all__ = ["PopulationAnnealingSampler", "anneal"]


def _ess_fraction(log_w: np.ndarray) -> float:
    w = np.exp(log_w - log_w.max())
    return float(w.sum() ** 2 / (w.size * (w * w).sum()))


def _next_beta(energy: np.ndarray, pops: list[np.ndarray], beta: float, ess_target: float) -> float:
    """Largest step keeping every population's reweighting ESS at or above ``ess_target``."""
    def worst(db: float) -> float:
        return min(_ess_fraction(-db * energy[p]) for p in pops)

    hi = 1.0 - beta
    if worst(hi) >= ess_target:
        return 1.0
    lo = 0.0
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if worst(mid) >= ess_target else (lo, mid)
    return beta + max(lo, 1e-6)


def _systematic(log_w: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    p = np.exp(log_w - log_w.max())
    cdf = np.cumsum(p / p.sum())
    cdf[-1] = 1.0
    positions = (rng.random() + np.arange(log_w.size)) / log_w.size
    return np.searchsorted(cdf, positions)


def anneal(
    bm: BoltzmannMachine,
    num_replicas: int,
    seed: np.random.SeedSequence,
    *,
    colors: np.ndarray,
    num_sweeps: int = 4,
    ess_target: float = 0.9,
    betas: Sequence[float] | None = None,
    num_populations: int = 1,
    resample: bool = True,
    max_steps: int = 100_000,
) -> tuple[np.ndarray, dict]:
    """Anneal ``num_replicas`` replicas from beta = 0 to 1; population annealing or AIS.

    At beta = 0 the replicas are exact uniform samples and ``log Z_0 = L log 2``. Each
    step to ``beta'`` multiplies ``Z`` by the replicas' mean weight
    ``exp(-(beta' - beta) E)``; with ``resample=True`` the replicas are then resampled
    in proportion to their weights (systematic resampling) within their population,
    otherwise the weights accumulate (annealed importance sampling). Then every replica
    gets ``num_sweeps`` block-Gibbs sweeps at ``beta'``.

    The replicas are split into ``num_populations`` independent populations; ``Z`` is
    the replica-weighted mean of their estimates (unbiased), and the error bar the
    spread between them. With one population the error bar is the delta-method
    estimate ``sqrt(sum_k var(w_k) / (R mean(w_k)^2))``, which ignores correlations
    between resampled replicas and so is optimistic.

    Returns:
        ``(samples (N, L) uint8, info)`` with ``log_z``, ``log_z_stderr``, ``num_steps``,
        ``betas`` and ``min_ess_fraction``.
    """
    n = bm.num_variables
    if num_populations < 1 or num_replicas < num_populations:
        raise ValueError(f"need 1 <= num_populations <= num_replicas, got {num_populations} and {num_replicas}")
    if not 0.0 < ess_target < 1.0:
        raise ValueError(f"ess_target must be in (0, 1), got {ess_target}")
    schedule = None
    if betas is not None:
        schedule = np.asarray(betas, dtype=np.float64)
        if schedule.ndim != 1 or schedule.size == 0 or np.any(np.diff(schedule) <= 0) or schedule[0] <= 0:
            raise ValueError("betas must be a strictly increasing schedule of positive values ending at 1.0")
        if not np.isclose(schedule[-1], 1.0):
            raise ValueError(f"betas must end at 1.0 (samples are at beta = 1), got {schedule[-1]}")
    init_seed, stream_seed, resample_seed = seed.spawn(3)
    rng = np.random.default_rng(resample_seed)
    streams = seed_streams(stream_seed, num_replicas)
    z = np.random.default_rng(init_seed).integers(0, 2, (n, num_replicas), np.uint8)
    runner = ChainRunner(bm, colors)
    pops = np.array_split(np.arange(num_replicas), num_populations)
    log_z = np.full(num_populations, n * np.log(2.0))
    variance_terms = 0.0
    log_w_total = np.zeros(num_replicas)
    energy = energies(z, bm.linear, bm.edges, bm.weights)
    beta, step, min_ess, trace = 0.0, 0, 1.0, [0.0]
    while beta < 1.0:
        if step >= max_steps:
            raise RuntimeError(f"population annealing did not reach beta = 1 in {max_steps} steps")
        new_beta = float(schedule[step]) if schedule is not None else _next_beta(energy, pops, beta, ess_target)
        new_beta = min(new_beta, 1.0)
        log_w = -(new_beta - beta) * energy
        for m, p in enumerate(pops):
            inc = logsumexp(log_w[p]) - np.log(p.size)
            log_z[m] += inc
            w = np.exp(log_w[p] - inc)
            variance_terms += float(np.var(w) / p.size) / num_populations
            min_ess = min(min_ess, _ess_fraction(log_w[p]))
        if resample:
            index = np.concatenate([p[_systematic(log_w[p], rng)] for p in pops])
            z = np.ascontiguousarray(z[:, index])
        else:
            log_w_total += log_w
        beta = new_beta
        trace.append(beta)
        runner.sweep(z, streams, num_sweeps, beta)
        energy = energies(z, bm.linear, bm.edges, bm.weights)
        step += 1
    if not resample:
        # Annealed importance sampling: Z_m = 2^L mean(w); return weight-resampled states.
        log_z = np.array([n * np.log(2.0) + logsumexp(log_w_total[p]) - np.log(p.size) for p in pops])
        weights = np.exp(log_w_total - log_w_total.max())
        variance_terms = float(np.var(weights / weights.mean()) / num_replicas)
        index = np.concatenate([p[_systematic(log_w_total[p], rng)] for p in pops])
        z = z[:, index]
    sizes = np.array([p.size for p in pops], dtype=np.float64)
    total = float(logsumexp(log_z, b=sizes / sizes.sum()))
    if num_populations > 1:
        ratio = np.exp(log_z - total)
        stderr = float(np.std(ratio, ddof=1) / np.sqrt(num_populations))
        method = "spread of independent populations"
    else:
        stderr = float(np.sqrt(variance_terms))
        method = "delta method (optimistic)"
    info = {
        "log_z": total - bm.offset,
        "log_z_stderr": stderr,
        "log_z_stderr_method": method,
        "log_z_populations": (log_z - bm.offset).tolist(),
        "num_steps": step,
        "betas": trace,
        "min_ess_fraction": min_ess,
    }
    return np.ascontiguousarray(z.T), info


class PopulationAnnealingSampler(BoltzmannSampler):
    """Population annealing (PA) from beta = 0 to 1 with block-Gibbs moves.

    Returns ``num_reads`` replicas at beta = 1 (correlated through resampling, each
    marginally Boltzmann) and, in ``info``, ``log_z`` with its error bar. The inverse
    temperature steps are chosen adaptively so that the effective sample size of every
    reweighting stays at ``ess_target`` of the population, unless ``betas`` is given.

    Args:
        num_sweeps: block-Gibbs sweeps per temperature step.
        ess_target: target effective-sample-size fraction per step (adaptive schedule).
        num_populations: independent populations; more than one gives an honest error
            bar on ``log Z`` from their spread. ``None``: as many as keep at least 125
            replicas each, at most 8.
        graph: optional latent graph whose colouring to use.

    Example:
        >>> import qhvae
        >>> s = qhvae.get_sampler("pa")
        >>> ss = s.sample_arrays([0.0, 0.0, 0.0], None, 100, seed=1)
        >>> ss.shape
        (100, 3)
    """

    name = "pa"
    description = "population annealing beta 0 -> 1 with block Gibbs moves; log Z with error bar"
    provides_log_z = True
    sampler_parameters = {
        "num_sweeps": "block-Gibbs sweeps per temperature step",
        "ess_target": "effective-sample-size fraction kept by each step",
        "betas": "explicit inverse-temperature schedule ending at 1.0",
        "num_populations": "independent populations for the log Z error bar",
        "resample": "False turns population annealing into annealed importance sampling",
    }

    def __init__(
        self,
        num_sweeps: int = 4,
        ess_target: float = 0.9,
        num_populations: int | None = None,
        graph: LatentGraph | None = None,
    ):
        self.defaults = {"num_sweeps": int(num_sweeps), "ess_target": float(ess_target)}
        self.num_populations = num_populations
        self.graph = graph
        self._colorings: dict = {}

    def _sample(self, bm, num_samples, seed, **params):
        kwargs = {**self.defaults, **params}
        pops = kwargs.pop("num_populations", self.num_populations)
        if pops is None:
            pops = int(np.clip(num_samples // 125, 1, 8))
        samples, info = anneal(
            bm, num_samples, seed, colors=coloring_for(bm, self.graph, self._colorings),
            num_populations=int(pops), **kwargs,
        )
        return SampleResult(samples, info)
