"""The emulator's noise model: profiles, freeze-out physics, drift, control errors, read-out.

What a call samples is a *noisy Boltzmann distribution* of the programmed Ising problem,

    P(s) ~ exp(-beta_eff * (sum_i h'_i s_i + sum_(ij) J'_ij s_i s_j)),

where

* ``beta_eff = B(s*) / (2 k_B T)`` (D-Wave's convention ``H = B(s)/2 H_P``, as in
  ``dwave.system.temperatures.freezeout_effective_temperature``), ``B(s)`` a quadratic
  model of the problem energy scale anchored on a published point, and ``s*`` the
  freeze-out point of the anneal schedule (:func:`freeze_out_point`);
* ``beta_eff`` drifts slowly between calls (:class:`BetaDrift`, an Ornstein-Uhlenbeck
  walk of ``log beta``, i.e. of the device temperature);
* ``h' = Q(h) + o + dh`` and ``J' = Q(J) + dJ`` (:func:`control_errors`): ``Q`` rounds to
  a finite DAC grid, ``o`` is a per-qubit offset fixed at construction (a persistent
  bias, which spin-reversal transforms average out), ``dh, dJ`` Gaussian integrated
  control errors (ICE) drawn afresh for every call;
* each read-out spin is flipped with a small probability (:func:`flip_readout`).

Every number lives in a :class:`NoiseProfile` (named profiles ``"ideal"``, ``"low"``,
``"high"``); ``docs/emulator.md`` lists them with their sources. The samples are drawn
by qhvae's block-Gibbs kernels (:func:`boltzmann_spins`) on the qubits that carry the
problem only, one independent chain per read, annealed from ``beta = 0`` and then held
at ``beta_eff``.

Example:
    >>> s_star = freeze_out_point([[0.0, 0.0], [20.0, 1.0]], PROFILES["low"])
    >>> round(s_star, 3), round(beta_at_freeze_out(s_star, PROFILES["low"]), 2)
    (0.45, 4.23)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from ....validation import check_int, is_integer
from ..._kernels import seed_streams
from ...conversions import binary_to_spins
from ...gibbs import ChainRunner, coloring_for
from ...machine import BoltzmannMachine

__all__ = [
    "NoiseProfile",
    "PROFILES",
    "noise_profile",
    "problem_energy_scale_ghz",
    "beta_at_freeze_out",
    "freeze_out_point",
    "BetaDrift",
    "quantize",
    "control_errors",
    "flip_readout",
    "boltzmann_spins",
    "PLANCK",
    "BOLTZMANN",
]

PLANCK = 6.62607015e-34  # J s (exact, SI 2019)
BOLTZMANN = 1.380649e-23  # J / K (exact, SI 2019)


@dataclass(frozen=True)
class NoiseProfile:
    """Every number of the emulator's physics (see ``docs/emulator.md`` for the sources).

    Attributes:
        name: label (shown in ``properties['chip_id']``).
        temperature_mk: physical temperature ``T`` of the device, mK.
        b_ref_ghz, s_ref, b_exponent: the problem energy scale ``B(s) = b_ref_ghz *
            (s / s_ref) ** b_exponent`` GHz (quadratic, anchored on a published point).
        freeze_s: freeze-out point ``s*`` of a plain forward anneal of the reference
            duration (the default annealing time, 20 us).
        freeze_width: ``w`` in the relaxation time ``tau(s) = (w / r_ref) exp((s - freeze_s) / w)``
            (``r_ref = 1 / 20 us``): how fast freeze-out moves with the anneal speed.
        fixed_beta: if set, ``beta_eff`` before drift is this number whatever the schedule.
        drift_sigma: stationary standard deviation of ``log beta_eff`` (relative drift).
        drift_corr_calls: correlation time of the drift, in calls.
        ice_sigma_h, ice_sigma_j: standard deviations of the per-call control errors on h
            and J, in the units of h_range / j_range.
        offset_sigma_h: standard deviation of the per-qubit persistent offsets on h.
        readout_flip: probability that a read-out spin is flipped.
        h_bits, j_bits: resolution of the h and J DACs: the grid step is
            ``(max - min) / 2 ** bits`` of h_range / j_range; ``None`` is exact.
        sweeps: block-Gibbs sweeps per read (half annealing beta up from 0, half at
            ``beta_eff``): the thermalization budget. Strongly coupled problems need many
            sweeps to equilibrate; fewer sweeps emulate the incomplete thermalization the
            paper (Sec. IV.C) names as a source of bias.
    """

    name: str = "custom"
    temperature_mk: float = 12.0
    b_ref_ghz: float = 3.91
    s_ref: float = 0.612
    b_exponent: float = 2.0
    freeze_s: float = 0.45
    freeze_width: float = 0.03
    fixed_beta: float | None = None
    drift_sigma: float = 0.0
    drift_corr_calls: float = 50.0
    ice_sigma_h: float = 0.0
    ice_sigma_j: float = 0.0
    offset_sigma_h: float = 0.0
    readout_flip: float = 0.0
    h_bits: int | None = None
    j_bits: int | None = None
    sweeps: int = 1024

    def __post_init__(self) -> None:
        positive = ("temperature_mk", "b_ref_ghz", "s_ref", "b_exponent", "freeze_width", "drift_corr_calls")
        for name in positive:
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"NoiseProfile.{name} must be a positive number, got {value!r}")
        for name in ("drift_sigma", "ice_sigma_h", "ice_sigma_j", "offset_sigma_h"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"NoiseProfile.{name} must be a non-negative number, got {value!r}")
        if not 0.0 < self.freeze_s <= 1.0:
            raise ValueError(f"NoiseProfile.freeze_s must lie in (0, 1], got {self.freeze_s!r}")
        if not 0.0 <= self.readout_flip < 0.5:
            raise ValueError(f"NoiseProfile.readout_flip must lie in [0, 0.5), got {self.readout_flip!r}")
        if self.fixed_beta is not None and not (math.isfinite(self.fixed_beta) and self.fixed_beta > 0):
            raise ValueError(f"NoiseProfile.fixed_beta must be positive or None, got {self.fixed_beta!r}")
        for name in ("h_bits", "j_bits"):
            bits = getattr(self, name)
            if bits is not None and not (is_integer(bits) and 1 <= bits <= 32):
                raise ValueError(f"NoiseProfile.{name} must be an integer in 1..32 or None, got {bits!r}")
        check_int("NoiseProfile.sweeps", self.sweeps, minimum=2)

    def replace(self, **changes: Any) -> NoiseProfile:
        """A copy with some numbers changed (``name`` becomes ``'<name>*'`` unless given)."""
        changes.setdefault("name", self.name if self.name.endswith("*") else self.name + "*")
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """The profile's numbers as a plain dict (``properties['emulator']['noise_profile']``)."""
        return asdict(self)


