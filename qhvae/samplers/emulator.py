"""A noise-injecting look-alike of a D-Wave QPU: :class:`QPUEmulator`.

The emulator has the interface of dwave-system's ``DWaveSampler`` (and of its test
double ``dwave.system.testing.MockDWaveSampler``): a :class:`dimod.Structured`
:class:`dimod.Sampler` with a working graph (``nodelist``/``edgelist``), QPU-shaped
``properties`` and ``parameters``, and QPU-like validation of every call. Unlike the
mock, what it returns is physically meaningful: samples of a *noisy Boltzmann
distribution* of the programmed Ising problem,

    P(s) ~ exp(-beta_eff * (sum_i h'_i s_i + sum_(ij) J'_ij s_i s_j)),

where

* ``beta_eff = B(s*) / (2 k_B T)`` (D-Wave's convention ``H = B(s)/2 H_P``, as in
  ``dwave.system.temperatures.freezeout_effective_temperature``), ``B(s)`` a quadratic
  model of the problem energy scale anchored on a published point, and ``s*`` the
  freeze-out point of the anneal schedule (:func:`freeze_out_point`);
* ``beta_eff`` drifts slowly between calls (an Ornstein-Uhlenbeck walk of ``log beta``,
  i.e. of the device temperature);
* ``h' = Q(h) + o + dh`` and ``J' = Q(J) + dJ``: ``Q`` rounds to a finite DAC grid,
  ``o`` is a per-qubit offset fixed at construction (a persistent bias, which
  spin-reversal transforms average out), ``dh, dJ`` Gaussian integrated control errors
  (ICE) drawn afresh for every call;
* each read-out spin is flipped with a small probability.

Every number lives in a :class:`NoiseProfile` (named profiles ``"ideal"``, ``"low"``,
``"high"``); ``docs/emulator.md`` lists them with their sources. The samples are drawn
by qhvae's block-Gibbs kernels (:class:`qhvae.samplers.gibbs.ChainRunner`) on the
qubits that carry the problem only, one independent chain per read, annealed from
``beta = 0`` and then held at ``beta_eff``.

Everything the tests need to know is exposed: :attr:`QPUEmulator.last_call` (the
``beta_eff``, ``h'`` and ``J'`` actually sampled), :meth:`QPUEmulator.true_beta_eff`,
:attr:`QPUEmulator.qubit_offsets`.

Example:
    >>> from qhvae.samplers.emulator import QPUEmulator
    >>> qpu = QPUEmulator("chimera", (2, 2, 4), noise="ideal", seed=0)
    >>> q0, q1 = qpu.edgelist[0]
    >>> ss = qpu.sample_ising({q0: -0.5, q1: 0.0}, {(q0, q1): -1.0}, num_reads=10, seed=1)
    >>> ss.vartype.name, int(ss.record.num_occurrences.sum())
    ('SPIN', 10)
    >>> round(qpu.last_call.beta_eff, 3) == round(qpu.true_beta_eff(), 3)
    True
"""

from __future__ import annotations

import math
import threading
import uuid
from collections import deque
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Iterable, Mapping, Sequence

import dimod
import networkx as nx
import numpy as np
from dimod.exceptions import BinaryQuadraticModelStructureError

from ..topology import greedy_coloring
from ._kernels import seed_streams
from .base import BoltzmannMachine
from .gibbs import ChainRunner
from .schedules import pause_quench, validate_schedule

__all__ = [
    "NoiseProfile",
    "PROFILES",
    "QPUEmulator",
    "EmulatorCall",
    "EmulatorParameterError",
    "freeze_out_point",
    "beta_at_freeze_out",
    "problem_energy_scale_ghz",
    "pause_and_quench",
]

PLANCK = 6.62607015e-34  # J s (exact, SI 2019)
BOLTZMANN = 1.380649e-23  # J / K (exact, SI 2019)

#: Problem timing data of Advantage_system4.1 (August 2022), as published by the solver and
#: copied in dwave-cloud-client's ``dwave.cloud.testing.mocks.qpu_problem_timing_data``.
ADVANTAGE_TIMING_DATA: dict[str, Any] = {
    "version": "1.0.0",
    "typical_programming_time": 14072.88,
    "reverse_annealing_with_reinit_prog_time_delta": 0.0,
    "reverse_annealing_without_reinit_prog_time_delta": 5.55,
    "default_programming_thermalization": 1000.0,
    "default_annealing_time": 20.0,
    "readout_time_model": "pwl_log_log",
    "readout_time_model_parameters": [
        0.0, 0.7699665876947938, 1.7242758696010096, 2.711975459489206, 3.1639057672764026,
        3.750276915153992, 1.539131714800995, 1.8726623164229292, 2.125631787097315,
        2.332672340068556, 2.371606651233025, 2.3716219271760215,
    ],
    "qpu_delay_time_per_sample": 20.54,
    "reverse_annealing_with_reinit_delay_time_delta": -4.5,
    "reverse_annealing_without_reinit_delay_time_delta": -1.5,
    "default_readout_thermalization": 0.0,
    "decorrelation_max_nominal_anneal_time": 2000.0,
    "decorrelation_time_range": [500.0, 10000.0],
}

