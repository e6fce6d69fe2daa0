"""Deprecated: moved to :mod:`qhvae.samplers.qpu.emulator`.

This module re-exports the public names for one release and warns on import; import
from ``qhvae.samplers.qpu.emulator`` (or ``qhvae.samplers.qpu``) instead.
``pause_and_quench`` is gone: use :func:`qhvae.samplers.schedules.pause_quench`.
"""

from __future__ import annotations

import warnings

from .qpu.emulator import (
    PROFILES,
    EmulatorCall,
    EmulatorParameterError,
    NoiseProfile,
    QPUEmulator,
    beta_at_freeze_out,
    freeze_out_point,
    problem_energy_scale_ghz,
)

__all__ = [
    "NoiseProfile",
    "PROFILES",
    "QPUEmulator",
    "EmulatorCall",
    "EmulatorParameterError",
    "freeze_out_point",
    "beta_at_freeze_out",
    "problem_energy_scale_ghz",
]

warnings.warn("qhvae.samplers.emulator is deprecated and will be removed in the next release; import from "
              "qhvae.samplers.qpu.emulator instead", DeprecationWarning, stacklevel=2)