#: The named profiles. ``ideal``: no noise, no drift (exact Boltzmann at the schedule's
#: beta_eff). ``low``/``high``: a quieter and a noisier device, in the spirit of the
#: Lower-Noise and Baseline D-Wave 2000Q of the paper's Fig. 11. Sources: docs/emulator.md.
PROFILES: dict[str, NoiseProfile] = {
    "ideal": NoiseProfile(name="ideal"),
    "low": NoiseProfile(
        name="low", temperature_mk=12.0, freeze_s=0.45, drift_sigma=0.03, drift_corr_calls=50.0,
        ice_sigma_h=0.02, ice_sigma_j=0.02, offset_sigma_h=0.01, readout_flip=0.001, h_bits=10, j_bits=10,
        sweeps=256,
    ),
    "high": NoiseProfile(
        name="high", temperature_mk=15.4, freeze_s=0.40, drift_sigma=0.10, drift_corr_calls=20.0,
        ice_sigma_h=0.05, ice_sigma_j=0.04, offset_sigma_h=0.03, readout_flip=0.005, h_bits=8, j_bits=8,
        sweeps=128,
    ),
}


def noise_profile(noise: str | NoiseProfile) -> NoiseProfile:
    """A :class:`NoiseProfile` given as itself or by its name in :data:`PROFILES`.

    Example:
        >>> noise_profile("high").temperature_mk
        15.4
    """
    if isinstance(noise, NoiseProfile):
        return noise
    if isinstance(noise, str) and noise in PROFILES:
        return PROFILES[noise]
    raise ValueError(f"noise must be one of {sorted(PROFILES)} or a NoiseProfile, got {noise!r}")


# --------------------------------------------------------------------- the beta_eff model


def problem_energy_scale_ghz(s: float | np.ndarray, profile: NoiseProfile) -> float | np.ndarray:
    """``B(s) = b_ref_ghz * (s / s_ref) ** b_exponent`` in GHz (monotone increasing in s)."""
    s = np.clip(s, 0.0, 1.0)
    return profile.b_ref_ghz * (s / profile.s_ref) ** profile.b_exponent


