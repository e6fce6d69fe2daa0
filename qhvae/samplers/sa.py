"""dwave-samplers' simulated annealing, ending at beta = 1."""

from __future__ import annotations

from dwave.samplers import SimulatedAnnealingSampler as _DwaveSA

from ..validation import check_int
from .dimod_adapter import DimodSamplerAdapter

__all__ = ["SimulatedAnnealingSampler"]


class SimulatedAnnealingSampler(DimodSamplerAdapter):
    """Simulated annealing (dwave-samplers, C++) whose schedule ends at beta = 1.

    Each read anneals from ``beta_range[0]`` to ``beta_range[1] = 1`` over
    ``num_sweeps`` Metropolis sweeps, so its final state is approximately a Boltzmann
    sample at beta = 1 (exactly so as ``num_sweeps`` grows). ``beta_range=(1, 1)``
    runs plain Metropolis at beta = 1 from random states.

    Example:
        >>> import qhvae
        >>> s = qhvae.get_sampler("sa", num_sweeps=100)
        >>> s.sample_arrays([1.0, -1.0], None, 4, seed=3).shape
        (4, 2)
    """

    name = "sa"
    description = "dwave-samplers simulated annealing, schedule ending at beta = 1"

    def __init__(self, num_sweeps: int = 1000, beta_range: tuple[float, float] = (0.1, 1.0),
                 beta_schedule_type: str = "geometric"):
        super().__init__(_DwaveSA(), name="sa")
        self.default_params = {
            "num_sweeps": check_int("num_sweeps", num_sweeps),  # 2.5 must not quietly become 2
            "beta_range": self._check_range(beta_range),
            "beta_schedule_type": beta_schedule_type,
        }

    def _check_range(self, beta_range) -> tuple[float, float]:
        lo, hi = (float(b) for b in beta_range)
        if hi != 1.0 or not 0.0 < lo <= hi:
            raise ValueError(
                f"sa samples at beta = 1: beta_range must be (beta0, 1.0) with 0 < beta0 <= 1, "
                f"got {tuple(beta_range)}"
            )
        return lo, hi

    def _sample(self, bm, num_samples, seed, **params):
        if "beta_range" in params:
            params["beta_range"] = self._check_range(params["beta_range"])
        if "num_sweeps" in params:
            params["num_sweeps"] = check_int("num_sweeps", params["num_sweeps"])
        for forbidden in ("beta_schedule", "initial_states"):
            if forbidden in params:
                raise ValueError(f"{self.label}: '{forbidden}' is not supported; use beta_range and num_sweeps")
        return super()._sample(bm, num_samples, seed, **params)
