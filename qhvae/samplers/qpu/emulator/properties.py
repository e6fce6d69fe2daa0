"""The emulator's device surface: lattice, properties, parameters and their validation, timing.

Everything here is what a D-Wave solver publishes or checks, independent of the physics
(:mod:`~qhvae.samplers.qpu.emulator.noise`): the perfect-yield lattice of a topology
(:func:`lattice`), ``properties`` with the same keys and layout as ``MockDWaveSampler``
(:func:`build_properties`), the validation of a call's keyword arguments
(:func:`check_parameter_names`, :func:`parse_call`), the range checks and ``auto_scale``
of the submitted problem (:func:`program_ranges`), and the published QPU timing model
(:func:`qpu_timing`).

Example:
    >>> graph, num_qubits, shape = lattice("chimera", (2,))
    >>> num_qubits, shape, graph.number_of_edges()
    (32, (2, 2, 4), 80)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from ....exceptions import ConfigError
from ....validation import check_int, is_integer
from ...schedules import validate_schedule

__all__ = [
    "ADVANTAGE_TIMING_DATA",
    "QPU_ONLY_PARAMETERS",
    "PARAMETER_DOCS",
    "DEFAULT_SHAPES",
    "EmulatorParameterError",
    "CallParameters",
    "lattice",
    "build_properties",
    "check_parameter_names",
    "call_schedule",
    "parse_call",
    "program_ranges",
    "qpu_timing",
]

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

#: Parameters of a real QPU that the emulator refuses (it does not model them) rather than
#: silently ignoring: a caller relying on them would get wrong physics without noticing.
QPU_ONLY_PARAMETERS = frozenset({
    "anneal_offsets", "flux_drift_compensation", "h_gain_schedule", "initial_state",
    "reinitialize_state", "fast_anneal",
})

#: The parameters the emulator accepts, with the solver's own descriptions.
PARAMETER_DOCS = {
    "anneal_schedule": "Annealing schedule formatted as a piecewise linear list of floating-point pairs of "
                       "'t' (microseconds) and 's'; forward anneals only.",
    "annealing_time": "Quantum annealing duration, in microseconds, as a positive floating point number.",
    "answer_mode": "Format of returned answers, as 'histogram' or 'raw' samples.",
    "flux_biases": "Flux biases in units of Phi0, a list over all num_qubits qubits; the emulator adds their "
                   "h equivalent (dwave.system.temperatures.fluxbias_to_h with the device's B, Ip, MAFM) to "
                   "the programmed h, before its noise model.",
    "auto_scale": "Automatic rescaling of h and J values to their available range, as a boolean flag.",
    "label": "Problem label, returned in the sample set's info as 'problem_label'.",
    "num_reads": "Number of states to read (answers to return), as a positive integer.",
    "programming_thermalization": "Time in microseconds to wait after programming (timing only).",
    "readout_thermalization": "Time in microseconds to wait after each read (timing only).",
    "reduce_intersample_correlation": "Addition of pauses between samples, as a boolean flag (timing only).",
    "seed": "Emulator only: seed of this call's randomness (control errors, chains, read-out). The drift of "
            "beta_eff belongs to the device and follows the constructor's seed.",
}

#: Default lattice shapes: a 2000Q-sized Chimera, a small Pegasus and Zephyr.
DEFAULT_SHAPES = {"chimera": (16, 16, 4), "pegasus": (6,), "zephyr": (6, 4)}


class EmulatorParameterError(ConfigError, KeyError):
    """An unknown or unsupported sampling parameter.

    A real QPU's cloud client raises ``KeyError`` for a parameter the solver does not
    list, and dimod samplers raise ``ValueError``; this error is both.
    """

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


def lattice(topology_type: str, shape: Sequence[int]) -> tuple[nx.Graph, int, tuple[int, ...]]:
    """The perfect-yield graph (linear labels), the nominal number of qubits and the full shape.

    Raises:
        ValueError: for an unknown topology or a shape of the wrong length.
    """
    try:
        import dwave.graphs as dg
    except ImportError:  # older Ocean
        import dwave_networkx as dg
    if topology_type == "chimera":
        if not 1 <= len(shape) <= 3:
            raise ValueError(f"a chimera shape is [m], [m, n] or [m, n, t], got {list(shape)}")
        padded: list[Any] = [*shape, None, None]  # n and t may be left out
        m, n, t = padded[:3]
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


def build_properties(chip_id: str, topology: Mapping, num_qubits: int, nodelist: Sequence[int],
                     edgelist: Sequence[tuple[int, int]], emulator: Mapping) -> dict[str, Any]:
    """QPU-shaped ``properties`` (same keys and layout as ``MockDWaveSampler``).

    ``emulator`` goes under ``properties['emulator']`` (the noise profile and sweeps).
    """
    ann_min, ann_max = 0.5, 2000.0
    return {
        "chip_id": chip_id,
        "topology": dict(topology),
        "num_qubits": num_qubits,
        "qubits": list(nodelist),
        "couplers": [list(e) for e in edgelist],
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
        "parameters": dict(PARAMETER_DOCS),
        "vfyc": False,
        "tags": [],
        "category": "qpu",
        "quota_conversion_rate": 1,
        "emulator": dict(emulator),
    }


def check_parameter_names(parameters: Iterable[str], accepted: Mapping, chip_id: str) -> None:
    """Refuse a parameter the solver does not list, as a QPU's cloud client does.

    Raises:
        EmulatorParameterError: naming the parameter (a D-Wave parameter the emulator does
            not model, or no parameter at all) and the accepted ones.
    """
    for key in parameters:
        if key in accepted:
            continue
        if key in QPU_ONLY_PARAMETERS:
            raise EmulatorParameterError(
                f"{key!r} is a D-Wave QPU parameter that {chip_id} does not emulate; "
                f"accepted: {', '.join(sorted(accepted))}")
        hint = ""
        if key in ("num_spin_reversal_transforms", "spin_reversal_variables", "srts"):
            hint = ("; QPUs no longer apply spin-reversal transforms on the server: wrap the sampler in "
                    "dwave.preprocessing.SpinReversalTransformComposite")
        raise EmulatorParameterError(
            f"{key!r} is not a parameter of this solver ({chip_id}){hint}; "
            f"accepted: {', '.join(sorted(accepted))}")


def call_schedule(anneal_schedule: Any, annealing_time: Any, properties: Mapping) -> list[list[float]]:
    """The call's schedule ``[[t, s], ...]``: ``anneal_schedule`` validated like a QPU, or a
    forward anneal of ``annealing_time`` (default: the device's default annealing time).

    Raises:
        ValueError: both given, a schedule the device refuses, or a time out of range.
    """
    if anneal_schedule is not None and annealing_time is not None:
        raise ValueError("set only one of anneal_schedule or annealing_time")
    if anneal_schedule is not None:
        return [list(p) for p in validate_schedule(anneal_schedule, properties)]
    if annealing_time is None:
        annealing_time = properties["default_annealing_time"]
    lo, hi = properties["annealing_time_range"]
    if isinstance(annealing_time, bool) or not isinstance(annealing_time, (int, float, np.number)):
        raise ValueError(f"annealing_time must be a number of microseconds, got {annealing_time!r}")
    if not (math.isfinite(annealing_time) and lo <= annealing_time <= hi):
        raise ValueError(f"annealing_time must lie in annealing_time_range [{lo:g}, {hi:g}] us, "
                         f"got {annealing_time!r}")
    return [[0.0, 0.0], [float(annealing_time), 1.0]]


@dataclass(frozen=True)
class CallParameters:
    """One call's validated keyword arguments (see ``properties['parameters']``)."""

    num_reads: int
    answer_mode: str
    auto_scale: bool
    programming_thermalization: float
    readout_thermalization: float
    reduce_intersample_correlation: bool
    label: str | None
    seed: int | None
    schedule: list
    flux_biases: np.ndarray | None = None  # (num_qubits,) in Phi0, indexed by qubit label


def parse_call(parameters: Mapping[str, Any], properties: Mapping) -> CallParameters:
    """Validate a call's keyword arguments against the device's ranges, with QPU defaults.

    Raises:
        ValueError: a value out of the device's range or of the wrong type.
    """
    num_reads = parameters.get("num_reads", 1)
    lo, hi = properties["num_reads_range"]
    if not is_integer(num_reads) or not lo <= num_reads <= hi:
        raise ValueError(f"num_reads must be an integer in num_reads_range [{lo}, {hi}], got {num_reads!r}")
    answer_mode = parameters.get("answer_mode", "histogram")
    if answer_mode not in ("histogram", "raw"):
        raise ValueError(f"answer_mode must be 'histogram' or 'raw', got {answer_mode!r}")
    auto_scale = parameters.get("auto_scale", True)
    if not isinstance(auto_scale, (bool, np.bool_)):
        raise ValueError(f"auto_scale must be a boolean, got {auto_scale!r}")
    thermalization = {}
    for key, default in (("programming_thermalization", "default_programming_thermalization"),
                         ("readout_thermalization", "default_readout_thermalization")):
        value = parameters.get(key, properties[default])
        r_lo, r_hi = properties[f"{key}_range"]
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not r_lo <= value <= r_hi:
            raise ValueError(f"{key} must lie in [{r_lo:g}, {r_hi:g}] us, got {value!r}")
        thermalization[key] = float(value)
    label = parameters.get("label")
    if label is not None and not isinstance(label, str):
        raise ValueError(f"label must be a string, got {label!r}")
    schedule = call_schedule(parameters.get("anneal_schedule"), parameters.get("annealing_time"), properties)
    seed = check_int("seed", parameters.get("seed"), minimum=0, allow_none=True)
    flux = parameters.get("flux_biases")
    if flux is not None:
        try:
            flux = np.asarray(flux, np.float64)
        except (TypeError, ValueError):
            raise ValueError("flux_biases must be a list of numbers, one per qubit") from None
        n = int(properties["num_qubits"])
        if flux.shape != (n,):
            raise ValueError(f"flux_biases must be a list of num_qubits = {n} numbers (one per qubit), "
                             f"got shape {flux.shape}")
        if not np.all(np.isfinite(flux)):
            raise ValueError("flux_biases must be finite (no NaN or inf)")
    return CallParameters(int(num_reads), answer_mode, bool(auto_scale), thermalization["programming_thermalization"],
                          thermalization["readout_thermalization"],
                          bool(parameters.get("reduce_intersample_correlation", False)), label, seed, schedule, flux)


def _check_range(values: np.ndarray, lo: float, hi: float, what) -> None:
    bad = np.flatnonzero((values < lo) | (values > hi))
    if bad.size:
        i = int(bad[0])
        raise ValueError(what(i, values[i]))


def program_ranges(h: np.ndarray, J: np.ndarray, labels: list, couplers: list, edges: np.ndarray,
                   properties: Mapping, auto_scale: bool) -> tuple[np.ndarray, np.ndarray, float]:
    """``(h, J, scale)`` as programmed: range checks (``auto_scale=False``) or scaling into range.

    With ``auto_scale`` the problem is divided by ``scale``, the largest ratio of a value
    to its range's bound (up or down); without it, ``h`` must lie in ``h_range``, ``J`` in
    ``extended_j_range`` and each qubit's total coupling in ``per_qubit_coupling_range``.

    Raises:
        ValueError: a value outside its range, naming the qubit or coupler.
    """
    h_lo, h_hi = properties["h_range"]
    j_lo, j_hi = properties["j_range"]
    if not auto_scale:
        _check_range(h, h_lo, h_hi, lambda i, v: f"h of qubit {labels[i]!r} is {v:g}, outside h_range "
                                                 f"[{h_lo:g}, {h_hi:g}] (auto_scale=False)")
        x_lo, x_hi = properties["extended_j_range"]
        _check_range(J, x_lo, x_hi, lambda i, v: f"J of coupler {couplers[i]!r} is {v:g}, outside "
                                                 f"extended_j_range [{x_lo:g}, {x_hi:g}] (auto_scale=False)")
        if J.size:
            c_lo, c_hi = properties["per_qubit_coupling_range"]
            total = np.zeros(h.size)
            np.add.at(total, edges[:, 0], J)
            np.add.at(total, edges[:, 1], J)
            _check_range(total, c_lo, c_hi, lambda i, v: f"the couplings of qubit {labels[i]!r} sum to {v:g}, "
                                                         f"outside per_qubit_coupling_range [{c_lo:g}, {c_hi:g}]")
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


def qpu_timing(properties: Mapping, num_qubits: int, num_reads: int, anneal_time: float,
               programming_thermalization: float, readout_thermalization: float,
               reduce_intersample_correlation: bool) -> dict[str, float]:
    """QPU timing (us) by the published model (dwave-cloud-client's ``estimate_qpu_access_time``)."""
    d = properties["problem_timing_data"]
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
