"""Deprecated: moved to :mod:`qhvae.samplers.qpu.temperature`.

This module re-exports the public names for one release and warns on import; import
from ``qhvae.samplers.qpu.temperature`` (or ``qhvae.samplers.qpu``) instead.
"""

from __future__ import annotations

import warnings

from .samplers.qpu.temperature import BETA_EFF_METHODS, BetaEffEstimator, mpl_inverse_temperature

__all__ = ["mpl_inverse_temperature", "BetaEffEstimator", "BETA_EFF_METHODS"]

warnings.warn("qhvae.temperature is deprecated and will be removed in the next release; import from "
              "qhvae.samplers.qpu.temperature instead", DeprecationWarning, stacklevel=2)
