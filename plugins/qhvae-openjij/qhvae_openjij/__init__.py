"""qhvae-openjij: OpenJij's simulated quantum annealing as a qhvae sampler.

After ``pip install qhvae-openjij`` the sampler is registered through the ``qhvae``
entry-point group; nothing needs importing::

    >>> import qhvae
    >>> "openjij-sqa" in {row.name for row in qhvae.list_samplers()}
    True

See :class:`qhvae_openjij.sampler.OpenJijSQASampler` for what it does and its
parameters.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["OpenJijSQASampler", "__version__"]


def __getattr__(name: str):
    # Lazy, so that importing the package (e.g. for its version) does not import OpenJij.
    if name == "OpenJijSQASampler":
        from .sampler import OpenJijSQASampler

        return OpenJijSQASampler
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
