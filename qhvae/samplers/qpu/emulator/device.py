"""The QPU-shaped structured sampler: :class:`QPUEmulator`, and the record of a call.

The emulator has the interface of dwave-system's ``DWaveSampler`` (and of its test
double ``dwave.system.testing.MockDWaveSampler``): a :class:`dimod.Structured`
:class:`dimod.Sampler` with a working graph (``nodelist``/``edgelist``), QPU-shaped
``properties`` and ``parameters``, and QPU-like validation of every call
(:mod:`~qhvae.samplers.qpu.emulator.properties`). Unlike the mock, what it returns is
physically meaningful: samples of the noisy Boltzmann distribution of
:mod:`~qhvae.samplers.qpu.emulator.noise`.

Everything the tests need to know is exposed: :attr:`QPUEmulator.last_call` (the
``beta_eff``, ``h'`` and ``J'`` actually sampled), :meth:`QPUEmulator.true_beta_eff`,
:attr:`QPUEmulator.qubit_offsets`.
"""

from __future__ import annotations

import threading
import uuid
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import dimod
import numpy as np
from dimod.exceptions import BinaryQuadraticModelStructureError

from ....validation import check_int
from ...conversions import spins_to_binary
from ..flux import flux_constants
from .noise import (
    BetaDrift,
    NoiseProfile,
    beta_at_freeze_out,
    boltzmann_spins,
    control_errors,
    flip_readout,
    freeze_out_point,
    noise_profile,
)
from .properties import (
    DEFAULT_SHAPES,
    PARAMETER_DOCS,
    CallParameters,
    build_properties,
    call_schedule,
    check_parameter_names,
    lattice,
    parse_call,
    program_ranges,
    qpu_timing,
)

__all__ = ["QPUEmulator", "EmulatorCall"]


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
    h_flux: np.ndarray | None = None  # the h equivalent of the call's flux biases (added to h_programmed)


@dataclass(frozen=True)
class _Problem:
    """A submitted BQM in spin form over its qubits, as arrays."""

    labels: list
    h: np.ndarray
    J: np.ndarray
    edges: np.ndarray  # (C, 2) index pairs into labels
    couplers: list  # the same pairs as qubit labels


