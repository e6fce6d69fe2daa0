"""The whole plugin contract: one hook that returns sampler entries.

A plugin is a module (or object) with a :func:`qhvae_samplers` hook implementation,
advertised in its package metadata under the ``qhvae`` entry-point group::

    [project.entry-points.qhvae]
    mysampler = "my_package.qhvae_plugin"

and the module::

    from qhvae.hookspecs import SamplerEntry, hookimpl

    @hookimpl
    def qhvae_samplers():
        return [SamplerEntry("mysampler", MySampler, "what it does", contract_version=1)]

``factory(**config)`` must return a :class:`qhvae.BoltzmannSampler` (or any
``dimod.Sampler``, which qhvae wraps). ``contract_version`` is the version of this
contract the plugin implements, and must be declared: a sampler that declares none, or
another version than :data:`CONTRACT_VERSION`, is listed with the reason and refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pluggy

__all__ = ["CONTRACT_VERSION", "PROJECT_NAME", "SamplerEntry", "hookimpl", "hookspec", "qhvae_samplers"]

PROJECT_NAME = "qhvae"
CONTRACT_VERSION = 1

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@dataclass(frozen=True)
class SamplerEntry:
    """One sampler a plugin offers.

    Attributes:
        name: unique name users pass to :func:`qhvae.get_sampler`. The built-ins' names
            (``exact``, ``gibbs``, ``pa``, ``sa``, ``qpu``, ``emulator``) belong to qhvae: a
            plugin's entry that claims one is refused and the built-in used.
        factory: ``factory(**config)`` builds the sampler.
        description: one line for ``qhvae samplers``.
        contract_version: version of this contract the plugin implements (required:
            ``None`` means undeclared, and the sampler is refused).
        sampler_options: names of the factory's options that take another sampler (a
            fallback, an auxiliary sampler). :func:`qhvae.get_sampler` builds a sampler
            given there by name before calling the factory, so the factory always gets an
            instance (or ``None``).
    """

    name: str
    factory: Callable[..., Any]
    description: str = ""
    contract_version: int | None = None
    sampler_options: tuple[str, ...] = ()


@hookspec
def qhvae_samplers() -> list[SamplerEntry]:
    """Return the samplers this plugin provides."""
    raise NotImplementedError  # a specification: pluggy calls the plugins' implementations, never this
