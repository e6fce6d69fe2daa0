"""The built-in samplers, registered through the ``qhvae`` entry-point group like any plugin.

The factories import their sampler on first use, so listing the samplers loads none of
them. A factory that uses a latent graph says so with an explicit ``graph`` parameter:
the registry passes the graph on to such a sampler when another one (the qpu sampler's
``fallback``) names it.
"""

from __future__ import annotations

from ..hookspecs import CONTRACT_VERSION, SamplerEntry, hookimpl

__all__ = ["qhvae_samplers"]

#: Options of the qpu and emulator samplers that take another sampler, by name or instance.
_QPU_SAMPLER_OPTIONS = ("fallback", "aux_sampler")


def _exact(**config):
    from .exact import ExactSampler
    return ExactSampler(**config)


def _gibbs(graph=None, **config):
    from .gibbs import GibbsSampler
    return GibbsSampler(graph=graph, **config)


def _pa(graph=None, **config):
    from .pa import PopulationAnnealingSampler
    return PopulationAnnealingSampler(graph=graph, **config)


def _sa(**config):
    from .sa import SimulatedAnnealingSampler
    return SimulatedAnnealingSampler(**config)


# qpu and emulator name their ``seed`` so that the registry can see they take one and pass a
# run's seed on (SamplerRegistry.seeded_options): they own random sources beyond a call's seed.
def _qpu(graph=None, seed=None, **config):
    from .qpu import QPUSampler
    return QPUSampler(graph=graph, seed=seed, **config)


# Constructor arguments of the emulated device; the rest configure the QPU sampler over it.
_EMULATOR_DEVICE_KEYS = ("topology_type", "topology_shape", "broken_nodes", "broken_edges", "qubit_yield",
                         "coupler_yield", "noise", "num_sweeps", "chip_id")


def _emulator(graph=None, noise_profile=None, device_seed=None, seed=None, **config):
    from .qpu import QPUEmulator, QPUSampler

    device_config = {k: config.pop(k) for k in _EMULATOR_DEVICE_KEYS if k in config}
    if noise_profile is not None:
        device_config["noise"] = noise_profile
    # Without either seed the emulated chip (offsets, dead qubits, drift) is a random one.
    device_config.setdefault("seed", device_seed if device_seed is not None else seed)
    if device_config.setdefault("topology_type", "pegasus") == "pegasus":
        device_config.setdefault("topology_shape", [16])  # Advantage-sized: room for a 288-unit Chimera patch
    if "flux_bias_constants" in config:
        # the emulated device turns flux biases back into h with the constants the sampler used
        device_config["flux_bias_constants"] = config["flux_bias_constants"]
    return QPUSampler(device=QPUEmulator(**device_config), graph=graph, seed=seed, **config)


@hookimpl
def qhvae_samplers() -> list[SamplerEntry]:
    """qhvae's own samplers: exact, gibbs, pa, sa, qpu and emulator."""
    return [
        SamplerEntry("exact", _exact, "exact enumeration (components up to 20 units; Bernoulli of any size)",
                     CONTRACT_VERSION),
        SamplerEntry("gibbs", _gibbs, "persistent block Gibbs (PCD) over the graph colouring", CONTRACT_VERSION),
        SamplerEntry("pa", _pa, "population annealing beta 0 -> 1; log Z with error bar", CONTRACT_VERSION),
        SamplerEntry("sa", _sa, "dwave-samplers simulated annealing ending at beta = 1", CONTRACT_VERSION),
        SamplerEntry("qpu", _qpu, "D-Wave QPU via dwave-system: spin-reversal transforms, pause-and-quench, "
                     "beta_eff tracking", CONTRACT_VERSION, sampler_options=_QPU_SAMPLER_OPTIONS),
        SamplerEntry("emulator", _emulator, "the qpu sampler on a noise-injecting QPU emulator "
                     "(noise_profile: ideal, low, high)", CONTRACT_VERSION, sampler_options=_QPU_SAMPLER_OPTIONS),
    ]