# Parameters of a real QPU that the emulator refuses (it does not model them) rather than
# silently ignoring: a caller relying on them would get wrong physics without noticing.
_QPU_ONLY_PARAMETERS = {
    "anneal_offsets", "flux_biases", "flux_drift_compensation", "h_gain_schedule", "initial_state",
    "reinitialize_state", "fast_anneal",
}

_PARAMETER_DOCS = {
    "anneal_schedule": "Annealing schedule formatted as a piecewise linear list of floating-point pairs of "
                       "'t' (microseconds) and 's'; forward anneals only.",
    "annealing_time": "Quantum annealing duration, in microseconds, as a positive floating point number.",
    "answer_mode": "Format of returned answers, as 'histogram' or 'raw' samples.",
    "auto_scale": "Automatic rescaling of h and J values to their available range, as a boolean flag.",
    "label": "Problem label, returned in the sample set's info as 'problem_label'.",
    "num_reads": "Number of states to read (answers to return), as a positive integer.",
    "programming_thermalization": "Time in microseconds to wait after programming (timing only).",
    "readout_thermalization": "Time in microseconds to wait after each read (timing only).",
    "reduce_intersample_correlation": "Addition of pauses between samples, as a boolean flag (timing only).",
    "seed": "Emulator only: seed of this call's randomness (control errors, chains, read-out). The drift of "
            "beta_eff belongs to the device and follows the constructor's seed.",
}


class EmulatorParameterError(ValueError, KeyError):
    """An unknown or unsupported sampling parameter.

    A real QPU's cloud client raises ``KeyError`` for a parameter the solver does not
    list, and dimod samplers raise ``ValueError``; this error is both.
    """

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


# ------------------------------------------------------------------------- noise profiles


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
            if bits is not None and (isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= 32):
                raise ValueError(f"NoiseProfile.{name} must be an integer in 1..32 or None, got {bits!r}")
        if isinstance(self.sweeps, bool) or not isinstance(self.sweeps, int) or self.sweeps < 2:
            raise ValueError(f"NoiseProfile.sweeps must be an integer >= 2, got {self.sweeps!r}")

    def replace(self, **changes: Any) -> "NoiseProfile":
        """A copy with some numbers changed (``name`` becomes ``'<name>*'`` unless given)."""
        changes.setdefault("name", self.name if self.name.endswith("*") else self.name + "*")
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
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


def _profile(noise: str | NoiseProfile) -> NoiseProfile:
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
    for (t0, s0), (t1, s1) in zip(pts, pts[1:]):
        dt, ds = t1 - t0, s1 - s0
        if ds > 0:
            s_r = s_f + w * math.log(r_ref * dt / ds)
            if s_r >= s0:
                s_eq = max(s_eq, min(s1, s_r))
        elif s0 > s_eq:
            tau = (w / r_ref) * math.exp((s0 - s_f) / w)
            s_eq += (s0 - s_eq) * -math.expm1(-dt / tau)
    return s_eq


def pause_and_quench(s_pause: float = 0.5, ramp_time: float = 1.0, pause_time: float = 10.0,
                     max_slope: float = 2.0) -> list[list[float]]:
    """The paper's App. B schedule: ramp to ``s_pause`` in ``ramp_time`` us, pause, fastest quench.

    ``max_slope`` is the device's limit (``1 / min(annealing_time_range)`` per us). A thin
    wrapper of :func:`qhvae.samplers.schedules.pause_quench` with the emulator's names.

    Example:
        >>> pause_and_quench()
        [[0.0, 0.0], [1.0, 0.5], [11.0, 0.5], [11.25, 1.0]]
    """
    points = pause_quench(pause_point=s_pause, pause_us=pause_time, ramp_us=ramp_time, quench_slope=max_slope)
    return [list(p) for p in points]


