"""Boltzmann samplers: the contract and the built-in implementations."""

from .base import (
    BoltzmannMachine,
    BoltzmannSampler,
    DimodSamplerAdapter,
    SampleResult,
    SamplerError,
    SamplerOutputError,
    SamplerTimeoutError,
    check_samples,
)

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
