"""Boltzmann samples from a D-Wave QPU, or anything shaped like one (paper Sec. II, App. B, C).

The prior ``exp(-E_{b,W}(z))`` is sampled by programming the device with the spin form
of ``(b, W)`` divided by the current estimate of the device's effective inverse
temperature: with ``z = (s + 1) / 2``,

    h_i = (b_i / 2 + sum_(j ~ i) W_ij / 4) / beta_eff,   J_ij = (W_ij / 4) / beta_eff,

so that the device's ``exp(-beta_eff H_{h,J})`` is ``exp(-E_{b,W})`` (up to a constant).
Values outside the device's ``h_range``/``j_range`` are clipped and counted.
``auto_scale=False`` (the scale carries ``beta_eff``), ``answer_mode="raw"`` (one row per
read), client-side spin-reversal transforms (paper: 5 transforms of 200 reads; a balanced
design, done on numpy arrays because dwave.preprocessing's composite costs more than the
whole client-side time budget, see :meth:`QPUSampler._sample_transformed`), and an anneal
schedule from a named shape validated against the device's properties before any call.
After each call ``beta_eff`` is re-estimated from the returned samples
(:class:`qhvae.temperature.BetaEffEstimator`).

The latent graph is placed on the device's working graph by :mod:`qhvae.hardware`;
units on qubits the device lacks are sampled exactly from their bias (a masked prior
gives them no couplings) and :meth:`QPUSampler.masks_for` gives the prior its masks.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from typing import Any, Mapping

import dimod
import numpy as np
from scipy.special import expit

from ..topology import LatentGraph, from_edges
from .base import BoltzmannMachine, BoltzmannSampler, SampleResult, SamplerError, samples_in_order
from .schedules import build_schedule

__all__ = ["QPUSampler", "QPUError", "TRANSIENT_ERRORS", "spin_parameters", "connect_dwave", "balanced_transforms"]


class QPUError(SamplerError):
    """The QPU could not be reached or refused the problem."""


def _transient_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [ConnectionError, TimeoutError]
    try:
        from dwave.cloud import exceptions as ex

        errors += [ex.RequestTimeout, ex.PollingTimeout, ex.SolverOfflineError, ex.Timeout]
    except ImportError:  # pragma: no cover - dwave-cloud-client is a dwave-system dependency
        pass
    try:
        import requests

        errors += [requests.exceptions.ConnectionError, requests.exceptions.Timeout]
    except ImportError:  # pragma: no cover
        pass
    return tuple(errors)


TRANSIENT_ERRORS = _transient_errors()


def connect_dwave(**solver_config) -> dimod.Sampler:
    """A :class:`dwave.system.DWaveSampler` from dwave-cloud-client's usual configuration.

    Raises:
        QPUError: with what to do when there are no credentials or no solver.
    """
    try:
        from dwave.system import DWaveSampler

        return DWaveSampler(**solver_config)
    except Exception as exc:
        kind = type(exc).__name__
        hint = ("configure access with `dwave config create` or set DWAVE_API_TOKEN (and optionally "
                "DWAVE_API_SOLVER / DWAVE_API_REGION)")
        raise QPUError(f"could not connect to a D-Wave QPU ({kind}: {exc}); {hint}") from exc


def spin_parameters(bm: BoltzmannMachine) -> tuple[np.ndarray, np.ndarray]:
    """Spin-form ``(h, J)`` of a BINARY machine (unit-indexed ``h``, per-edge ``J``), no ``beta_eff``.

    Example:
        >>> bm = BoltzmannMachine.from_arrays([1.0, -2.0], ([[0, 1]], [4.0]))
        >>> h, J = spin_parameters(bm)
        >>> h.tolist(), J.tolist()
        ([1.5, 0.0], [1.0])
    """
    n = bm.num_variables
    h = bm.linear / 2.0 + (np.bincount(bm.edges[:, 0], bm.weights, n) + np.bincount(bm.edges[:, 1], bm.weights, n)) / 4.0
    return h, bm.weights / 4.0


def balanced_transforms(num_variables: int, num_transforms: int, rng: np.random.Generator) -> np.ndarray:
    """``(T, n)`` spin-reversal flips in which every qubit is flipped in half of the transforms.

    Random transforms leave a fixed per-qubit offset ``o_i`` averaged over an unbalanced
    number of flips (residual ~ ``o_i / sqrt(T)``); a balanced design cancels it exactly
    for every even ``T`` (odd ``T``: one transform's worth remains). Which transforms
    flip a given qubit is random and independent between qubits.

    Example:
        >>> flips = balanced_transforms(3, 4, np.random.default_rng(0))
        >>> flips.shape, flips.sum(axis=0).tolist()
        ((4, 3), [2, 2, 2])
    """
    # Each column: a random set of exactly T // 2 flipped transforms.
    flips = rng.random((num_transforms, num_variables)).argsort(axis=0) < num_transforms // 2
    if num_transforms % 2:  # the odd transform out is flipped for a random half of the qubits
        flips[:, rng.random(num_variables) < 0.5] ^= True
    return flips


@dataclass(frozen=True, eq=False)
class _Layout:
    """How a machine's units and couplings map onto the usable qubits and couplers.

    It depends only on the machine's structure and its placement, so it is built once
    per structure (:meth:`QPUSampler._layout_for`) instead of on every call: the masks,
    the index arrays and above all the list of qubit labels (a Python list of a few
    hundred ints) were otherwise rebuilt for every negative phase.
    """

    placement: Any
    usable_units: np.ndarray  # (L,) bool: the unit's qubit works
    usable_edges: np.ndarray  # (E,) bool over bm.edges: the coupler works
    units: np.ndarray  # indices of the usable units (the BQM's variables, in this order)
    missing: np.ndarray  # indices of the units on absent qubits
    rows: np.ndarray  # usable couplings as positions among `units`
    cols: np.ndarray
    labels: list  # the qubit of every usable unit, in unit order
    sorted_labels: list  # the same qubits sorted: the column order of a dimod SampleSet
    from_sorted: np.ndarray  # columns of `sorted_labels` that give `labels` order

    @classmethod
    def build(cls, bm: BoltzmannMachine, placement) -> "_Layout":
        usable_units = np.asarray(placement.unit_mask) > 0
        usable_edges = np.asarray(placement.edge_mask) > 0
        placed_edges = np.asarray(placement.graph.edges).reshape(-1, 2)
        if not np.array_equal(placed_edges, bm.edges):
            # The mask follows the placed graph's edge order; the machine may list the same
            # couplings in another order (or orientation): match them by their units.
            works = {(min(i, j), max(i, j)): bool(ok) for (i, j), ok in zip(placed_edges.tolist(), usable_edges)}
            usable_edges = np.array([works[(min(i, j), max(i, j))] for i, j in bm.edges.tolist()], bool)
        units = np.flatnonzero(usable_units)
        position = np.full(bm.num_variables, -1)
        position[units] = np.arange(units.size)
        edges = bm.edges[usable_edges]
        labels = np.asarray(placement.qubits)[units].tolist()
        sorted_labels = sorted(labels)
        column = {v: i for i, v in enumerate(sorted_labels)}
        layout = cls(placement, usable_units, usable_edges, units,
                     np.setdiff1d(np.arange(bm.num_variables), units),
                     position[edges[:, 0]], position[edges[:, 1]], labels, sorted_labels,
                     np.array([column[v] for v in labels], np.intp))
        for name in ("usable_units", "usable_edges", "units", "missing", "rows", "cols", "from_sorted"):
            getattr(layout, name).setflags(write=False)  # shared by every call: never modified
        return layout


class QPUSampler(BoltzmannSampler):
    """Boltzmann samples of the prior from a QPU-shaped dimod Structured sampler.

    Args:
        device: ``DWaveSampler``, ``MockDWaveSampler``, a :class:`~qhvae.samplers.emulator.QPUEmulator`,
            any dimod Structured sampler with QPU properties, or ``"dwave"`` to connect
            with dwave-cloud-client's configuration (``solver_config`` passed on).
        graph: the latent graph (else built from each model's edges).
        beta_eff: initial effective inverse temperature.
        beta_estimator: ``"mpl"``, ``"c3"``, a :class:`~qhvae.temperature.BetaEffEstimator`
            or ``None`` to keep ``beta_eff`` fixed.
        num_spin_reversal_transforms: transforms per call (paper: 5); 0 disables them.
        schedule: ``"pause-quench"`` (paper App. B), ``"forward"``, explicit ``(t, s)``
            points, or ``None`` for the device default.
        schedule_options: options of the named shape (``pause_point``, ``pause_us``,
            ``ramp_us``, ``quench_slope``; ``annealing_time`` for ``"forward"``).
        retries, backoff: transient failures (timeouts, connection errors, solver offline)
            are retried ``retries`` times with exponential backoff starting at ``backoff`` s.
        fallback: name of a classical sampler to use when the device keeps failing
            (``None``: raise).
        seed: seed of the spin-reversal transforms.
    """

    name = "qpu"
    description = "D-Wave QPU (or a look-alike): spin-reversal transforms, pause-and-quench, beta_eff tracking"
    sampler_parameters = {"num_spin_reversal_transforms": "transforms for this call"}

    def __init__(self, device: Any = "dwave", graph: LatentGraph | None = None, beta_eff: float = 1.0,
                 beta_estimator: Any = "mpl", num_spin_reversal_transforms: int = 5,
                 schedule: Any = "pause-quench", schedule_options: Mapping | None = None, retries: int = 3,
                 backoff: float = 1.0, fallback: str | None = None, seed: int | None = None,
                 solver_config: Mapping | None = None):
        from ..temperature import BetaEffEstimator

        self.device = connect_dwave(**(solver_config or {})) if isinstance(device, str) else device
        for attr in ("nodelist", "edgelist", "properties"):
            if not hasattr(self.device, attr):
                raise TypeError(f"the QPU device must be a dimod Structured sampler with QPU properties; "
                                f"{type(self.device).__name__} has no {attr!r}")
        if not beta_eff > 0:
            raise ValueError(f"beta_eff must be positive, got {beta_eff}")
        if num_spin_reversal_transforms < 0 or retries < 0 or backoff < 0:
            raise ValueError("num_spin_reversal_transforms, retries and backoff must be >= 0")
        self.graph = graph
        self.effective_beta = float(beta_eff)
        if isinstance(beta_estimator, str):
            beta_estimator = BetaEffEstimator(method=beta_estimator)
        self.beta_estimator = beta_estimator
        self.num_spin_reversal_transforms = int(num_spin_reversal_transforms)
        props = self.device.properties
        self.h_range = tuple(float(v) for v in props.get("h_range", (-4.0, 4.0)))
        self.j_range = tuple(float(v) for v in props.get("j_range", (-1.0, 1.0)))
        self.schedule = build_schedule(schedule, props, **dict(schedule_options or {}))
        self.retries, self.backoff, self.fallback = int(retries), float(backoff), fallback
        self.seed = seed
        self.clip_counts = {"h": 0, "J": 0, "calls": 0}
        self.beta_history: list[float] = [self.effective_beta]
        self._placements: dict = {}
        self._graphs: dict = {}
        self._layouts: dict = {}
        self._device_seconds = 0.0
        self._fallback_sampler = None

    # -- placement -----------------------------------------------------------------------

    def _graph_for(self, bm: BoltzmannMachine) -> LatentGraph:
        key = bm.structure_key()
        if key not in self._graphs:
            self._graphs[key] = self.graph if bm.matches(self.graph) else from_edges(bm.num_variables, bm.edges)
        return self._graphs[key]

    def placement(self, graph: LatentGraph):
        """Where ``graph`` sits on the device (computed once per graph)."""
        from ..hardware import place

        key = (graph.num_nodes, graph.edges.tobytes())
        if key not in self._placements:
            self._placements[key] = place(graph, self.device)
        return self._placements[key]

    def masks_for(self, graph: LatentGraph) -> tuple[np.ndarray, np.ndarray]:
        """``(edge_mask, unit_mask)`` for a prior on ``graph``: what the device can realise."""
        p = self.placement(graph)
        return np.asarray(p.edge_mask, np.float32), np.asarray(p.unit_mask, np.float32)

    def _layout_for(self, bm: BoltzmannMachine) -> _Layout:
        """The layout of ``bm``'s structure: one dict lookup per call once the structure is known."""
        key = bm.structure_key()
        layout = self._layouts.get(key)
        if layout is None:
            layout = self._layouts[key] = _Layout.build(bm, self.placement(self._graph_for(bm)))
        return layout

    def _layout(self, bm: BoltzmannMachine, placement) -> _Layout:
        """The cached layout when ``placement`` is the one this sampler found, else a fresh one."""
        layout = self._layouts.get(bm.structure_key())
        return layout if layout is not None and layout.placement is placement else _Layout.build(bm, placement)

    # -- sampling ------------------------------------------------------------------------

    def program(self, bm: BoltzmannMachine, placement) -> tuple[dimod.BinaryQuadraticModel, dict]:
        """The Ising problem sent to the device (over its qubits), and what had to change to fit it.

        The BQM's variables are the usable qubits in unit order.
        """
        layout = self._layout(bm, placement)
        linear, quadratic, report = self._scaled_parameters(bm, layout)
        return self._ising(layout, linear, quadratic), report

    def _scaled_parameters(self, bm: BoltzmannMachine, layout: _Layout) -> tuple[np.ndarray, np.ndarray, dict]:
        """``h / beta_eff`` over the usable units and ``J / beta_eff`` over the usable couplings,
        clipped to the device's ranges, and the counts of what was clipped or dropped."""
        h, J = spin_parameters(bm)
        h, J = h / self.effective_beta, J / self.effective_beta
        h_clipped = np.clip(h, *self.h_range)
        J_clipped = np.clip(J, *self.j_range)
        report = {
            "clipped_h": int(np.count_nonzero((h_clipped != h) & layout.usable_units)),
            "clipped_j": int(np.count_nonzero((J_clipped != J) & layout.usable_edges)),
            "dropped_couplings": int(np.count_nonzero(J[~layout.usable_edges])),
        }
        return h_clipped[layout.units], J_clipped[layout.usable_edges], report

    @staticmethod
    def _ising(layout: _Layout, linear: np.ndarray, quadratic: np.ndarray) -> dimod.BinaryQuadraticModel:
        # Most of the ~0.1 ms this takes is dimod relabelling range(n) to the qubit labels;
        # dimod has no public way to set the biases of a labelled BQM from arrays.
        return dimod.BinaryQuadraticModel.from_numpy_vectors(
            linear, (layout.rows, layout.cols, quadratic), 0.0, dimod.SPIN, variable_order=layout.labels)

    def _call_parameters(self, reads: int) -> tuple[dict[str, Any], bool]:
        """The device's keyword arguments for ``reads`` reads, and whether it takes a ``seed``.

        Computed once per negative phase rather than once per transform.
        """
        params: dict[str, Any] = {"auto_scale": False, "answer_mode": "raw", "num_reads": reads}
        if self.schedule is not None:
            params["anneal_schedule"] = self.schedule
        allowed = set(self.device.parameters)
        return {k: v for k, v in params.items() if k in allowed}, "seed" in allowed

    def _device_call(self, bqm: dimod.BinaryQuadraticModel, params: Mapping[str, Any], seed: int | None
                     ) -> dimod.SampleSet:
        """One device call with ``params`` (plus ``seed`` unless None), retrying transient failures."""
        if seed is not None:
            params = {**params, "seed": seed}
        delay = self.backoff
        for attempt in range(self.retries + 1):
            t0 = time.perf_counter()
            try:
                sampleset = self.device.sample(bqm, **params)
                sampleset.resolve()
                return sampleset
            except TRANSIENT_ERRORS as exc:
                if attempt == self.retries:
                    raise QPUError(f"{self.label}: the device failed {attempt + 1} times "
                                   f"({type(exc).__name__}: {exc})") from exc
                time.sleep(delay)
                delay *= 2
            finally:
                self._device_seconds += time.perf_counter() - t0
        raise AssertionError("unreachable")

    @staticmethod
    def _read_back(sampleset: dimod.SampleSet, bqm: dimod.BinaryQuadraticModel, layout: _Layout) -> np.ndarray:
        """The sampleset's rows (one per read) with columns in ``bqm``'s variable (unit) order.

        dimod sorts a SampleSet's labels by default, so the emulator's and
        DWaveSampler's answers come back with the qubits sorted: the column gather for
        that order is precomputed in the layout, instead of a label dict and a list of
        positions built per transform (:func:`samples_in_order`, used for any other order).
        The comparisons of ``variables`` are exact and in order. ``np.take`` rather than
        ``sample[:, columns]``: the latter comes out Fortran-ordered and the final output
        would then be copied once more to make it C-contiguous.
        """
        variables = sampleset.variables
        if variables == layout.sorted_labels:
            samples = np.take(sampleset.record.sample, layout.from_sorted, axis=1)
        elif variables == bqm.variables:
            samples = sampleset.record.sample
        else:
            return samples_in_order(sampleset, bqm.variables)
        counts = sampleset.record.num_occurrences
        return np.repeat(samples, counts, axis=0) if np.any(counts != 1) else samples

    def _sample_transformed(self, layout: _Layout, linear: np.ndarray, quadratic: np.ndarray, reads: int,
                            transforms: int, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
        """Spins ``(reads * T, n)`` over the usable qubits, gathered from ``T`` spin-reversal transforms.

        Written here rather than through dwave.preprocessing's
        SpinReversalTransformComposite, which flips the BQM one variable at a time in
        Python (``bqm.flip_variable``) and rebuilds a SampleSet to undo the flips: about
        2.5-3x our whole client overhead per call for 288 qubits and 5 transforms
        (``benchmarks/bench_qpu.py`` prints the ratio). The composite also passes the
        same ``seed`` to every transform. Here each transform is one BQM built from
        flipped numpy vectors. The transforms are the balanced design of
        :func:`balanced_transforms`.

        Every transformed problem is built before the first device call and every answer
        read back after the last: code that runs right after a device call finds the CPU
        caches cold (the emulator's sweeps, or another process during a real QPU's wait)
        and took about twice as long as the same code run in one burst.

        The flips are int8 and the device's int8 spins stay int8: multiplying them by an
        int64 vector made every block (and their concatenation) eight times larger, and
        allocating and filling those fresh arrays was half of the client's time.
        """
        n = len(layout.labels)
        flips = balanced_transforms(n, transforms, rng) if transforms else np.zeros((1, n), bool)
        params, seeded = self._call_parameters(reads)
        rows, cols = layout.rows, layout.cols
        problems = []
        for flip in flips:
            g = np.where(flip, np.int8(-1), np.int8(1))
            seed = int(rng.integers(0, 2**31 - 1))  # drawn even when unused: same stream either way
            problems.append((g, self._ising(layout, linear * g, quadratic * g[rows] * g[cols]), seed))
        samplesets = [self._device_call(bqm, params, seed if seeded else None) for _, bqm, seed in problems]
        blocks = [self._read_back(sampleset, bqm, layout) * g for (g, bqm, _), sampleset in zip(problems, samplesets)]
        spins = np.concatenate(blocks)
        not_spins = spins.size and np.count_nonzero(np.abs(spins) != 1)
        if not_spins or any(ss.vartype is not dimod.SPIN for ss in samplesets):
            # A 0/1 answer would otherwise pass as spins -1 -> 0 and bias every unit
            raise SamplerError(f"sampler {self.name!r}: the device returned values other than -1/+1 "
                               f"(vartype {samplesets[-1].vartype.name}); a QPU answers SPIN samples")
        return spins, dict(samplesets[-1].info)

    def _sample(self, bm, num_samples, seed, num_spin_reversal_transforms=None, **params):
        layout = self._layout_for(bm)  # placement and index arrays: once per structure, not per call
        rng = np.random.default_rng(seed)
        transforms = self.num_spin_reversal_transforms if num_spin_reversal_transforms is None \
            else int(num_spin_reversal_transforms)
        reads = math.ceil(num_samples / max(1, transforms))
        start = time.perf_counter()
        linear, quadratic, report = self._scaled_parameters(bm, layout)
        estimate = self.beta_estimator is not None and layout.units.size > 0
        # The programmed problem, for the beta_eff estimate only; built with the transformed
        # ones, before the device calls (see _sample_transformed), and counted as client time.
        bqm = self._ising(layout, linear, quadratic) if estimate else None
        self._device_seconds = 0.0
        try:
            spins, device_info = self._sample_transformed(layout, linear, quadratic, reads, transforms, rng)
        except QPUError as exc:
            if self.fallback is None:
                raise
            return self._fall_back(bm, num_samples, seed, exc)
        device_seconds = self._device_seconds
        if len(spins) < num_samples:
            raise QPUError(f"{self.label}: the device returned {len(spins)} reads, expected {num_samples}")
        if len(spins) > num_samples:  # keep a random subset, mixing the transforms
            spins = spins[rng.permutation(len(spins))[:num_samples]]
        if layout.missing.size == 0:
            samples = (spins > 0).view(np.uint8)
        else:
            samples = np.empty((num_samples, bm.num_variables), np.uint8)
            samples[:, layout.units] = spins > 0
            missing = layout.missing
            # Units on absent qubits have no couplings in a masked prior: their exact marginal.
            samples[:, missing] = rng.random((num_samples, missing.size)) < expit(-bm.linear[missing])
        client_seconds = time.perf_counter() - start - device_seconds
        estimate_start = time.perf_counter()
        beta_used = self.effective_beta
        if estimate:
            self.effective_beta = self.beta_estimator.update(beta_used, bqm, spins, list(layout.labels),
                                                             seed=int(rng.integers(0, 2**31 - 1)))
        self.beta_history.append(self.effective_beta)
        estimate_seconds = time.perf_counter() - estimate_start
        self.clip_counts["h"] += report["clipped_h"]
        self.clip_counts["J"] += report["clipped_j"]
        self.clip_counts["calls"] += 1
        info = dict(report, beta_eff_used=beta_used, beta_eff=self.effective_beta,
                    num_spin_reversal_transforms=transforms, reads_per_transform=reads,
                    timing={"device_s": device_seconds, "client_s": client_seconds,
                            "beta_estimate_s": estimate_seconds},
                    device_info=device_info)
        return SampleResult(samples, info)

    def _fall_back(self, bm, num_samples, seed, error):
        from ..registry import get_sampler

        if self._fallback_sampler is None:
            self._fallback_sampler = get_sampler(self.fallback)
        warnings.warn(f"{error}; falling back to the classical sampler {self.fallback!r} for this call",
                      RuntimeWarning, stacklevel=3)
        result = self._fallback_sampler.sample_bm(bm, num_samples, seed=seed)
        result.info["fallback"] = {"sampler": self.fallback, "error": str(error)}
        return result

    # -- state ---------------------------------------------------------------------------

    def get_state(self) -> dict[str, np.ndarray]:
        """``beta_eff`` and its history (the device itself keeps no state we can save)."""
        return {"effective_beta": np.float64(self.effective_beta),
                "beta_history": np.asarray(self.beta_history, np.float64)}

    def set_state(self, state: Mapping[str, np.ndarray]) -> None:
        if not state:
            return
        self.effective_beta = float(state["effective_beta"])
        self.beta_history = [float(v) for v in np.asarray(state.get("beta_history", [self.effective_beta]))]
