"""The module qhvae loads through the entry point: one hook returning sampler entries.

Keep it small and cheap to import: ``qhvae samplers`` imports every plugin module. If
your sampler needs a heavy library, import it inside the factory (see the
``qhvae-openjij`` plugin) so that only building the sampler pays for it.
"""

from __future__ import annotations

from qhvae import SamplerEntry, hookimpl

from .sampler import TemplateMetropolisSampler

__all__ = ["qhvae_samplers"]


@hookimpl
def qhvae_samplers() -> list[SamplerEntry]:
    """The samplers this plugin provides (the whole plugin contract)."""
    return [
        SamplerEntry(
            name="template-metropolis",  # RENAME: what users pass to qhvae.get_sampler
            factory=TemplateMetropolisSampler,  # called as factory(**config)
            description="template: single-site Metropolis at beta = 1 (numpy, vectorized over chains)",
            # The sampler contract version you wrote against. Write the number, not
            # qhvae.CONTRACT_VERSION: that would always equal the *installed* qhvae's version
            # and hide a real incompatibility.
            contract_version=1,
        )
    ]