def _full_graph(topology_type: str, shape: Sequence[int]) -> tuple[nx.Graph, int, tuple[int, ...]]:
    """The perfect-yield graph (linear labels), the nominal number of qubits and the full shape."""
    try:
        import dwave.graphs as dg
    except ImportError:  # older Ocean
        import dwave_networkx as dg  # type: ignore[no-redef]
    if topology_type == "chimera":
        if not 1 <= len(shape) <= 3:
            raise ValueError(f"a chimera shape is [m], [m, n] or [m, n, t], got {list(shape)}")
        m, n, t = (list(shape) + [None, None])[:3]
        n = m if n is None else n
        t = 4 if t is None else t
        return dg.chimera_graph(m, n, t), 2 * m * n * t, (m, n, t)
    if topology_type == "pegasus":
        if len(shape) != 1:
            raise ValueError(f"a pegasus shape is [m], got {list(shape)}")
        (m,) = shape
        return dg.pegasus_graph(m, fabric_only=True), 24 * m * (m - 1), (m,)
    if topology_type == "zephyr":
        if not 1 <= len(shape) <= 2:
            raise ValueError(f"a zephyr shape is [m] or [m, t], got {list(shape)}")
        m, t = (list(shape) + [4])[:2]
        return dg.zephyr_graph(m, t), 4 * t * m * (2 * m + 1), (m, t)
    raise ValueError(f"topology_type must be 'chimera', 'pegasus' or 'zephyr', got {topology_type!r}")


_DEFAULT_SHAPES = {"chimera": (16, 16, 4), "pegasus": (6,), "zephyr": (6, 4)}


# ------------------------------------------------------------------------ call record


@dataclass
class EmulatorCall:
    """What one :meth:`QPUEmulator.sample` call really did (the ground truth for tests).

    Arrays are in the order of :attr:`variables` (linear) and :attr:`couplers` (quadratic);
    ``edges`` are the couplers as index pairs into ``variables``.
    """

    variables: list
    couplers: list
    edges: np.ndarray
    schedule: list
    freeze_out_s: float
    beta_schedule: float  # beta_eff of the schedule, without drift (== true_beta_eff(schedule))
    drift_factor: float  # exp(drift state) this call
    beta_eff: float  # beta_schedule * drift_factor: the inverse temperature actually sampled
    scale_factor: float  # programmed = submitted / scale_factor (auto_scale); 1 when off
    h_programmed: np.ndarray  # after auto_scale, before quantization and noise
    j_programmed: np.ndarray
    h_sampled: np.ndarray  # h' = Q(h) + offsets + ICE: the fields actually sampled
    j_sampled: np.ndarray  # J' = Q(J) + ICE
    num_reads: int
    readout_flips: int  # number of spins flipped at read-out
    seed_entropy: Any = None
    extra: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------- emulator


