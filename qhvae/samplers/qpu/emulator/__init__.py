"""A noise-injecting look-alike of a D-Wave QPU: :class:`QPUEmulator`.

The emulator has the interface of dwave-system's ``DWaveSampler`` (a
:class:`dimod.Structured` :class:`dimod.Sampler` with QPU-shaped ``properties`` and
``parameters``, validating every call like a QPU) and samples a physically meaningful
noisy Boltzmann distribution of the programmed Ising problem. It is built from two
parts kept apart:

* the device surface: :mod:`~qhvae.samplers.qpu.emulator.device` (the sampler and the
  record of each call) and :mod:`~qhvae.samplers.qpu.emulator.properties` (lattice,
  properties, parameter validation, programming ranges, the timing model);
* the noise model: :mod:`~qhvae.samplers.qpu.emulator.noise` (noise profiles,
  freeze-out physics and the drift of ``beta_eff``, per-call control errors, read-out
  flips, thermal sampling).

``docs/emulator.md`` lists every profile number with its source.

Example:
    >>> from qhvae.samplers.qpu.emulator import QPUEmulator
    >>> qpu = QPUEmulator("chimera", (2, 2, 4), noise="ideal", seed=0)
    >>> q0, q1 = qpu.edgelist[0]
    >>> ss = qpu.sample_ising({q0: -0.5, q1: 0.0}, {(q0, q1): -1.0}, num_reads=10, seed=1)
    >>> ss.vartype.name, int(ss.record.num_occurrences.sum())
    ('SPIN', 10)
"""

from __future__ import annotations

from .device import EmulatorCall, QPUEmulator
from .noise import PROFILES, NoiseProfile, beta_at_freeze_out, freeze_out_point, problem_energy_scale_ghz
from .properties import EmulatorParameterError

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
