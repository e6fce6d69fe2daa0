"""The one device I/O path: a Boltzmann machine programmed onto placed qubits, answers read back.

A :class:`DeviceLayout` joins a :class:`~qhvae.samplers.machine.BoltzmannMachine` to a
:class:`~qhvae.hardware.placement.Placement`: which units sit on working qubits, which
couplings on working couplers, and the index arrays that move parameters and samples
between unit order and the device's qubits. Everything that crosses the boundary to a
QPU-shaped device goes through it:

1. **programming** (:meth:`DeviceLayout.program`): the machine's spin form (:func:`spin_parameters`)
   divided by ``beta_eff`` and clipped to the device's ranges, as an Ising BQM over the
   usable qubits; couplings on missing couplers are dropped (the prior masks them);
2. **reading back** (:meth:`DeviceLayout.read_back`): a device's SampleSet as spins in
   unit order, one row per read;
3. **filling** (:meth:`DeviceLayout.to_binary`): binary samples of every unit, the units
   on missing qubits drawn exactly from their marginal under the masked prior.

Example:
    >>> from dwave.system.testing import MockDWaveSampler
    >>> from qhvae import topology
    >>> from qhvae.hardware import place
    >>> from qhvae.samplers.machine import BoltzmannMachine
    >>> device = MockDWaveSampler(topology_type="chimera", topology_shape=[1, 1, 4], broken_nodes=[0])
    >>> graph = topology.chimera(1)
    >>> bm = BoltzmannMachine.from_arrays(np.zeros(8), (graph.edges, np.ones(graph.num_edges)))
    >>> layout = DeviceLayout.build(bm, place(graph, device))
    >>> bqm, report = layout.program(bm)
    >>> bqm.num_variables, bqm.num_interactions, report["dropped_couplings"]
    (7, 12, 4)
    >>> spins = layout.read_back(device.sample(bqm, num_reads=5, answer_mode="raw"))
    >>> layout.to_binary(spins, bm, np.random.default_rng(0)).shape
    (5, 8)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import dimod
import numpy as np
from scipy.special import expit

from ...exceptions import SamplerOutputError
from ..conversions import samples_in_order
from ..machine import BoltzmannMachine

__all__ = ["DeviceLayout", "spin_parameters"]

_UNBOUNDED = (-math.inf, math.inf)


def spin_parameters(bm: BoltzmannMachine) -> tuple[np.ndarray, np.ndarray]:
    """Spin-form ``(h, J)`` of a BINARY machine (unit-indexed ``h``, per-edge ``J``), no ``beta_eff``.

    With ``z = (s + 1) / 2``: ``h_i = b_i / 2 + sum_(j ~ i) W_ij / 4`` and ``J_ij = W_ij / 4``,
    so that ``E_{b,W}(z) = H_{h,J}(s)`` up to a constant.

    Example:
        >>> bm = BoltzmannMachine.from_arrays([1.0, -2.0], ([[0, 1]], [4.0]))
        >>> h, J = spin_parameters(bm)
        >>> h.tolist(), J.tolist()
        ([1.5, 0.0], [1.0])
    """
    n = bm.num_variables
    coupled = np.bincount(bm.edges[:, 0], bm.weights, n) + np.bincount(bm.edges[:, 1], bm.weights, n)
    h = bm.linear / 2.0 + coupled / 4.0
    return h, bm.weights / 4.0


def _usable_edges(bm: BoltzmannMachine, placement: Any) -> np.ndarray:
    """``(E,)`` bool over ``bm.edges``: the coupling's coupler works (the mask in the machine's edge order)."""
    usable = np.asarray(placement.edge_mask) > 0
    placed = np.asarray(placement.graph.edges).reshape(-1, 2)
    if np.array_equal(placed, bm.edges):
        return usable
    # The mask follows the placed graph's edge order; the machine may list the same
    # couplings in another order (or orientation): match them by their units.
    works = {(min(i, j), max(i, j)): bool(ok) for (i, j), ok in zip(placed.tolist(), usable, strict=True)}
    out = np.empty(bm.num_edges, bool)
    for e, (i, j) in enumerate(bm.edges.tolist()):
        key = (min(i, j), max(i, j))
        if key not in works:
            raise ValueError(f"coupling {key} is not an edge of {placement.graph.name}, the placed graph")
        out[e] = works[key]
    return out


@dataclass(frozen=True, eq=False)
class DeviceLayout:
    """How a machine's units and couplings map onto the usable qubits and couplers.

    It depends only on the machine's structure and its placement, so a sampler builds it
    once per structure (:meth:`build`) instead of on every call: the masks, the index
    arrays and above all the list of qubit labels (a Python list of a few hundred ints)
    were otherwise rebuilt for every negative phase. Every array is read-only.

    Attributes:
        placement: the :class:`~qhvae.hardware.placement.Placement` of the machine's graph.
        usable_units: ``(L,)`` bool, the unit's qubit works.
        usable_edges: ``(E,)`` bool over ``bm.edges``, the coupling's coupler works.
        units: indices of the usable units (the programmed BQM's variables, in this order).
        missing: indices of the units on absent qubits.
        rows, cols: the usable couplings as positions among ``units``.
        labels: the qubit of every usable unit, in unit order.
        sorted_labels: the same qubits sorted: the column order of a dimod SampleSet.
        from_sorted: columns of ``sorted_labels`` that give ``labels`` order.
    """

    placement: Any
    usable_units: np.ndarray
    usable_edges: np.ndarray
    units: np.ndarray
    missing: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    labels: list
    sorted_labels: list
    from_sorted: np.ndarray

    @classmethod
    def build(cls, bm: BoltzmannMachine, placement: Any) -> DeviceLayout:
        """The layout of ``bm`` on ``placement`` (a placement of a graph with ``bm``'s couplings).

        Raises:
            ValueError: when ``bm`` has another number of units than the placed graph, or a
                coupling that is not an edge of it.
        """
        L = placement.graph.num_nodes
        if bm.num_variables != L:
            raise ValueError(f"the machine has {bm.num_variables} units, expected {L} for {placement.graph.name}")
        usable_units = np.asarray(placement.unit_mask) > 0
        usable_edges = _usable_edges(bm, placement)
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

    @property
    def num_qubits(self) -> int:
        """Number of usable qubits (the programmed problem's variables)."""
        return len(self.labels)

    # -- programming ---------------------------------------------------------------------

    def scaled_parameters(self, bm: BoltzmannMachine, beta_eff: float = 1.0,
                          h_range: tuple[float, float] = _UNBOUNDED, j_range: tuple[float, float] = _UNBOUNDED
                          ) -> tuple[np.ndarray, np.ndarray, dict]:
        """``h / beta_eff`` over the usable units and ``J / beta_eff`` over the usable couplings.

        Clipped to ``h_range`` and ``j_range``; the report counts what was clipped
        (``clipped_h``, ``clipped_j``, on usable hardware only) and the non-zero couplings
        dropped because their coupler is missing (``dropped_couplings``).
        """
        h, J = spin_parameters(bm)
        h, J = h / beta_eff, J / beta_eff
        h_clipped = np.clip(h, *h_range)
        J_clipped = np.clip(J, *j_range)
        report = {
            "clipped_h": int(np.count_nonzero((h_clipped != h) & self.usable_units)),
            "clipped_j": int(np.count_nonzero((J_clipped != J) & self.usable_edges)),
            "dropped_couplings": int(np.count_nonzero(J[~self.usable_edges])),
        }
        return h_clipped[self.units], J_clipped[self.usable_edges], report

    def ising(self, linear: np.ndarray, quadratic: np.ndarray) -> dimod.BinaryQuadraticModel:
        """The SPIN BQM over the usable qubits (in unit order) with these fields and couplings.

        ``linear`` is over :attr:`units`, ``quadratic`` over the usable couplings, as
        :meth:`scaled_parameters` returns them (or spin-reversal transformed copies).
        """
        # Most of the ~0.1 ms this takes is dimod relabelling range(n) to the qubit labels;
        # dimod has no public way to set the biases of a labelled BQM from arrays.
        return dimod.BinaryQuadraticModel.from_numpy_vectors(
            linear, (self.rows, self.cols, quadratic), 0.0, dimod.SPIN, variable_order=self.labels)

    def program(self, bm: BoltzmannMachine, beta_eff: float = 1.0, h_range: tuple[float, float] = _UNBOUNDED,
                j_range: tuple[float, float] = _UNBOUNDED) -> tuple[dimod.BinaryQuadraticModel, dict]:
        """The Ising problem for the device (:meth:`ising` of :meth:`scaled_parameters`) and the report."""
        linear, quadratic, report = self.scaled_parameters(bm, beta_eff, h_range, j_range)
        return self.ising(linear, quadratic), report

    # -- reading back --------------------------------------------------------------------

    def read_back(self, sampleset: dimod.SampleSet) -> np.ndarray:
        """The sampleset's rows (one per read) with columns in :attr:`labels` (unit) order.

        dimod sorts a SampleSet's labels by default, so the emulator's and
        DWaveSampler's answers come back with the qubits sorted: the column gather for
        that order is precomputed here, instead of a label dict and a list of positions
        built per call (:func:`~qhvae.samplers.conversions.samples_in_order`, used for any other
        order). The comparisons of ``variables`` are exact and in order. ``np.take``
        rather than ``sample[:, columns]``: the latter comes out Fortran-ordered and the
        final output would then be copied once more to make it C-contiguous.

        Raises:
            SamplerOutputError: when a usable qubit has no column in the sampleset.
        """
        variables = sampleset.variables
        if variables == self.sorted_labels:
            samples = np.take(sampleset.record.sample, self.from_sorted, axis=1)
        elif variables == self.labels:
            samples = sampleset.record.sample
        else:
            try:
                return samples_in_order(sampleset, self.labels)
            except KeyError:
                absent = [q for q in self.labels if q not in set(variables)]
                units = self.units[[self.labels.index(q) for q in absent[:5]]].tolist()
                raise SamplerOutputError(f"qubits {absent[:5]} (units {units}) are not in the sampleset: "
                                         "the device answered over other variables than it was given") from None
        counts = sampleset.record.num_occurrences
        return np.repeat(samples, counts, axis=0) if np.any(counts != 1) else samples

    def to_binary(self, spins: np.ndarray, bm: BoltzmannMachine, rng: np.random.Generator) -> np.ndarray:
        """``(N, L)`` uint8 samples of every unit from ``(N, num_qubits)`` spins of the usable ones.

        Units on absent qubits have no couplings in a masked prior, so they are drawn
        exactly from their marginal ``p(z_i = 1) = sigmoid(-b_i)`` with ``rng``.
        """
        # A bool view rather than spins_to_binary: this runs on every negative phase, and the
        # comparison is one pass with no int8 temporaries.
        if self.missing.size == 0:
            return (spins > 0).view(np.uint8)
        samples = np.empty((len(spins), bm.num_variables), np.uint8)
        samples[:, self.units] = spins > 0
        missing = self.missing
        samples[:, missing] = rng.random((len(spins), missing.size)) < expit(-bm.linear[missing])
        return samples