class QPUEmulator(dimod.Sampler, dimod.Structured):
    """A QPU-shaped structured sampler that returns noisy Boltzmann samples.

    Args:
        topology_type: ``'chimera'``, ``'pegasus'`` or ``'zephyr'``.
        topology_shape: ``[m, n, t]`` (Chimera, default 16x16x4 like a 2000Q), ``[m]``
            (Pegasus, default 6; an Advantage is 16) or ``[m, t]`` (Zephyr, default [6, 4]).
        broken_nodes: qubits to remove from the working graph.
        broken_edges: couplers to remove from the working graph.
        qubit_yield: fraction of qubits that work; the others are drawn at random
            (seeded) and removed, on top of ``broken_nodes``.
        coupler_yield: the same for couplers, on top of ``broken_edges``.
        noise: ``'ideal'``, ``'low'``, ``'high'`` or a :class:`~qhvae.samplers.qpu.emulator.noise.NoiseProfile`.
        seed: seeds the device (broken qubits by yield, per-qubit offsets, drift of
            beta_eff) and the calls made without a ``seed``.
        num_sweeps: block-Gibbs sweeps per read (default: the profile's ``sweeps``):
            half annealing ``beta`` from 0 up to ``beta_eff`` in 8 steps, half at ``beta_eff``.
        chip_id: the ``chip_id`` property (default ``'QPUEmulator_<profile>'``).
        flux_bias_constants: ``{"B": ..., "Ip": ..., "MAFM": ...}`` with which a call's
            ``flux_biases`` become fields (:func:`dwave.system.temperatures.fluxbias_to_h`);
            default: that function's defaults, as ``QPUSampler`` uses them.

    Raises:
        ValueError: on an unknown topology or profile, or yields outside (0, 1].

    Example:
        >>> qpu = QPUEmulator("chimera", (2, 2, 4), noise="ideal", seed=0)
        >>> q0, q1 = qpu.edgelist[0]
        >>> ss = qpu.sample_ising({q0: -0.5, q1: 0.0}, {(q0, q1): -1.0}, num_reads=10, seed=1)
        >>> ss.vartype.name, int(ss.record.num_occurrences.sum())
        ('SPIN', 10)
        >>> round(qpu.last_call.beta_eff, 3) == round(qpu.true_beta_eff(), 3)
        True
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
        flux_bias_constants: Any = None,
    ):
        self.flux_bias_constants = flux_constants(flux_bias_constants)
        self.profile = noise_profile(noise)
        if not (0.0 < qubit_yield <= 1.0 and 0.0 < coupler_yield <= 1.0):
            raise ValueError(f"yields must lie in (0, 1], got qubit_yield={qubit_yield}, coupler_yield={coupler_yield}")
        num_sweeps = self.profile.sweeps if num_sweeps is None else num_sweeps
        self.num_sweeps = check_int("num_sweeps", num_sweeps, minimum=2)
        shape = tuple(int(x) for x in (topology_shape or DEFAULT_SHAPES.get(topology_type, ())))
        full, num_qubits, shape = lattice(topology_type, shape)

        root = np.random.SeedSequence(seed)
        device_seq, drift_seq, calls_seq = root.spawn(3)
        yield_seq, offset_seq, drift0_seq = device_seq.spawn(3)
        all_nodes = sorted(full.nodes)
        broken_n = self._build_working_graph(full, broken_nodes, broken_edges, qubit_yield, coupler_yield,
                                             yield_seq)
        # Persistent per-qubit offsets: drawn for every qubit of the full lattice so they do
        # not depend on the yield, then kept for the working ones.
        offsets = np.random.default_rng(offset_seq).normal(0.0, 1.0, len(all_nodes)) * self.profile.offset_sigma_h
        self._offsets = np.array([offsets[i] for i, q in enumerate(all_nodes) if q not in broken_n])

        self._drift = BetaDrift(self.profile, drift0_seq, drift_seq)
        self._calls_rng = np.random.default_rng(calls_seq)
        self._lock = threading.RLock()
        self._colorings: dict = {}
        self._runners: dict = {}
        self.last_call: EmulatorCall | None = None
        #: ``beta_eff`` of the most recent calls (oldest first), 10000 at most.
        self.beta_history: deque[float] = deque(maxlen=10000)

        self._topology = {"type": topology_type, "shape": list(shape)}
        self._chip_id = chip_id or f"QPUEmulator_{self.profile.name}"
        self._properties = build_properties(self._chip_id, self._topology, num_qubits, self._nodelist,
                                            self._edgelist, {"noise_profile": self.profile.as_dict(),
                                                             "num_sweeps": self.num_sweeps})
        self._parameters = {name: ["parameters"] for name in PARAMETER_DOCS}
        self._parameters["label"] = []
        self._parameters["seed"] = []

    def _build_working_graph(self, full, broken_nodes, broken_edges, qubit_yield: float, coupler_yield: float,
                             yield_seq: np.random.SeedSequence) -> set:
        """Set the working ``nodelist``/``edgelist``; return the broken qubits."""
        all_nodes = sorted(full.nodes)
        all_edges = sorted(tuple(sorted(e)) for e in full.edges)
        broken_n = {int(q) for q in (broken_nodes or ())}
        broken_e = {tuple(sorted((int(u), int(v)))) for u, v in (broken_edges or ())}
        yrng = np.random.default_rng(yield_seq)
        node_ok = yrng.random(len(all_nodes)) < qubit_yield if qubit_yield < 1 else np.ones(len(all_nodes), bool)
        edge_ok = yrng.random(len(all_edges)) < coupler_yield if coupler_yield < 1 else np.ones(len(all_edges), bool)
        broken_n |= {q for q, ok in zip(all_nodes, node_ok, strict=True) if not ok}
        broken_e |= {e for e, ok in zip(all_edges, edge_ok, strict=True) if not ok}
        self._nodelist = [q for q in all_nodes if q not in broken_n]
        self._edgelist = [
            e for e in all_edges if e[0] not in broken_n and e[1] not in broken_n and e not in broken_e
        ]
        self._node_index = {q: i for i, q in enumerate(self._nodelist)}
        self._edge_set = set(self._edgelist)
        self._checked: dict = {}  # structures already checked against this working graph
        return broken_n

    # ------------------------------------------------------------------ dimod interface

    @property
    def nodelist(self) -> list[int]:  # type: ignore[override]  # dimod types it list[Hashable]; list is invariant
        """Working qubits, sorted."""
        return self._nodelist

    @property
    def edgelist(self) -> list[tuple[int, int]]:  # type: ignore[override]  # as nodelist
        """Working couplers ``(u, v)`` with ``u < v``, sorted."""
        return self._edgelist

    @property
    def properties(self) -> dict[str, Any]:
        """QPU-shaped properties (same keys and layout as ``MockDWaveSampler``)."""
        return self._properties

    @property
    def parameters(self) -> dict[str, list]:
        """The accepted sampling parameters (``properties['parameters']`` describes them)."""
        return self._parameters

    @property
    def qubit_offsets(self) -> dict[int, float]:
        """The persistent per-qubit offsets on h (ground truth), ``{qubit: offset}``."""
        return dict(zip(self._nodelist, self._offsets.tolist(), strict=True))

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
        return call_schedule(anneal_schedule, None, self._properties)

    def freeze_out(self, anneal_schedule: Any = None, annealing_time: Any = None) -> float:
        """Freeze-out point ``s*`` of a schedule (default: a plain anneal of the default time)."""
        schedule = call_schedule(anneal_schedule, annealing_time, self._properties)
        return freeze_out_point(schedule, self.profile, self._properties["default_annealing_time"])

    def true_beta_eff(self, anneal_schedule: Any = None, annealing_time: Any = None) -> float:
        """``beta_eff`` of a schedule before drift: ``B(s*) / (2 k_B T)`` or the profile's ``fixed_beta``.

        The beta actually sampled in a call is this times the call's drift factor
        (:attr:`last_call`); for the ``ideal`` profile the two are equal.
        """
        if self.profile.fixed_beta is not None:
            call_schedule(anneal_schedule, annealing_time, self._properties)  # still validate
            return float(self.profile.fixed_beta)
        return beta_at_freeze_out(self.freeze_out(anneal_schedule, annealing_time), self.profile)

    @property
    def drift_factor(self) -> float:
        """The current ``beta_eff`` drift factor ``exp(x)`` (the next call steps it first)."""
        return self._drift.factor

    # ---------------------------------------------------------------------- sampling

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

    def _problem(self, bqm: dimod.BinaryQuadraticModel) -> _Problem:
        """The BQM in spin form as arrays, checked against the working graph and for finite values."""
        spin = bqm if bqm.vartype is dimod.SPIN else bqm.change_vartype(dimod.SPIN, inplace=False)
        labels = list(spin.variables)
        if labels:
            vectors = spin.to_numpy_vectors(variable_order=labels)  # by field: dimod types it as a union
            h, (rows, cols, J) = vectors.linear_biases, vectors.quadratic
        else:
            h, rows, cols, J = np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        h = np.asarray(h, np.float64)
        J = np.asarray(J, np.float64)
        edges = np.ascontiguousarray(np.stack([rows, cols], 1).astype(np.int64).reshape(-1, 2))
        # A training loop sends the same structure every call, five times per call with
        # spin-reversal transforms: the check (2 ms for 288 qubits) runs once per structure.
        key = (tuple(labels), edges.tobytes())
        couplers = self._checked.get(key)
        if couplers is None:
            couplers = [(labels[i], labels[j]) for i, j in edges.tolist()]
            self._check_structure(labels, couplers)
            if len(self._checked) >= 8:
                self._checked.clear()
            self._checked[key] = couplers
        if not (np.all(np.isfinite(h)) and np.all(np.isfinite(J))):
            raise ValueError("h and J must be finite (no NaN or inf)")
        return _Problem(labels, h, J, edges, couplers)

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
        ``reduce_intersample_correlation``, ``flux_biases``, ``label``, ``seed``.

        ``flux_biases`` (one per qubit of the lattice, in Phi0) are modelled by their
        freeze-out equivalent: :func:`dwave.system.temperatures.fluxbias_to_h` (with
        :attr:`flux_bias_constants`) of each problem qubit's flux bias is added to its
        programmed ``h`` (after ``auto_scale``, which does not scale them), before the
        noise model (quantization, offsets, ICE); biases on other qubits act on nothing.

        Raises:
            dimod.exceptions.BinaryQuadraticModelStructureError: a variable or interaction
                that is not a working qubit/coupler (named in the message).
            EmulatorParameterError: an unknown or unsupported parameter.
            ValueError: h or J out of range with ``auto_scale=False``, a bad schedule,
                ``num_reads`` out of range, ...
        """
        if not isinstance(bqm, dimod.BinaryQuadraticModel):
            raise TypeError(f"expected a dimod.BinaryQuadraticModel, got {type(bqm).__name__}")
        check_parameter_names(parameters, self._parameters, self._chip_id)
        call = parse_call(parameters, self._properties)
        problem = self._problem(bqm)
        h_prog, j_prog, scale = program_ranges(problem.h, problem.J, problem.labels, problem.couplers,
                                               problem.edges, self._properties, call.auto_scale)
        with self._lock:
            spins, record, id_seq = self._run(problem, h_prog, j_prog, scale, call)
            samples = spins if bqm.vartype is dimod.SPIN else spins_to_binary(spins)
            timing = qpu_timing(self._properties, len(problem.labels), call.num_reads, call.schedule[-1][0],
                                call.programming_thermalization, call.readout_thermalization,
                                call.reduce_intersample_correlation)
            problem_id = str(uuid.UUID(bytes=np.random.default_rng(id_seq).bytes(16), version=4))
            info: dict[str, Any] = {"timing": timing, "problem_id": problem_id}
            if call.label is not None:
                info["problem_label"] = call.label
            sampleset = dimod.SampleSet.from_samples_bqm((samples, problem.labels), bqm, info=info)
            if call.answer_mode == "histogram":
                sampleset = sampleset.aggregate()
            self.last_call = record
            self.beta_history.append(record.beta_eff)
        return sampleset

    def _run(self, problem: _Problem, h_prog: np.ndarray, j_prog: np.ndarray, scale: float,
             call: CallParameters) -> tuple[np.ndarray, EmulatorCall, np.random.SeedSequence]:
        """The physics of one call (under the lock): beta_eff with drift, control errors,
        thermal sampling, read-out flips. Returns the spins, the call's record and the seed
        of its problem id."""
        call_seq = (np.random.SeedSequence(call.seed) if call.seed is not None
                    else np.random.SeedSequence(self._calls_rng.integers(0, 2**63)))
        props, p = self._properties, self.profile
        beta_schedule = self.true_beta_eff(call.schedule)
        s_star = freeze_out_point(call.schedule, p, props["default_annealing_time"])
        drift = self._drift.step()
        beta = beta_schedule * drift

        ice_seq, gibbs_seq, readout_seq, id_seq = call_seq.spawn(4)
        offsets = self._offsets[[self._node_index[v] for v in problem.labels]] if problem.labels else np.zeros(0)
        h_flux = None
        if call.flux_biases is not None:
            from dwave.system.temperatures import fluxbias_to_h

            qubits = np.asarray(problem.labels, np.intp)
            h_flux = np.asarray(fluxbias_to_h(call.flux_biases[qubits], **self.flux_bias_constants), np.float64)
        h_fields = h_prog if h_flux is None else h_prog + h_flux
        h_s, j_s = control_errors(h_fields, j_prog, offsets, p, props["h_range"], props["j_range"], ice_seq)
        if problem.labels:
            spins = boltzmann_spins(h_s, problem.edges, j_s, beta, call.num_reads, self.num_sweeps, gibbs_seq,
                                    self._colorings, self._runners)
        else:
            spins = np.zeros((call.num_reads, 0), np.int8)
        flips = flip_readout(spins, p, readout_seq)
        record = EmulatorCall(
            variables=problem.labels, couplers=problem.couplers, edges=problem.edges, schedule=call.schedule,
            freeze_out_s=s_star, beta_schedule=beta_schedule, drift_factor=drift, beta_eff=beta,
            scale_factor=scale, h_programmed=h_prog, j_programmed=j_prog, h_sampled=h_s, j_sampled=j_s,
            num_reads=call.num_reads, readout_flips=flips, seed_entropy=call_seq.entropy, h_flux=h_flux,
        )
        return spins, record, id_seq