class QPUEmulator(dimod.Sampler, dimod.Structured):
    """A QPU-shaped structured sampler that returns noisy Boltzmann samples.

    Args:
        topology_type: ``'chimera'``, ``'pegasus'`` or ``'zephyr'``.
        topology_shape: ``[m, n, t]`` (Chimera, default 16x16x4 like a 2000Q), ``[m]``
            (Pegasus, default 6; an Advantage is 16) or ``[m, t]`` (Zephyr, default [6, 4]).
        broken_nodes, broken_edges: qubits and couplers to remove from the working graph.
        qubit_yield, coupler_yield: fraction of qubits / couplers that work; the others are
            drawn at random (seeded) and removed, on top of ``broken_nodes/edges``.
        noise: ``'ideal'``, ``'low'``, ``'high'`` or a :class:`NoiseProfile`.
        seed: seeds the device (broken qubits by yield, per-qubit offsets, drift of
            beta_eff) and the calls made without a ``seed``.
        num_sweeps: block-Gibbs sweeps per read (default: the profile's ``sweeps``):
            half annealing ``beta`` from 0 up to ``beta_eff`` in 8 steps, half at ``beta_eff``.
        chip_id: the ``chip_id`` property (default ``'QPUEmulator_<profile>'``).

    Raises:
        ValueError: on an unknown topology or profile, or yields outside (0, 1].
    """

    def __init__(
        self,
        topology_type: str = "pegasus",
        topology_shape: Sequence[int] | None = None,
        *,
        broken_nodes: Iterable[int] | None = None,
        broken_edges: Iterable[tuple[int, int]] | None = None,
        qubit_yield: float = 1.0,
        coupler_yield: float = 1.0,
        noise: str | NoiseProfile = "low",
        seed: int | None = None,
        num_sweeps: int | None = None,
        chip_id: str | None = None,
    ):
        self.profile = _profile(noise)
        if not (0.0 < qubit_yield <= 1.0 and 0.0 < coupler_yield <= 1.0):
            raise ValueError(f"yields must lie in (0, 1], got qubit_yield={qubit_yield}, coupler_yield={coupler_yield}")
        num_sweeps = self.profile.sweeps if num_sweeps is None else num_sweeps
        if isinstance(num_sweeps, bool) or not isinstance(num_sweeps, (int, np.integer)) or num_sweeps < 2:
            raise ValueError(f"num_sweeps must be an integer >= 2, got {num_sweeps!r}")
        self.num_sweeps = int(num_sweeps)
        shape = tuple(int(x) for x in (topology_shape or _DEFAULT_SHAPES.get(topology_type, ())))
        full, num_qubits, shape = _full_graph(topology_type, shape)

        root = np.random.SeedSequence(seed)
        device_seq, drift_seq, calls_seq = root.spawn(3)
        yield_seq, offset_seq, drift0_seq = device_seq.spawn(3)

        all_nodes = sorted(full.nodes)
        all_edges = sorted(tuple(sorted(e)) for e in full.edges)
        broken_n = {int(q) for q in (broken_nodes or ())}
        broken_e = {tuple(sorted((int(u), int(v)))) for u, v in (broken_edges or ())}
        yrng = np.random.default_rng(yield_seq)
        node_ok = yrng.random(len(all_nodes)) < qubit_yield if qubit_yield < 1 else np.ones(len(all_nodes), bool)
        edge_ok = yrng.random(len(all_edges)) < coupler_yield if coupler_yield < 1 else np.ones(len(all_edges), bool)
        broken_n |= {q for q, ok in zip(all_nodes, node_ok) if not ok}
        broken_e |= {e for e, ok in zip(all_edges, edge_ok) if not ok}
        self._nodelist = [q for q in all_nodes if q not in broken_n]
        self._edgelist = [
            e for e in all_edges if e[0] not in broken_n and e[1] not in broken_n and e not in broken_e
        ]
        self._node_index = {q: i for i, q in enumerate(self._nodelist)}
        self._edge_set = set(self._edgelist)

        # Persistent per-qubit offsets: drawn for every qubit of the full lattice so they do
        # not depend on the yield, then kept for the working ones.
        offsets = np.random.default_rng(offset_seq).normal(0.0, 1.0, len(all_nodes)) * self.profile.offset_sigma_h
        self._offsets = np.array([offsets[i] for i, q in enumerate(all_nodes) if q not in broken_n])

        self._drift_rng = np.random.default_rng(drift_seq)
        p = self.profile
        self._drift_x = float(np.random.default_rng(drift0_seq).normal(0.0, p.drift_sigma)) if p.drift_sigma else 0.0
        self._calls_rng = np.random.default_rng(calls_seq)
        self._lock = threading.RLock()
        self._colorings: dict = {}
        self.last_call: EmulatorCall | None = None
        #: ``beta_eff`` of the most recent calls (oldest first), 10000 at most.
        self.beta_history: deque[float] = deque(maxlen=10000)

        self._topology = {"type": topology_type, "shape": list(shape)}
        self._chip_id = chip_id or f"QPUEmulator_{self.profile.name}"
        self._num_qubits = num_qubits
        self._properties = self._build_properties()
        self._parameters = {name: ["parameters"] for name in _PARAMETER_DOCS}
        self._parameters["label"] = []
        self._parameters["seed"] = []

    # ------------------------------------------------------------------ dimod interface

    @property
    def nodelist(self) -> list[int]:
        """Working qubits, sorted."""
        return self._nodelist

    @property
    def edgelist(self) -> list[tuple[int, int]]:
        """Working couplers ``(u, v)`` with ``u < v``, sorted."""
        return self._edgelist

    @property
    def properties(self) -> dict[str, Any]:
        """QPU-shaped properties (same keys and layout as ``MockDWaveSampler``)."""
        return self._properties

    @property
    def parameters(self) -> dict[str, list]:
        return self._parameters

    @property
    def qubit_offsets(self) -> dict[int, float]:
        """The persistent per-qubit offsets on h (ground truth), ``{qubit: offset}``."""
        return dict(zip(self._nodelist, self._offsets.tolist()))

    def _build_properties(self) -> dict[str, Any]:
        ann_min, ann_max = 0.5, 2000.0
        return {
            "chip_id": self._chip_id,
            "topology": dict(self._topology),
            "num_qubits": self._num_qubits,
            "qubits": list(self._nodelist),
            "couplers": [list(e) for e in self._edgelist],
            "h_range": [-4.0, 4.0],
            "j_range": [-1.0, 1.0],
            "extended_j_range": [-2.0, 1.0],
            "per_qubit_coupling_range": [-18.0, 15.0],
            "annealing_time_range": [ann_min, ann_max],
            "default_annealing_time": 20.0,
            "max_anneal_schedule_points": 12,
            "num_reads_range": [1, 10000],
            "default_programming_thermalization": 1000.0,
            "default_readout_thermalization": 0.0,
            "programming_thermalization_range": [0.0, 10000.0],
            "readout_thermalization_range": [0.0, 10000.0],
            "problem_run_duration_range": [0.0, 1000000.0],
            "problem_timing_data": dict(ADVANTAGE_TIMING_DATA),
            "supported_problem_types": ["ising", "qubo"],
            "parameters": dict(_PARAMETER_DOCS),
            "vfyc": False,
            "tags": [],
            "category": "qpu",
            "quota_conversion_rate": 1,
            "emulator": {"noise_profile": self.profile.as_dict(), "num_sweeps": self.num_sweeps},
        }

    def to_networkx_graph(self) -> nx.Graph:
        """The working graph, with the lattice's ``family`` and shape in ``graph``."""
        g = nx.Graph(family=self._topology["type"], shape=tuple(self._topology["shape"]), labels="int")
        g.add_nodes_from(self._nodelist)
        g.add_edges_from(self._edgelist)
        return g

    def __repr__(self) -> str:
        t = self._topology
        return (f"QPUEmulator({t['type']!r}, {tuple(t['shape'])}, noise={self.profile.name!r}, "
                f"{len(self._nodelist)} qubits, {len(self._edgelist)} couplers)")

    # ------------------------------------------------------------------- schedules

    @property
    def max_slope(self) -> float:
        """Steepest allowed schedule slope ``|ds/dt|``: ``1 / min(annealing_time_range)`` per us."""
        return 1.0 / self._properties["annealing_time_range"][0]

    def validate_anneal_schedule(self, anneal_schedule: Any) -> list[list[float]]:
        """Check a schedule like a QPU (:func:`qhvae.samplers.schedules.validate_schedule`); ``[[t, s], ...]``."""
        return [list(p) for p in validate_schedule(anneal_schedule, self._properties)]

    def _schedule(self, anneal_schedule: Any, annealing_time: Any) -> list[list[float]]:
        if anneal_schedule is not None and annealing_time is not None:
            raise ValueError("set only one of anneal_schedule or annealing_time")
        if anneal_schedule is not None:
            return self.validate_anneal_schedule(anneal_schedule)
        if annealing_time is None:
            annealing_time = self._properties["default_annealing_time"]
        lo, hi = self._properties["annealing_time_range"]
        if isinstance(annealing_time, bool) or not isinstance(annealing_time, (int, float, np.number)):
            raise ValueError(f"annealing_time must be a number of microseconds, got {annealing_time!r}")
        if not (math.isfinite(annealing_time) and lo <= annealing_time <= hi):
            raise ValueError(f"annealing_time must lie in annealing_time_range [{lo:g}, {hi:g}] us, "
                             f"got {annealing_time!r}")
        return [[0.0, 0.0], [float(annealing_time), 1.0]]

    def freeze_out(self, anneal_schedule: Any = None, annealing_time: Any = None) -> float:
        """Freeze-out point ``s*`` of a schedule (default: a plain anneal of the default time)."""
        schedule = self._schedule(anneal_schedule, annealing_time)
        return freeze_out_point(schedule, self.profile, self._properties["default_annealing_time"])

    def true_beta_eff(self, anneal_schedule: Any = None, annealing_time: Any = None) -> float:
        """``beta_eff`` of a schedule before drift: ``B(s*) / (2 k_B T)`` or the profile's ``fixed_beta``.

        The beta actually sampled in a call is this times the call's drift factor
        (:attr:`last_call`); for the ``ideal`` profile the two are equal.
        """
        if self.profile.fixed_beta is not None:
            self._schedule(anneal_schedule, annealing_time)  # still validate
            return float(self.profile.fixed_beta)
        return beta_at_freeze_out(self.freeze_out(anneal_schedule, annealing_time), self.profile)

    @property
    def drift_factor(self) -> float:
        """The current ``beta_eff`` drift factor ``exp(x)`` (the next call steps it first)."""
        return math.exp(self._drift_x)

    def _step_drift(self) -> float:
        p = self.profile
        if p.drift_sigma > 0:
            a = math.exp(-1.0 / p.drift_corr_calls)
            self._drift_x = a * self._drift_x + p.drift_sigma * math.sqrt(1.0 - a * a) * float(
                self._drift_rng.standard_normal())
        return math.exp(self._drift_x)

    # ---------------------------------------------------------------------- sampling

    def _check_parameters(self, parameters: Mapping[str, Any]) -> None:
        for key in parameters:
            if key in self._parameters:
                continue
            if key in _QPU_ONLY_PARAMETERS:
                raise EmulatorParameterError(
                    f"{key!r} is a D-Wave QPU parameter that {self._chip_id} does not emulate; "
                    f"accepted: {', '.join(sorted(self._parameters))}")
            hint = ""
            if key in ("num_spin_reversal_transforms", "spin_reversal_variables", "srts"):
                hint = ("; QPUs no longer apply spin-reversal transforms on the server: wrap the sampler in "
                        "dwave.preprocessing.SpinReversalTransformComposite")
            raise EmulatorParameterError(
                f"{key!r} is not a parameter of this solver ({self._chip_id}){hint}; "
                f"accepted: {', '.join(sorted(self._parameters))}")

    def _check_structure(self, variables: list, couplers: Iterable[tuple]) -> None:
        where = f"the working graph of {self._chip_id} ({self._topology['type']} {self._topology['shape']})"
        for v in variables:
            if v not in self._node_index:
                why = "a broken (inactive) qubit or not a qubit of this lattice"
                raise BinaryQuadraticModelStructureError(
                    f"qubit {v!r} is not in {where}: {why}. Map the problem onto nodelist/edgelist, e.g. with "
                    "dwave.system.EmbeddingComposite or FixedEmbeddingComposite")
        for u, v in couplers:
            if (u, v) not in self._edge_set and (v, u) not in self._edge_set:
                raise BinaryQuadraticModelStructureError(
                    f"coupler {(u, v)!r} is not in {where}: the qubits are not coupled on this lattice or the "
                    "coupler is broken. Map the problem onto nodelist/edgelist, e.g. with "
                    "dwave.system.EmbeddingComposite or FixedEmbeddingComposite")

    def _program(self, h: np.ndarray, J: np.ndarray, labels: list, couplers: list, edges: np.ndarray,
                 auto_scale: bool) -> tuple[np.ndarray, np.ndarray, float]:
        """Range checks (auto_scale=False) or scaling into range (auto_scale=True)."""
        props = self._properties
        h_lo, h_hi = props["h_range"]
        j_lo, j_hi = props["j_range"]
        if not auto_scale:
            bad = np.flatnonzero((h < h_lo) | (h > h_hi))
            if bad.size:
                i = int(bad[0])
                raise ValueError(f"h of qubit {labels[i]!r} is {h[i]:g}, outside h_range [{h_lo:g}, {h_hi:g}] "
                                 "(auto_scale=False)")
            x_lo, x_hi = props["extended_j_range"]
            bad = np.flatnonzero((J < x_lo) | (J > x_hi))
            if bad.size:
                i = int(bad[0])
                raise ValueError(f"J of coupler {couplers[i]!r} is {J[i]:g}, outside extended_j_range "
                                 f"[{x_lo:g}, {x_hi:g}] (auto_scale=False)")
            if J.size:
                c_lo, c_hi = props["per_qubit_coupling_range"]
                total = np.zeros(h.size)
                np.add.at(total, edges[:, 0], J)
                np.add.at(total, edges[:, 1], J)
                bad = np.flatnonzero((total < c_lo) | (total > c_hi))
                if bad.size:
                    i = int(bad[0])
                    raise ValueError(f"the couplings of qubit {labels[i]!r} sum to {total[i]:g}, outside "
                                     f"per_qubit_coupling_range [{c_lo:g}, {c_hi:g}]")
            return h.copy(), J.copy(), 1.0
        ratios = [0.0]
        if h.size:
            ratios += [h.max() / h_hi, h.min() / h_lo]
        if J.size:
            ratios += [J.max() / j_hi, J.min() / j_lo]
        scale = float(max(ratios))
        if scale <= 0:
            return h.copy(), J.copy(), 1.0
        return h / scale, J / scale, scale

    @staticmethod
    def _quantize(x: np.ndarray, bits: int | None, lo: float, hi: float) -> np.ndarray:
        if bits is None:
            return x
        step = (hi - lo) / 2.0**bits
        return np.round(x / step) * step

    def _coloring(self, n: int, edges: np.ndarray) -> np.ndarray:
        key = (n, edges.tobytes())
        if key not in self._colorings:
            if len(self._colorings) > 32:
                self._colorings.clear()
            self._colorings[key] = greedy_coloring(n, edges)
        return self._colorings[key]

    def _gibbs(self, h: np.ndarray, edges: np.ndarray, J: np.ndarray, beta: float, num_reads: int,
               seq: np.random.SeedSequence) -> np.ndarray:
        """Independent chains of ``exp(-beta E_spin)``; returns ``(num_reads, L)`` int8 spins.

        ``E_spin(s) = E_binary(z) + const`` with ``s = 2z - 1``: ``b = 2h - 2 sum_j J_ij``,
        ``W = 4J`` (the same conversion as dimod's ``change_vartype``).
        """
        n = h.size
        b = 2.0 * h
        if J.size:
            np.subtract.at(b, edges[:, 0], 2.0 * J)
            np.subtract.at(b, edges[:, 1], 2.0 * J)
        bm = BoltzmannMachine.from_arrays(b, (edges, 4.0 * J))
        runner = ChainRunner(bm, self._coloring(n, bm.edges))
        init_seq, stream_seq = seq.spawn(2)
        z = np.ascontiguousarray(np.random.default_rng(init_seq).integers(0, 2, (n, num_reads), dtype=np.uint8))
        streams = seed_streams(stream_seq, num_reads)
        ramp = self.num_sweeps // 2
        steps = min(8, ramp)
        for k in range(1, steps + 1):  # anneal from hot (beta -> 0) like the transverse field does
            sweeps = ramp // steps + (1 if k <= ramp % steps else 0)
            runner.sweep(z, streams, sweeps, beta * k / steps)
        runner.sweep(z, streams, self.num_sweeps - ramp, beta)
        return (2 * z.T.astype(np.int8) - 1).astype(np.int8)

    def _timing(self, num_qubits: int, num_reads: int, anneal_time: float, programming_thermalization: float,
                readout_thermalization: float, reduce_intersample_correlation: bool) -> dict[str, float]:
        """QPU timing (us) by the published model (dwave-cloud-client's ``estimate_qpu_access_time``)."""
        d = self._properties["problem_timing_data"]
        params = d["readout_time_model_parameters"]
        q, t = params[: len(params) // 2], params[len(params) // 2:]
        readout = float(10 ** np.interp(math.log10(max(1, num_qubits)), q, t))
        decorrelation = 0.0
        if reduce_intersample_correlation:
            r_min, r_max = d["decorrelation_time_range"]
            decorrelation = anneal_time / d["decorrelation_max_nominal_anneal_time"] * (r_max - r_min) + r_min
        delay = d["qpu_delay_time_per_sample"]
        per_read = anneal_time + readout + delay + max(readout_thermalization, decorrelation)
        sampling = num_reads * per_read
        programming = d["typical_programming_time"] + programming_thermalization
        return {
            "qpu_sampling_time": sampling,
            "qpu_anneal_time_per_sample": anneal_time,
            "qpu_readout_time_per_sample": readout,
            "qpu_access_time": sampling + programming,
            "qpu_access_overhead_time": 0.0,
            "qpu_programming_time": programming,
            "qpu_delay_time_per_sample": delay,
            "total_post_processing_time": 0.0,
            "post_processing_overhead_time": 0.0,
        }

    def sample_ising(self, h, J, **parameters) -> dimod.SampleSet:
        """Sample an Ising problem; ``h`` may be a dict or a list indexed by qubit (zeros on
        missing qubits are ignored, like ``DWaveSampler``)."""
        if isinstance(h, (list, np.ndarray)):
            # Zero entries are placeholders; a non-zero one on a missing qubit is an error below.
            h = {v: b for v, b in enumerate(h) if b}
        return super().sample_ising(h, J, **parameters)

    def sample(self, bqm: dimod.BinaryQuadraticModel, **parameters) -> dimod.SampleSet:
        """Sample a BQM on the working graph like a QPU (samples in the BQM's vartype).

        Keyword args (see ``properties['parameters']``): ``num_reads`` (default 1),
        ``anneal_schedule`` or ``annealing_time`` (default 20 us), ``auto_scale``
        (default True), ``answer_mode`` (``'histogram'``, the default, or ``'raw'``),
        ``programming_thermalization``, ``readout_thermalization``,
        ``reduce_intersample_correlation``, ``label``, ``seed``.

        Raises:
            dimod.exceptions.BinaryQuadraticModelStructureError: a variable or interaction
                that is not a working qubit/coupler (named in the message).
            EmulatorParameterError: an unknown or unsupported parameter.
            ValueError: h or J out of range with ``auto_scale=False``, a bad schedule,
                ``num_reads`` out of range, ...
        """
        if not isinstance(bqm, dimod.BinaryQuadraticModel):
            raise TypeError(f"expected a dimod.BinaryQuadraticModel, got {type(bqm).__name__}")
        self._check_parameters(parameters)
        props = self._properties
        num_reads = parameters.get("num_reads", 1)
        lo, hi = props["num_reads_range"]
        if isinstance(num_reads, bool) or not isinstance(num_reads, (int, np.integer)) or not lo <= num_reads <= hi:
            raise ValueError(f"num_reads must be an integer in num_reads_range [{lo}, {hi}], got {num_reads!r}")
        num_reads = int(num_reads)
        answer_mode = parameters.get("answer_mode", "histogram")
        if answer_mode not in ("histogram", "raw"):
            raise ValueError(f"answer_mode must be 'histogram' or 'raw', got {answer_mode!r}")
        auto_scale = parameters.get("auto_scale", True)
        if not isinstance(auto_scale, (bool, np.bool_)):
            raise ValueError(f"auto_scale must be a boolean, got {auto_scale!r}")
        thermalization = {}
        for key, default in (("programming_thermalization", "default_programming_thermalization"),
                             ("readout_thermalization", "default_readout_thermalization")):
            value = parameters.get(key, props[default])
            r_lo, r_hi = props[f"{key}_range"]
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not r_lo <= value <= r_hi:
                raise ValueError(f"{key} must lie in [{r_lo:g}, {r_hi:g}] us, got {value!r}")
            thermalization[key] = float(value)
        label = parameters.get("label")
        if label is not None and not isinstance(label, str):
            raise ValueError(f"label must be a string, got {label!r}")
        schedule = self._schedule(parameters.get("anneal_schedule"), parameters.get("annealing_time"))
        seed = parameters.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")

        spin = bqm if bqm.vartype is dimod.SPIN else bqm.change_vartype(dimod.SPIN, inplace=False)
        labels = list(spin.variables)
        if labels:
            h, (rows, cols, J), _ = spin.to_numpy_vectors(variable_order=labels)
        else:
            h, rows, cols, J = np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        h = np.asarray(h, np.float64)
        J = np.asarray(J, np.float64)
        edges = np.ascontiguousarray(np.stack([rows, cols], 1).astype(np.int64).reshape(-1, 2))
        couplers = [(labels[i], labels[j]) for i, j in edges.tolist()]
        self._check_structure(labels, couplers)
        if not (np.all(np.isfinite(h)) and np.all(np.isfinite(J))):
            raise ValueError("h and J must be finite (no NaN or inf)")
        h_prog, j_prog, scale = self._program(h, J, labels, couplers, edges, bool(auto_scale))

        with self._lock:
            call_seq = (np.random.SeedSequence(int(seed)) if seed is not None
                        else np.random.SeedSequence(self._calls_rng.integers(0, 2**63)))
            beta_schedule = self.true_beta_eff(schedule)
            s_star = freeze_out_point(schedule, self.profile, props["default_annealing_time"])
            drift = self._step_drift()
            beta = beta_schedule * drift

            ice_seq, gibbs_seq, readout_seq, id_seq = call_seq.spawn(4)
            p = self.profile
            h_q = self._quantize(h_prog, p.h_bits, *props["h_range"])
            j_q = self._quantize(j_prog, p.j_bits, *props["j_range"])
            ice = np.random.default_rng(ice_seq)
            h_s = h_q + self._offsets[[self._node_index[v] for v in labels]] if labels else h_q.copy()
            if p.ice_sigma_h:
                h_s = h_s + ice.normal(0.0, p.ice_sigma_h, h_s.size)
            j_s = j_q + ice.normal(0.0, p.ice_sigma_j, j_q.size) if p.ice_sigma_j else j_q.copy()

            if labels:
                spins = self._gibbs(h_s, edges, j_s, beta, num_reads, gibbs_seq)
            else:
                spins = np.zeros((num_reads, 0), np.int8)
            flips = 0
            if p.readout_flip and spins.size:
                mask = np.random.default_rng(readout_seq).random(spins.shape) < p.readout_flip
                flips = int(mask.sum())
                spins[mask] *= -1

            samples = spins if bqm.vartype is dimod.SPIN else ((spins + 1) // 2).astype(np.int8)
            timing = self._timing(len(labels), num_reads, schedule[-1][0],
                                  thermalization["programming_thermalization"],
                                  thermalization["readout_thermalization"],
                                  bool(parameters.get("reduce_intersample_correlation", False)))
            problem_id = str(uuid.UUID(bytes=np.random.default_rng(id_seq).bytes(16), version=4))
            info: dict[str, Any] = {"timing": timing, "problem_id": problem_id}
            if label is not None:
                info["problem_label"] = label
            sampleset = dimod.SampleSet.from_samples_bqm((samples, labels), bqm, info=info)
            if answer_mode == "histogram":
                sampleset = sampleset.aggregate()

            self.last_call = EmulatorCall(
                variables=labels, couplers=couplers, edges=edges, schedule=schedule, freeze_out_s=s_star,
                beta_schedule=beta_schedule, drift_factor=drift, beta_eff=beta, scale_factor=scale,
                h_programmed=h_prog, j_programmed=j_prog, h_sampled=h_s, j_sampled=j_s, num_reads=num_reads,
                readout_flips=flips, seed_entropy=call_seq.entropy,
            )
            self.beta_history.append(beta)
        return sampleset
