"""The qhvae plugin module: the only thing qhvae loads through the entry point.

``pyproject.toml`` advertises it in the ``qhvae`` entry-point group::

    [project.entry-points.qhvae]
    openjij = "qhvae_openjij.plugin"

The factory imports OpenJij lazily, so ``qhvae samplers`` stays fast and a broken
OpenJij install shows up as a failed build of this sampler, not as a failed import of
qhvae.
"""

from __future__ import annotations

from typing import Any

from qhvae import SamplerEntry, hookimpl

__all__ = ["qhvae_samplers", "make_sqa_sampler"]


def make_sqa_sampler(**config: Any):
    """Build :class:`qhvae_openjij.sampler.OpenJijSQASampler` with ``config``."""
    from .sampler import OpenJijSQASampler

    return OpenJijSQASampler(**config)


@hookimpl
def qhvae_samplers() -> list[SamplerEntry]:
    """The samplers this plugin provides."""
    return [
        SamplerEntry(
            "openjij-sqa",
            make_sqa_sampler,
            "OpenJij simulated quantum annealing + classical Metropolis finish at beta = 1",
            contract_version=1,  # the qhvae sampler contract this plugin was written for
        )
    ]
