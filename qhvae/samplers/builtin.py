"""The built-in samplers, registered through the ``qhvae`` entry-point group like any plugin."""

from __future__ import annotations

from ..hookspecs import CONTRACT_VERSION, SamplerEntry, hookimpl

__all__ = ["qhvae_samplers"]


def _exact(**config):
    from .exact import ExactSampler
    return ExactSampler(**config)


def _gibbs(**config):
    from .gibbs import GibbsSampler
    return GibbsSampler(**config)


def _pa(**config):
    from .pa import PopulationAnnealingSampler
    return PopulationAnnealingSampler(**config)


def _sa(**config):
    from .sa import SimulatedAnnealingSampler
    return SimulatedAnnealingSampler(**config)


@hookimpl
def qhvae_samplers() -> list[SamplerEntry]:
    return [
        SamplerEntry("exact", _exact, "exact enumeration (components up to 20 units; Bernoulli of any size)", CONTRACT_VERSION),
        SamplerEntry("gibbs", _gibbs, "persistent block Gibbs (PCD) over the graph colouring", CONTRACT_VERSION),
        SamplerEntry("pa", _pa, "population annealing beta 0 -> 1; log Z with error bar", CONTRACT_VERSION),
        SamplerEntry("sa", _sa, "dwave-samplers simulated annealing ending at beta = 1", CONTRACT_VERSION),
    ]
