"""D-Wave QPUs and anything shaped like one: the sampler, its device I/O, beta_eff, the emulator.

* :mod:`~qhvae.samplers.qpu.sampler` - :class:`QPUSampler`: programs the prior onto a
  QPU-shaped dimod Structured sampler (``DWaveSampler``, ``MockDWaveSampler``, the
  emulator) with spin-reversal transforms and pause-and-quench schedules, and tracks
  ``beta_eff``;
* :mod:`~qhvae.samplers.qpu.layout` - :class:`DeviceLayout`: the one device I/O path
  (a machine programmed onto placed qubits in spin form; answers read back);
* :mod:`~qhvae.samplers.qpu.temperature` - :class:`BetaEffEstimator`: maximum
  pseudo-likelihood and the paper's Eq. C3;
* :mod:`~qhvae.samplers.qpu.emulator` - :class:`QPUEmulator`: a noise-injecting QPU
  look-alike.

Example:
    >>> import numpy as np
    >>> from qhvae import topology
    >>> device = QPUEmulator("chimera", (1, 1, 4), noise="ideal", seed=0)
    >>> s = QPUSampler(device, graph=topology.chimera(1), seed=0)
    >>> s.sample_arrays(np.zeros(8), None, 10, seed=1).shape
    (10, 8)
"""

from __future__ import annotations

from .emulator import PROFILES, EmulatorParameterError, NoiseProfile, QPUEmulator
from .layout import DeviceLayout, spin_parameters
from .sampler import TRANSIENT_ERRORS, QPUError, QPUSampler, balanced_transforms, connect_dwave
from .temperature import BETA_EFF_METHODS, BetaEffEstimator, mpl_inverse_temperature

__all__ = [
    "QPUSampler",
    "QPUError",
    "TRANSIENT_ERRORS",
    "connect_dwave",
    "spin_parameters",
    "balanced_transforms",
    "DeviceLayout",
    "BetaEffEstimator",
    "mpl_inverse_temperature",
    "BETA_EFF_METHODS",
    "QPUEmulator",
    "NoiseProfile",
    "PROFILES",
    "EmulatorParameterError",
]
