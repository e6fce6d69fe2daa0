"""qhvae: variational autoencoders with Boltzmann-machine priors sampled by annealers.

Example:
    >>> import qhvae
    >>> g = qhvae.topology.chimera(2)
    >>> sampler = qhvae.get_sampler("gibbs", graph=g)
    >>> sampler.sample_arrays([0.0] * g.num_nodes, None, 10, seed=0).shape
    (10, 32)
"""

from . import topology
from .hookspecs import CONTRACT_VERSION, SamplerEntry, hookimpl
from .registry import SamplerRegistry, configure_plugins, get_sampler, list_samplers
from .samplers import (
    BoltzmannMachine,
    BoltzmannSampler,
    DimodSamplerAdapter,
    SampleResult,
    SamplerError,
    SamplerOutputError,
    SamplerTimeoutError,
)
from .topology import LatentGraph

__version__ = "0.1.0"

__all__ = [
    "BoltzmannMachine",
    "BoltzmannSampler",
    "CONTRACT_VERSION",
    "DimodSamplerAdapter",
    "LatentGraph",
    "SampleResult",
    "SamplerEntry",
    "SamplerError",
    "SamplerTimeoutError",
    "configure_plugins",
    "SamplerOutputError",
    "SamplerRegistry",
    "get_sampler",
    "hookimpl",
    "list_samplers",
    "topology",
    "__version__",
]