def beta_at_freeze_out(s_star: float, profile: NoiseProfile) -> float:
    """``beta_eff = B(s*) / (2 k_B T)`` (D-Wave's ``H = B(s)/2 H_P``), unitless, per unit of h and J."""
    b_joule = float(problem_energy_scale_ghz(s_star, profile)) * 1e9 * PLANCK
    return b_joule / (2.0 * BOLTZMANN * profile.temperature_mk * 1e-3)


def freeze_out_point(schedule: Sequence[Sequence[float]], profile: NoiseProfile,
                     reference_time: float = 20.0) -> float:
    """Freeze-out point ``s*`` of a validated forward schedule ``[(t, s), ...]``.

    The system follows equilibrium while relaxation is fast compared with the schedule.
    Relaxation time ``tau(s) = (w / r_ref) exp((s - s_f) / w)`` grows with s (``s_f`` =
    ``profile.freeze_s``, ``w`` = ``profile.freeze_width``, ``r_ref = 1 / reference_time``).
    Walking the segments with ``s_eq`` the last point at which the state was in equilibrium
    (starting at 0):

    * a ramp of slope ``r`` from ``s_a`` to ``s_b`` keeps up with equilibrium up to
      ``s_r = s_f + w ln(r_ref / r)`` (where ``tau(s) r = w``): if ``s_r >= s_a`` then
      ``s_eq = max(s_eq, min(s_b, s_r))``; otherwise it stays frozen;
    * a pause of duration ``d`` at ``s_p`` relaxes part of the way:
      ``s_eq += (s_p - s_eq) (1 - exp(-d / tau(s_p)))``.

    So a plain anneal of the reference duration freezes at ``s_f``, slower anneals freeze
    later (``w ln 10`` per decade), and a pause long compared with ``tau(s_p)`` followed by
    the fastest quench freezes at (nearly) the pause point.
    """
    w, s_f = profile.freeze_width, profile.freeze_s
    r_ref = 1.0 / reference_time
    s_eq = 0.0
    pts = [(float(t), float(s)) for t, s in schedule]
    for (t0, s0), (t1, s1) in zip(pts, pts[1:], strict=False):
        dt, ds = t1 - t0, s1 - s0
        if ds > 0:
            s_r = s_f + w * math.log(r_ref * dt / ds)
            if s_r >= s0:
                s_eq = max(s_eq, min(s1, s_r))
        elif s0 > s_eq:
            tau = (w / r_ref) * math.exp((s0 - s_f) / w)
            s_eq += (s0 - s_eq) * -math.expm1(-dt / tau)
    return s_eq


class BetaDrift:
    """The slow drift of ``beta_eff`` between calls: an Ornstein-Uhlenbeck walk of ``log beta``.

    ``x <- a x + sigma sqrt(1 - a^2) N(0, 1)`` with ``a = exp(-1 / drift_corr_calls)``, so
    ``x`` stays at stationary standard deviation ``drift_sigma``; the factor is ``exp(x)``.

    Args:
        profile: gives ``drift_sigma`` and ``drift_corr_calls`` (no drift when sigma is 0).
        start: seeds the stationary starting point.
        steps: seeds the innovations.

    Example:
        >>> ss = np.random.SeedSequence(0).spawn(2)
        >>> drift = BetaDrift(PROFILES["ideal"], *ss)
        >>> drift.step(), drift.factor
        (1.0, 1.0)
    """

    def __init__(self, profile: NoiseProfile, start: np.random.SeedSequence, steps: np.random.SeedSequence):
        self.profile = profile
        self._rng = np.random.default_rng(steps)
        sigma = profile.drift_sigma
        self.x = float(np.random.default_rng(start).normal(0.0, sigma)) if sigma else 0.0

    @property
    def factor(self) -> float:
        """The current factor ``exp(x)`` (the next call steps it first)."""
        return math.exp(self.x)

    def step(self) -> float:
        """Advance one call and return the new factor."""
        p = self.profile
        if p.drift_sigma > 0:
            a = math.exp(-1.0 / p.drift_corr_calls)
            self.x = a * self.x + p.drift_sigma * math.sqrt(1.0 - a * a) * float(self._rng.standard_normal())
        return math.exp(self.x)


# ------------------------------------------------------------------ per-call control errors


