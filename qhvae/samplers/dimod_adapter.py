"""Any :class:`dimod.Sampler` that draws Boltzmann samples as a qhvae sampler: :class:`DimodSamplerAdapter`."""

from __future__ import annotations

from typing import Any

import dimod
import numpy as np

from ..exceptions import SamplerOutputError
from .base import BoltzmannSampler, SampleResult
from .conversions import samples_in_order

__all__ = ["DimodSamplerAdapter"]


class DimodSamplerAdapter(BoltzmannSampler):
    """Wrap any :class:`dimod.Sampler` that draws Boltzmann samples at beta = 1 as a qhvae sampler.

    The wrapped sampler gets a BINARY BQM and its output is validated like any other.

    Args:
        sampler: the dimod sampler to wrap.
        name: name reported in errors and listings.
        **default_params: parameters passed to every ``sampler.sample`` call.

    Example:
        >>> from dwave.samplers import SimulatedAnnealingSampler
        >>> s = DimodSamplerAdapter(SimulatedAnnealingSampler(), name="sa-raw", beta_range=(1, 1))
        >>> s.sample_arrays([0.0, 1.0], None, 3, seed=2).shape
        (3, 2)
    """

    description = "any dimod sampler, wrapped"

    def __init__(self, sampler: dimod.Sampler, name: str | None = None, **default_params):
        if not isinstance(sampler, dimod.Sampler):
            raise TypeError(f"expected a dimod.Sampler, got {type(sampler).__name__}")
        self.sampler = sampler
        self.name = name or type(sampler).__name__
        self.default_params = default_params

    @property
    def sampler_parameters(self) -> dict[str, Any]:  # type: ignore[override]
        return {k: v for k, v in self.sampler.parameters.items() if k not in ("num_reads", "seed")}

    def _sample(self, bm, num_samples, seed, **params):
        kwargs = {**self.default_params, **params}
        if "seed" in self.sampler.parameters:
            # 31 bits: dwave-samplers rejects seeds >= 2**31 despite its message saying 2**32.
            kwargs["seed"] = int(seed.generate_state(1, dtype=np.uint32)[0] >> 1)
        if "num_reads" in self.sampler.parameters:
            kwargs["num_reads"] = num_samples
        sampleset = self.sampler.sample(bm.to_bqm(), **kwargs)
        if not isinstance(sampleset, dimod.SampleSet):
            raise SamplerOutputError(f"{self.label} returned {type(sampleset).__name__}, not a dimod.SampleSet")
        if sampleset.vartype is dimod.SPIN:
            sampleset = sampleset.change_vartype(dimod.BINARY, inplace=False)
        try:
            samples = samples_in_order(sampleset, range(bm.num_variables))
        except KeyError as exc:
            raise SamplerOutputError(
                f"{self.label} returned samples over the wrong variables: variable {exc} is missing"
            ) from exc
        return SampleResult(samples, dict(sampleset.info))
