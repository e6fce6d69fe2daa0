"""qhvae-template: a minimal, working qhvae sampler plugin to copy.

Once installed, qhvae finds the sampler through the ``qhvae`` entry-point group; nothing
needs importing::

    >>> import qhvae
    >>> qhvae.get_sampler("template-metropolis").name
    'template-metropolis'
"""

from .sampler import TemplateMetropolisSampler

__version__ = "0.1.0"

__all__ = ["TemplateMetropolisSampler", "__version__"]
