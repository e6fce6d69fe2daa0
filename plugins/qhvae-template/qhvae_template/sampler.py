"""A real, minimal sampler: single-site Metropolis at beta = 1, vectorized over chains.

Replace the body of :meth:`TemplateMetropolisSampler._sample` with your own algorithm;
keep the contract:

* take a :class:`qhvae.samplers.BoltzmannMachine` ``bm`` (``bm.linear`` ``(L,)``,
  ``bm.edges`` ``(E, 2)`` with ``i < j``, ``bm.weights`` ``(E,)``; ``bm.to_bqm()`` gives
  the BINARY dimod BQM), a number of samples and a :class:`numpy.random.SeedSequence`;
* return :class:`qhvae.samplers.SampleResult` with an ``(num_samples, L)`` array of 0/1
  that is Boltzmann at beta = 1 for ``E(z) = b.z + sum_(i<j) W_ij z_i z_j``;
* draw every random number from ``seed`` (same seed, same samples);
* raise ``ValueError`` naming the sampler (``self.label``) for bad parameters.

qhvae validates the rest at the boundary (finite parameters, output shape, 0/1 values)
and wraps the sampler as a :class:`dimod.Sampler` for you.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from qhvae import BoltzmannSampler
from qhvae.samplers import BoltzmannMachine, SampleResult

__all__ = ["TemplateMetropolisSampler"]


class TemplateMetropolisSampler(BoltzmannSampler):
    """Single-site Metropolis at beta = 1, one independent chain per sample.

    Every chain starts from a uniformly random state and runs ``num_sweeps`` sweeps;
    a sweep visits the units in order and flips unit ``i`` with probability
    ``min(1, exp(-dE))``, ``dE = (1 - 2 z_i) (b_i + sum_j W_ij z_j)``. All chains are
    updated together with numpy, so the cost is ``num_sweeps * L`` vector operations
    whatever the number of samples. Metropolis at beta = 1 leaves the Boltzmann
    distribution invariant, so the samples are Boltzmann at beta = 1 once the chains
    have mixed: raise ``num_sweeps`` for large or strongly coupled models.

    Args:
        num_sweeps: sweeps per chain (>= 1). Default 200.

    Example:
        >>> import numpy as np
        >>> s = TemplateMetropolisSampler(num_sweeps=50)
        >>> s.sample_arrays(np.zeros(3), None, 4, seed=0).shape
        (4, 3)
    """

    name = "template-metropolis"  # RENAME (must match the SamplerEntry name)
    description = "single-site Metropolis at beta = 1, numpy, vectorized over chains"
    #: Every parameter a call may pass, with its default; qhvae rejects any other.
    sampler_parameters: Mapping[str, Any] = {"num_sweeps": 200}
    origin = "qhvae-template"  # RENAME: your distribution name, so errors name your package

    def __init__(self, num_sweeps: int = 200):
        self.num_sweeps = self._check_sweeps(num_sweeps)

    def _check_sweeps(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{self.label}: num_sweeps must be a positive integer, got {value!r}")
        return int(value)

    def _sample(self, bm: BoltzmannMachine, num_samples: int, seed: np.random.SeedSequence, **params) -> SampleResult:
        num_sweeps = self._check_sweeps(params.get("num_sweeps", self.num_sweeps))
        rng = np.random.default_rng(seed)
        indptr, neighbors, weights = bm.csr()  # symmetric adjacency: row i lists j and W_ij
        linear = bm.linear
        z = rng.integers(0, 2, (num_samples, bm.num_variables)).astype(np.float64)
        for _ in range(num_sweeps):
            for i in range(bm.num_variables):
                lo, hi = indptr[i], indptr[i + 1]
                field = linear[i] + z[:, neighbors[lo:hi]] @ weights[lo:hi]
                delta = (1.0 - 2.0 * z[:, i]) * field  # energy change of flipping z_i
                accept = rng.random(num_samples) < np.exp(-np.maximum(delta, 0.0))
                z[accept, i] = 1.0 - z[accept, i]
        return SampleResult(z.astype(np.uint8), {"num_sweeps": num_sweeps})