def quantize(x: np.ndarray, bits: int | None, lo: float, hi: float) -> np.ndarray:
    """``x`` rounded to a DAC grid of step ``(hi - lo) / 2 ** bits`` (``bits=None``: unchanged).

    Example:
        >>> quantize(np.array([1.3, -0.4]), 3, -4.0, 4.0).tolist()
        [1.0, -0.0]
    """
    if bits is None:
        return x
    step = (hi - lo) / 2.0**bits
    return np.round(x / step) * step


def control_errors(h: np.ndarray, J: np.ndarray, offsets: np.ndarray, profile: NoiseProfile,
                   h_range: Sequence[float], j_range: Sequence[float], seq: np.random.SeedSequence
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The fields and couplings actually sampled: ``h' = Q(h) + o + dh``, ``J' = Q(J) + dJ``.

    Args:
        h, J: the programmed fields and couplings (after ``auto_scale``).
        offsets: the persistent per-qubit offsets ``o`` of the qubits of ``h``.
        profile: gives the DAC resolutions and the ICE standard deviations.
        h_range, j_range: the device's ranges (the DAC grids span them).
        seq: seeds this call's integrated control errors ``dh, dJ``.
    """
    h_q = quantize(h, profile.h_bits, *h_range)
    j_q = quantize(J, profile.j_bits, *j_range)
    ice = np.random.default_rng(seq)
    h_s = h_q + offsets if h_q.size else h_q.copy()
    if profile.ice_sigma_h:
        h_s = h_s + ice.normal(0.0, profile.ice_sigma_h, h_s.size)
    j_s = j_q + ice.normal(0.0, profile.ice_sigma_j, j_q.size) if profile.ice_sigma_j else j_q.copy()
    return h_s, j_s


def flip_readout(spins: np.ndarray, profile: NoiseProfile, seq: np.random.SeedSequence) -> int:
    """Flip each read-out spin with probability ``profile.readout_flip``, in place; the number flipped."""
    if not (profile.readout_flip and spins.size):
        return 0
    mask = np.random.default_rng(seq).random(spins.shape) < profile.readout_flip
    spins[mask] *= -1
    return int(mask.sum())


# ------------------------------------------------------------------------- thermal sampling


def boltzmann_spins(h: np.ndarray, edges: np.ndarray, J: np.ndarray, beta: float, num_reads: int,
                    num_sweeps: int, seq: np.random.SeedSequence, colorings: dict,
                    runners: dict | None = None) -> np.ndarray:
    """Independent chains of ``exp(-beta E_spin)``; returns ``(num_reads, n)`` int8 spins.

    ``E_spin(s) = E_binary(z) + const`` with ``s = 2z - 1``: ``b = 2h - 2 sum_j J_ij``,
    ``W = 4J`` (the same conversion as dimod's ``change_vartype``). Each chain is annealed
    from hot (``beta -> 0``, like the transverse field) in 8 steps over half of
    ``num_sweeps``, then held at ``beta`` for the other half.

    Args:
        h, edges, J: the Ising problem over ``n`` qubits (``edges`` index into ``h``).
        beta: the inverse temperature sampled.
        num_reads: chains (reads).
        num_sweeps: block-Gibbs sweeps per chain.
        seq: seeds the initial states and the chains' streams.
        colorings: the caller's colouring cache (:func:`qhvae.samplers.gibbs.coloring_for`).
        runners: the caller's cache of chain structure (:meth:`ChainRunner.for_machine`), if any.
    """
    n = h.size
    b = 2.0 * h
    if J.size:
        np.subtract.at(b, edges[:, 0], 2.0 * J)
        np.subtract.at(b, edges[:, 1], 2.0 * J)
    bm = BoltzmannMachine.from_arrays(b, (edges, 4.0 * J))
    colors = coloring_for(bm, None, colorings)
    runner = ChainRunner(bm, colors) if runners is None else ChainRunner.for_machine(bm, colors, runners)
    init_seq, stream_seq = seq.spawn(2)
    z = np.ascontiguousarray(np.random.default_rng(init_seq).integers(0, 2, (n, num_reads), dtype=np.uint8))
    streams = seed_streams(stream_seq, num_reads)
    ramp = num_sweeps // 2
    steps = min(8, ramp)
    for k in range(1, steps + 1):  # anneal from hot (beta -> 0) like the transverse field does
        sweeps = ramp // steps + (1 if k <= ramp % steps else 0)
        runner.sweep(z, streams, sweeps, beta * k / steps)
    runner.sweep(z, streams, num_sweeps - ramp, beta)
    return binary_to_spins(z.T)
