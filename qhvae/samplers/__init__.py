"""Boltzmann samplers: the contract and the built-in implementations."""

from ..exceptions import SamplerError, SamplerOutputError, SamplerTimeoutError
from .base import BoltzmannSampler, SampleResult, check_samples
from .dimod_adapter import DimodSamplerAdapter
from .machine import BoltzmannMachine

__all__ = [
    "BoltzmannMachine",
    "BoltzmannSampler",
    "DimodSamplerAdapter",
    "SampleResult",
    "SamplerError",
    "SamplerOutputError",
    "SamplerTimeoutError",
    "check_samples",
]
