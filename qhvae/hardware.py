"""Place a latent graph on a quantum annealer's working graph.

A QPU has a *complete* topology (Chimera, Pegasus or Zephyr of some shape) and a
*working graph*: the qubits and couplers that actually work on this chip. To sample the
Boltzmann-machine prior of a :class:`~qhvae.topology.LatentGraph` on the QPU, every
latent unit is assigned a distinct qubit such that every coupled pair of units sits on a
coupler of the complete topology (an injective subgraph placement). Units that land on
a missing qubit and couplings that land on a missing coupler are *masked*: the prior
multiplies its couplings by :attr:`Placement.edge_mask` (and the unit mask), so the
model never relies on hardware that is not there (DESIGN.md Sec. 6, "Dead qubits").

Two strategies:

* :func:`place_native` - the graph was cut from the device's own family (a Chimera patch
  on a Chimera QPU, a Pegasus patch on a Pegasus QPU, a Zephyr patch on a Zephyr QPU):
  its hardware coordinates are shifted by a cell offset and converted to the device's
  linear labels with the ``dwave.graphs`` coordinate helpers.
* :func:`place_search` - every *sublattice* placement of the patch (all cell offsets and,
  across families, the ``dwave.graphs.*_sublattice_mappings``: Chimera into Pegasus or
  Zephyr, Pegasus into Pegasus with all three ``t`` shifts, Zephyr into Zephyr) is scored
  by its number of missing qubits + couplers on the working graph and the best one is
  kept. Graphs with no sublattice (RBMs, custom graphs, ...) use minorminer's subgraph
  isomorphism search (Glasgow subgraph solver), first on the working graph (a perfect,
  defect-free placement), then on the complete topology graph (with masks).

:func:`place` picks native when the native placement is good enough, otherwise searches.
Nothing is tabulated per processor: everything is derived from the device's
``nodelist``, ``edgelist`` and ``properties["topology"]``.

A *device* is anything with ``nodelist``, ``edgelist`` and ``properties["topology"]``
(``{"type": "pegasus", "shape": [16]}``): a dwave-system ``DWaveSampler``,
``dwave.system.testing.MockDWaveSampler``, or qhvae's QPU emulator; a mapping with the
keys ``nodelist``, ``edgelist`` and ``topology``; or a networkx graph with integer
(linear) labels, with the topology either given as ``topology=`` or read from the graph
attributes that ``dwave.graphs`` generators set (``family``, ``rows``, ``columns``,
``tile``).

Example:
    >>> from dwave.system.testing import MockDWaveSampler
    >>> from qhvae import topology
    >>> device = MockDWaveSampler(topology_type="chimera", topology_shape=[4, 4, 4],
    ...                           broken_nodes=[0])
    >>> p = place(topology.chimera(2), device)
    >>> p.num_missing_qubits, p.method
    (0, 'search')
    >>> p = place_native(topology.chimera(2), device)
    >>> p.num_missing_qubits, p.num_missing_couplers, int(p.unit_mask[0])
    (1, 5, 0)
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Iterable, Sequence

import networkx as nx
import numpy as np

from qhvae.topology import LatentGraph

__all__ = [
    "Placement",
    "DeviceGraph",
    "device_graph",
    "place",
    "place_native",
    "place_search",
    "HARDWARE_FAMILIES",
]

HARDWARE_FAMILIES = ("chimera", "pegasus", "zephyr")


# --------------------------------------------------------------------------------------
# Devices
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class DeviceGraph:
    """A device's working graph plus its complete topology, in integer (linear) labels.

    Attributes:
        topology_type: ``"chimera"``, ``"pegasus"``, ``"zephyr"`` or ``None`` (unknown
            topology: the working graph is all there is).
        shape: Topology shape, e.g. ``(16, 16, 4)`` for Chimera, ``(16,)`` for Pegasus,
            ``(6, 4)`` for Zephyr; ``()`` when unknown.
        nodes: Sorted ``(V,)`` int64 array of working qubits.
        edges: ``(C, 2)`` int64 array of working couplers (both qubits working),
            ``q1 < q2``, sorted.
    """

    topology_type: str | None
    shape: tuple[int, ...]
    nodes: np.ndarray
    edges: np.ndarray
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def topology(self) -> dict:
        """``{"type": ..., "shape": [...]}`` as in a solver's ``properties["topology"]``."""
        return {"type": self.topology_type, "shape": list(self.shape)}

    @property
    def num_labels(self) -> int:
        """One more than the largest qubit label of the complete topology."""
        if "num_labels" not in self._cache:
            if self.topology_type is None:
                n = int(self.nodes.max()) + 1 if self.nodes.size else 0
            else:
                n = _complete_graph(self.topology_type, self.shape).number_of_nodes()
                if self.nodes.size:
                    n = max(n, int(self.nodes.max()) + 1)
            self._cache["num_labels"] = n
        return self._cache["num_labels"]

    def complete_graph(self) -> nx.Graph:
        """The perfect-yield topology graph (linear labels); the working graph if unknown."""
        if self.topology_type is None:
            return self.working_graph()
        return _complete_graph(self.topology_type, self.shape)

    def working_graph(self) -> nx.Graph:
        """The working graph as a networkx graph."""
        if "working" not in self._cache:
            g = nx.Graph()
            g.add_nodes_from(self.nodes.tolist())
            g.add_edges_from(map(tuple, self.edges.tolist()))
            self._cache["working"] = g
        return self._cache["working"]

    # Vectorized membership tests -------------------------------------------------------
    def _node_ok(self) -> np.ndarray:
        if "node_ok" not in self._cache:
            ok = np.zeros(self.num_labels, dtype=bool)
            ok[self.nodes] = True
            self._cache["node_ok"] = ok
        return self._cache["node_ok"]

    def _keys(self, pairs: np.ndarray) -> np.ndarray:
        pairs = np.sort(np.asarray(pairs, dtype=np.int64).reshape(-1, 2), axis=1)
        return pairs[:, 0] * self.num_labels + pairs[:, 1]

    def _working_keys(self) -> np.ndarray:
        if "working_keys" not in self._cache:
            self._cache["working_keys"] = np.unique(self._keys(self.edges))
        return self._cache["working_keys"]

    def _complete_keys(self) -> np.ndarray:
        if "complete_keys" not in self._cache:
            if self.topology_type is None:
                self._cache["complete_keys"] = self._working_keys()
            else:
                g = self.complete_graph()
                self._cache["complete_keys"] = np.unique(self._keys(np.array(list(g.edges), dtype=np.int64)))
        return self._cache["complete_keys"]

    def has_qubits(self, qubits: np.ndarray) -> np.ndarray:
        """Boolean array: which of ``qubits`` are working."""
        q = np.asarray(qubits, dtype=np.int64)
        ok = np.zeros(q.shape, dtype=bool)
        inside = (q >= 0) & (q < self.num_labels)
        ok[inside] = self._node_ok()[q[inside]]
        return ok

    def has_couplers(self, pairs: np.ndarray, complete: bool = False) -> np.ndarray:
        """Boolean array: which qubit pairs are couplers (working, or of the complete graph)."""
        keys = self._keys(pairs)
        table = self._complete_keys() if complete else self._working_keys()
        return _isin_sorted(keys, table)

    def coordinates(self):
        """The ``dwave.graphs`` coordinate converter of this topology."""
        return _coordinates(self.topology_type, self.shape)


def _isin_sorted(keys: np.ndarray, table: np.ndarray) -> np.ndarray:
    if table.size == 0:
        return np.zeros(keys.shape, dtype=bool)
    pos = np.searchsorted(table, keys)
    pos = np.minimum(pos, table.size - 1)
    return table[pos] == keys


@lru_cache(maxsize=16)
def _complete_graph(kind: str, shape: tuple[int, ...]) -> nx.Graph:
    import dwave.graphs as dg

    if kind == "chimera":
        return dg.chimera_graph(*shape)
    if kind == "pegasus":
        return dg.pegasus_graph(shape[0])
    if kind == "zephyr":
        return dg.zephyr_graph(*shape)
    raise ValueError(f"unknown topology type {kind!r}; known: {', '.join(HARDWARE_FAMILIES)}")


@lru_cache(maxsize=16)
def _coordinates(kind: str | None, shape: tuple[int, ...]):
    import dwave.graphs as dg

    if kind == "chimera":
        return dg.chimera_coordinates(*shape)
    if kind == "pegasus":
        return dg.pegasus_coordinates(shape[0])
    if kind == "zephyr":
        return dg.zephyr_coordinates(*shape)
    raise ValueError(f"topology {kind!r} has no hardware coordinates")


def _normalize_shape(kind: str | None, shape: Sequence[int] | None) -> tuple[int, ...]:
    if kind is None:
        return ()
    if kind not in HARDWARE_FAMILIES:
        raise ValueError(f"unknown topology type {kind!r}; known: {', '.join(HARDWARE_FAMILIES)}")
    shape = tuple(int(s) for s in (shape or ()))
    if kind == "chimera":
        if len(shape) == 1:
            shape = (shape[0], shape[0], 4)
        elif len(shape) == 2:
            shape = (shape[0], shape[1], 4)
        if len(shape) != 3:
            raise ValueError(f"a Chimera topology shape is [m, n, t], got {list(shape)}")
    elif kind == "pegasus":
        if len(shape) < 1:
            raise ValueError("a Pegasus topology shape is [m], got []")
        shape = shape[:1]
    elif kind == "zephyr":
        if len(shape) == 1:
            shape = (shape[0], 4)
        if len(shape) != 2:
            raise ValueError(f"a Zephyr topology shape is [m, t], got {list(shape)}")
    return shape


def _topology_from_graph_attrs(attrs: Mapping) -> tuple[str | None, tuple[int, ...]]:
    kind = attrs.get("family")
    if kind == "chimera":
        return kind, (attrs["rows"], attrs["columns"], attrs["tile"])
    if kind == "pegasus":
        return kind, (attrs["rows"],)
    if kind == "zephyr":
        return kind, (attrs["rows"], attrs["tile"])
    return None, ()


def device_graph(device: Any, topology: Mapping | None = None) -> DeviceGraph:
    """Normalize a device description to a :class:`DeviceGraph`.

    Args:
        device: A :class:`DeviceGraph`; a QPU-shaped sampler (``nodelist``, ``edgelist``,
            ``properties["topology"]``); a mapping with keys ``nodelist``, ``edgelist``
            and optionally ``topology`` (or ``properties``); or a networkx graph with
            integer (linear) qubit labels.
        topology: ``{"type": ..., "shape": [...]}`` overriding what the device says
            (needed for a bare networkx graph not made by ``dwave.graphs``).

    Raises:
        ValueError: for non-integer qubit labels or an unknown topology type.

    Example:
        >>> import dwave.graphs as dg
        >>> d = device_graph(dg.chimera_graph(2))
        >>> d.topology, d.nodes.size, d.edges.shape
        ({'type': 'chimera', 'shape': [2, 2, 4]}, 32, (80, 2))
    """
    if isinstance(device, DeviceGraph):
        if topology is None:
            return device
        nodes, edges, attrs_kind, attrs_shape = device.nodes, device.edges, None, ()
    elif isinstance(device, nx.Graph):
        if device.graph.get("labels", "int") != "int":
            raise ValueError(
                "place a latent graph on a device graph with integer (linear) qubit labels; "
                f"this {device.graph.get('family', '')} graph uses {device.graph['labels']!r} labels "
                "(build it with coordinates=False / nice_coordinates=False)"
            )
        nodes, edges = list(device.nodes), list(device.edges)
        attrs_kind, attrs_shape = _topology_from_graph_attrs(device.graph)
    else:
        if isinstance(device, Mapping):
            nodes, edges = device["nodelist"], device["edgelist"]
            props = device.get("properties", {}) or {}
            topo = device.get("topology", props.get("topology"))
        else:
            try:
                nodes, edges = device.nodelist, device.edgelist
            except AttributeError:
                raise TypeError(
                    f"a device needs nodelist and edgelist (a DWaveSampler, MockDWaveSampler, "
                    f"the qhvae emulator, a mapping or a networkx graph); got {type(device).__name__}"
                ) from None
            props = getattr(device, "properties", {}) or {}
            topo = props.get("topology")
        attrs_kind = topo.get("type") if topo else None
        attrs_shape = tuple(topo.get("shape", ())) if topo else ()
    if topology is not None:
        attrs_kind, attrs_shape = topology.get("type"), tuple(topology.get("shape", ()))
    kind = attrs_kind
    shape = _normalize_shape(kind, attrs_shape)
    try:
        node_arr = np.array(sorted(int(q) for q in nodes), dtype=np.int64)
        if any(int(q) != q for q in nodes):
            raise TypeError
    except (TypeError, ValueError):
        raise ValueError("device qubit labels must be integers (linear labels)") from None
    node_arr = np.unique(node_arr)
    edge_arr = np.asarray([(int(a), int(b)) for a, b in edges], dtype=np.int64).reshape(-1, 2)
    edge_arr = np.unique(np.sort(edge_arr, axis=1), axis=0)
    # A coupler is usable only when both of its qubits work.
    if edge_arr.size:
        present = np.isin(edge_arr, node_arr).all(axis=1)
        edge_arr = edge_arr[present & (edge_arr[:, 0] != edge_arr[:, 1])]
    return DeviceGraph(kind, shape, node_arr, edge_arr)


# --------------------------------------------------------------------------------------
# Placement
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Placement:
    """Where every latent unit sits on a device, and what is missing there.

    Attributes:
        graph: The placed :class:`~qhvae.topology.LatentGraph`.
        qubits: ``(L,)`` int64 device qubit (linear label) of every unit; injective.
        unit_mask: ``(L,)`` float32, 1 where the unit's qubit works, 0 where it is missing.
        edge_mask: ``(E,)`` float32 over ``graph.edges``, 1 where the coupler works and
            both of its qubits work, else 0. Pass both masks to ``BoltzmannPrior``.
        device_topology: ``{"type": ..., "shape": [...]}`` of the device.
        method: ``"native"`` (coordinates shifted by an offset) or ``"search"``.
        num_missing_qubits: Units on missing qubits (``L - sum(unit_mask)``).
        num_missing_couplers: Masked couplings (``E - sum(edge_mask)``), including those
            lost because one of their qubits is missing.
        info: How the placement was found (strategy, offset, candidates tried, seconds).

    Masked units keep their bias in the prior but have no couplings, so under the prior
    they are independent Bernoulli units with ``p(z_i = 1) = sigmoid(-b_i)``;
    :meth:`from_device` samples them exactly that way when given the biases.
    """

    graph: LatentGraph
    qubits: np.ndarray
    unit_mask: np.ndarray
    edge_mask: np.ndarray
    device_topology: dict
    method: str
    num_missing_qubits: int
    num_missing_couplers: int
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("qubits", "unit_mask", "edge_mask"):
            getattr(self, name).setflags(write=False)

    # Convenience views ------------------------------------------------------------------
    @property
    def num_defects(self) -> int:
        """``num_missing_qubits + num_missing_couplers``."""
        return self.num_missing_qubits + self.num_missing_couplers

    @property
    def mapping(self) -> dict[int, int]:
        """``{unit: qubit}`` for the usable units."""
        return {i: int(q) for i, (q, ok) in enumerate(zip(self.qubits, self.unit_mask)) if ok}

    @property
    def usable_couplers(self) -> np.ndarray:
        """``(C, 2)`` device qubit pairs of the usable couplings, in edge order."""
        keep = self.edge_mask > 0
        return self.qubits[self.graph.edges[keep]]

    def to_device(self, b_or_h, w_or_J) -> tuple[dict[int, float], dict[tuple[int, int], float]]:
        """Unit biases and per-edge couplings as device ``h`` and ``J`` dictionaries.

        Values are copied as they are (no vartype conversion or scaling: that is the QPU
        sampler's job). Only usable qubits and couplers appear, so the result can be sent
        to the device as is; every usable qubit appears in ``h`` (with 0.0 if so).

        Args:
            b_or_h: ``(L,)`` biases in unit order.
            w_or_J: ``(E,)`` couplings in the order of ``graph.edges``, or an ``(L, L)``
                matrix read at ``[i, j]`` for every edge ``(i, j)``, ``i < j`` (the upper
                triangle, as ``BoltzmannPrior`` builds it).

        Returns:
            ``({qubit: h}, {(q_i, q_j): J})``.
        """
        b = np.asarray(b_or_h, dtype=np.float64).reshape(-1)
        L, E = self.graph.num_nodes, self.graph.num_edges
        if b.shape != (L,):
            raise ValueError(f"biases have shape {b.shape}, expected ({L},) for {self.graph.name}")
        w = np.asarray(w_or_J, dtype=np.float64)
        if w.ndim == 2 and w.shape == (L, L):
            w = w[self.graph.edges[:, 0], self.graph.edges[:, 1]]
        w = w.reshape(-1)
        if w.shape != (E,):
            raise ValueError(
                f"couplings have shape {np.shape(w_or_J)}, expected ({E},) per edge or ({L}, {L})"
            )
        usable = self.unit_mask > 0
        h = {int(q): float(v) for q, v, ok in zip(self.qubits, b, usable) if ok}
        J = {}
        keep = np.flatnonzero(self.edge_mask > 0)
        pairs = self.qubits[self.graph.edges[keep]]
        for (q1, q2), v in zip(pairs.tolist(), w[keep].tolist()):
            J[(q1, q2)] = v
        return h, J

    def to_device_bqm(self, bqm):
        """Relabel a unit-labelled ``dimod.BinaryQuadraticModel`` onto the device.

        Variables on missing qubits and interactions on missing couplers are dropped;
        an interaction that is not an edge of the graph is an error.
        """
        import dimod

        L = self.graph.num_nodes
        index = {(int(i), int(j)): e for e, (i, j) in enumerate(self.graph.edges.tolist())}
        out = dimod.BinaryQuadraticModel(bqm.vartype)
        out.offset = bqm.offset
        for v, bias in bqm.iter_linear():
            if not (isinstance(v, (int, np.integer)) and 0 <= v < L):
                raise ValueError(f"variable {v!r} is not a unit of {self.graph.name} (0..{L - 1})")
            if self.unit_mask[v] > 0:
                out.add_variable(int(self.qubits[v]), bias)
        for u, v, bias in bqm.iter_quadratic():
            key = (min(u, v), max(u, v))
            if key not in index:
                raise ValueError(f"interaction {key} is not an edge of {self.graph.name}")
            if self.edge_mask[index[key]] > 0:
                out.add_interaction(int(self.qubits[u]), int(self.qubits[v]), bias)
        return out

    def from_device(self, sampleset, biases=None, *, vartype: str | None = "BINARY", fill=None, seed=None):
        """Device samples as an ``(N, L)`` int8 array in unit order.

        One row per read: aggregated samples (``num_occurrences > 1``, e.g. a QPU's
        ``answer_mode="histogram"``) are repeated. Units on missing qubits have no reading. With ``biases`` (the prior's binary
        biases ``b``, energy ``b_i z_i``) they are sampled exactly from their marginal
        under the masked prior, ``p(z_i = 1) = sigmoid(-b_i)`` (they have no couplings
        after masking), so negative-phase statistics stay unbiased. Without ``biases``
        they are set to ``fill`` (default: the ``z = 0`` state, i.e. 0 in BINARY and -1
        in SPIN). Either way they should carry no information the model relies on.

        Args:
            sampleset: A ``dimod.SampleSet`` over device qubits (as returned by the QPU
                for :meth:`to_device`'s ``h``, ``J``).
            biases: Optional ``(L,)`` binary-form biases to sample the missing units.
            vartype: Output vartype, ``"BINARY"`` (0/1, default), ``"SPIN"`` (-1/+1) or
                ``None`` (the sampleset's own).
            fill: Value for missing units when no ``biases`` are given (output vartype).
            seed: Seed for sampling missing units.

        Raises:
            ValueError: when a usable unit's qubit is not in the sampleset.
        """
        import dimod

        src_vartype = dimod.as_vartype(sampleset.vartype)
        out_vartype = src_vartype if vartype is None else dimod.as_vartype(vartype)
        record = np.asarray(sampleset.record.sample)
        names = sampleset.record.dtype.names or ()
        if "num_occurrences" in names:
            occurrences = np.asarray(sampleset.record.num_occurrences, dtype=np.int64)
            if np.any(occurrences != 1):
                record = np.repeat(record, occurrences, axis=0)
        col = {v: c for c, v in enumerate(sampleset.variables)}
        L = self.graph.num_nodes
        usable = self.unit_mask > 0
        cols = np.full(L, -1, dtype=np.int64)
        for i in range(L):
            c = col.get(int(self.qubits[i]))
            if c is not None:
                cols[i] = c
        absent = usable & (cols < 0)
        if absent.any():
            bad = np.flatnonzero(absent)[:5].tolist()
            raise ValueError(
                f"units {bad} sit on working qubits {self.qubits[bad].tolist()} that are not in the sampleset"
            )
        n = record.shape[0]
        z = np.zeros((n, L), dtype=np.int8)
        if usable.any():
            vals = record[:, cols[usable]].astype(np.int8)
            if src_vartype is dimod.SPIN:
                vals = ((vals + 1) // 2).astype(np.int8)
            z[:, usable] = vals
        missing = ~usable
        if missing.any():
            if biases is not None:
                b = np.asarray(biases, dtype=np.float64).reshape(-1)
                if b.shape != (L,):
                    raise ValueError(f"biases have shape {b.shape}, expected ({L},)")
                p1 = 1.0 / (1.0 + np.exp(b[missing]))
                rng = np.random.default_rng(seed)
                z[:, missing] = (rng.random((n, int(missing.sum()))) < p1).astype(np.int8)
            elif fill is not None:
                fill_z = fill if out_vartype is dimod.BINARY else (int(fill) + 1) // 2
                z[:, missing] = np.int8(fill_z)
        if out_vartype is dimod.SPIN:
            return (2 * z - 1).astype(np.int8)
        return z

    def summary(self) -> str:
        """A short human-readable description."""
        g = self.graph
        topo = self.device_topology
        shape = "x".join(str(s) for s in topo.get("shape", []))
        where = f"{topo.get('type') or 'graph'}{'(' + shape + ')' if shape else ''}"
        how = self.info.get("strategy", self.method)
        if "offset" in self.info:
            how += f" offset={tuple(self.info['offset'])}"
        lines = [
            f"{g.name}: {g.num_nodes} units, {g.num_edges} couplings on {where} via {self.method} ({how})",
            f"  qubits: {g.num_nodes - self.num_missing_qubits}/{g.num_nodes} working"
            f" ({self.num_missing_qubits} missing)",
            f"  couplers: {g.num_edges - self.num_missing_couplers}/{g.num_edges} usable"
            f" ({self.num_missing_couplers} masked)",
        ]
        if "candidates" in self.info:
            lines.append(
                f"  search: {self.info['candidates']} candidates in {self.info.get('seconds', 0.0):.2f} s"
            )
        return "\n".join(lines)

    def to_config(self) -> dict:
        """JSON-serializable description (qubits, masks, topology, method, info)."""
        return {
            "graph": self.graph.name,
            "qubits": self.qubits.tolist(),
            "unit_mask": self.unit_mask.tolist(),
            "edge_mask": self.edge_mask.tolist(),
            "device_topology": dict(self.device_topology),
            "method": self.method,
            "info": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.info.items()},
        }

    @classmethod
    def from_config(cls, config: Mapping, graph: LatentGraph, device: Any | None = None) -> "Placement":
        """Rebuild a placement; with ``device`` the masks are recomputed on its working graph."""
        qubits = np.asarray(config["qubits"], dtype=np.int64)
        if device is not None:
            method, info = config.get("method", "search"), dict(config.get("info", {}))
            return _evaluate(graph, device_graph(device), qubits, method, info)
        unit_mask = np.asarray(config["unit_mask"], dtype=np.float32)
        edge_mask = np.asarray(config["edge_mask"], dtype=np.float32)
        return cls(
            graph,
            qubits,
            unit_mask,
            edge_mask,
            dict(config["device_topology"]),
            config.get("method", "search"),
            int(graph.num_nodes - unit_mask.sum()),
            int(graph.num_edges - edge_mask.sum()),
            dict(config.get("info", {})),
        )

    def __repr__(self) -> str:
        return (
            f"Placement({self.graph.name!r} on {self.device_topology.get('type')}"
            f"{self.device_topology.get('shape')}, method={self.method!r}, "
            f"missing_qubits={self.num_missing_qubits}, missing_couplers={self.num_missing_couplers})"
        )


def _evaluate(graph: LatentGraph, dev: DeviceGraph, qubits: np.ndarray, method: str, info: dict) -> Placement:
    qubits = np.array(qubits, dtype=np.int64)  # a copy: the placement's array is read-only
    unit_ok = dev.has_qubits(qubits)
    if graph.num_edges:
        pairs = qubits[graph.edges]
        edge_ok = dev.has_couplers(pairs) & unit_ok[graph.edges[:, 0]] & unit_ok[graph.edges[:, 1]]
    else:
        edge_ok = np.zeros(0, dtype=bool)
    return Placement(
        graph=graph,
        qubits=qubits,
        unit_mask=unit_ok.astype(np.float32),
        edge_mask=edge_ok.astype(np.float32),
        device_topology=dev.topology,
        method=method,
        num_missing_qubits=int((~unit_ok).sum()),
        num_missing_couplers=int((~edge_ok).sum()),
        info=info,
    )


def _score(
    graph: LatentGraph, dev: DeviceGraph, qubits: np.ndarray, bound: float = math.inf
) -> tuple[int, int] | None:
    """``(missing qubits, missing couplers)`` of a candidate, or None when it is not a
    structurally valid placement (not injective, or an edge off the complete topology)
    or when it certainly has more than ``bound`` defects (then it is not fully checked)."""
    if qubits.min() < 0 or qubits.max() >= dev.num_labels:
        return None
    unit_ok = dev._node_ok()[qubits]
    missing_units = int(graph.num_nodes - unit_ok.sum())
    if missing_units > bound:
        return None
    missing_edges = 0
    if graph.num_edges:
        pairs = qubits[graph.edges]
        edge_ok = dev.has_couplers(pairs) & unit_ok[graph.edges[:, 0]] & unit_ok[graph.edges[:, 1]]
        missing_edges = int(graph.num_edges - edge_ok.sum())
        if missing_units + missing_edges > bound:
            return None
        if missing_edges and not dev.has_couplers(pairs[~edge_ok], complete=True).all():
            return None
    if np.unique(qubits).size != qubits.size:
        return None
    return missing_units, missing_edges


# --------------------------------------------------------------------------------------
# Coordinates and sublattice mappings
# --------------------------------------------------------------------------------------


def _coord_in_range(kind: str, shape: tuple[int, ...], c: tuple[int, ...]) -> bool:
    if kind == "chimera":
        m, n, t = shape
        i, j, u, k = c
        return 0 <= i < m and 0 <= j < n and u in (0, 1) and 0 <= k < t
    if kind == "pegasus":
        (m,) = shape
        t, y, x, u, k = c
        return t in (0, 1, 2) and 0 <= y < m - 1 and 0 <= x < m - 1 and u in (0, 1) and 0 <= k < 4
    if kind == "zephyr":
        m, t = shape
        u, w, k, j, z = c
        return u in (0, 1) and 0 <= w <= 2 * m and 0 <= k < t and j in (0, 1) and 0 <= z < m
    return False


def _to_linear(kind: str, shape: tuple[int, ...]) -> Callable:
    coords = _coordinates(kind, shape)
    return {
        "chimera": getattr(coords, "chimera_to_linear", None),
        "pegasus": getattr(coords, "nice_to_linear", None),
        "zephyr": getattr(coords, "zephyr_to_linear", None),
    }[kind]


def _stub(kind: str, shape: tuple[int, ...], labels: str) -> nx.Graph:
    """An empty graph carrying the attributes the dwave.graphs sublattice functions read."""
    g = nx.Graph()
    if kind == "chimera":
        g.graph.update(family="chimera", rows=shape[0], columns=shape[1], tile=shape[2], labels=labels)
    elif kind == "pegasus":
        g.graph.update(family="pegasus", rows=shape[0], columns=shape[0], labels=labels)
    elif kind == "zephyr":
        g.graph.update(family="zephyr", rows=shape[0], columns=shape[0], tile=shape[1], labels=labels)
    return g


_COORD_LABELS = {"chimera": "coordinate", "pegasus": "nice", "zephyr": "coordinate"}


def _source_shape(graph: LatentGraph) -> tuple[int, ...]:
    shape = tuple(int(s) for s in graph.family_shape)
    if graph.family == "chimera" and len(shape) != 3:
        raise ValueError(f"{graph.name}: a Chimera family_shape is (m, n, t), got {shape}")
    if graph.family == "zephyr" and len(shape) != 2:
        raise ValueError(f"{graph.name}: a Zephyr family_shape is (m, t), got {shape}")
    if graph.family == "pegasus" and len(shape) != 1:
        raise ValueError(f"{graph.name}: a Pegasus family_shape is (m,), got {shape}")
    return shape


def _sublattice_generator(graph: LatentGraph, dev: DeviceGraph):
    """``(strategy, mappings)`` of coordinate-to-coordinate sublattice maps, or None.

    The maps come from ``dwave.graphs.*_sublattice_mappings`` with source and target
    labelled by coordinates, so the caller validates coordinate ranges itself. For
    Pegasus and Zephyr sources (patches of a family graph, not whole graphs) the offsets
    are a generous superset, filtered by the caller.
    """
    import dwave.graphs as dg

    src, tgt = graph.family, dev.topology_type
    if src not in HARDWARE_FAMILIES or tgt is None or graph.coordinates is None:
        return None
    s_shape, t_shape = _source_shape(graph), dev.shape
    source = _stub(src, s_shape, _COORD_LABELS[src])
    target = _stub(tgt, t_shape, _COORD_LABELS[tgt])
    if src == "chimera" and tgt == "chimera":
        if s_shape[2] != t_shape[2]:
            return None
        offsets = itertools.product(range(t_shape[0] - s_shape[0] + 1), range(t_shape[1] - s_shape[1] + 1))
        return "chimera->chimera", dg.chimera_sublattice_mappings(source, target, offsets)
    if tgt == "pegasus" and src == "chimera":
        if s_shape[2] != 4:
            return None
        return "chimera->pegasus", dg.pegasus_sublattice_mappings(source, target)
    if tgt == "pegasus" and src == "pegasus":
        ys = [c[1] for c in graph.coordinates]
        xs = [c[2] for c in graph.coordinates]
        # delta of the t-shifted maps is 0 or 1 in y and x; filter out-of-range later
        yr = range(-min(ys) - 1, t_shape[0] - 1 - max(ys))
        xr = range(-min(xs) - 1, t_shape[0] - 1 - max(xs))
        # t_offset 0 first, so the plain translations (native) win ties
        offsets = itertools.product(range(3), yr, xr)
        return "pegasus->pegasus", dg.pegasus_sublattice_mappings(source, target, offsets)
    if tgt == "zephyr" and src == "chimera":
        if s_shape[2] not in (t_shape[1], 2 * t_shape[1]):
            return None
        return "chimera->zephyr", dg.zephyr_sublattice_mappings(source, target)
    if tgt == "zephyr" and src == "zephyr":
        if s_shape[1] != t_shape[1]:
            return None
        span = 2 * t_shape[0] + 1
        r = range(-(2 * s_shape[0] + 1), span + 1)
        return "zephyr->zephyr", dg.zephyr_sublattice_mappings(source, target, itertools.product(r, r))
    return None


def _probe_units(graph: LatentGraph) -> list[int]:
    """A few units with extreme coordinates: map them first to reject offsets cheaply."""
    c = np.asarray(graph.coordinates, dtype=np.int64)
    probes = set()
    for col in range(c.shape[1]):
        probes.add(int(np.argmin(c[:, col])))
        probes.add(int(np.argmax(c[:, col])))
    # extremes of sums catch corners
    s = c.sum(axis=1)
    probes.update({int(np.argmin(s)), int(np.argmax(s))})
    return sorted(probes)


class _CandidateMapper:
    """Maps units through sublattice mappings, rejecting hopeless candidates early.

    The units are mapped in two stages: first the probes (extreme coordinates, so
    offsets that push the patch off the device fail fast) and every third unit; the
    qubits missing among those, plus the couplings touching them, are a lower bound on
    the candidate's defects. A candidate whose bound exceeds the best so far is
    dropped before the remaining units are mapped.
    """

    def __init__(self, graph: LatentGraph, dev: DeviceGraph):
        self.graph = graph
        self.to_target = _TargetLabels(dev.topology_type, dev.shape)
        self.node_ok = dev._node_ok()
        first = set(_probe_units(graph)) | set(range(0, graph.num_nodes, 3))
        self.stage1 = np.array(sorted(first), dtype=np.int64)
        self.stage2 = np.setdiff1d(np.arange(graph.num_nodes), self.stage1)
        coords = graph.coordinates
        self.coords1 = [coords[i] for i in self.stage1]
        self.coords2 = [coords[i] for i in self.stage2]

    def _labels(self, mapping, coords) -> np.ndarray | None:
        get, table = self.to_target.get, self.to_target
        out = [get(tuple(mapping(c))) for c in coords]
        if None in out:
            out = [table[tuple(mapping(c))] for c in coords]
        arr = np.array(out, dtype=np.int64)
        if arr.size and arr.min() < 0:
            return None
        return arr

    def __call__(self, mapping, bound: float = math.inf) -> np.ndarray | None:
        q1 = self._labels(mapping, self.coords1)
        if q1 is None:
            return None
        if bound < math.inf:
            missing1 = ~self.node_ok[q1]
            if missing1.any():
                miss = np.zeros(self.graph.num_nodes, dtype=bool)
                miss[self.stage1[missing1]] = True
                e = self.graph.edges
                lower = int(missing1.sum()) + (int((miss[e[:, 0]] | miss[e[:, 1]]).sum()) if e.size else 0)
                if lower > bound:
                    return None
        q2 = self._labels(mapping, self.coords2)
        if q2 is None:
            return None
        out = np.empty(self.graph.num_nodes, dtype=np.int64)
        out[self.stage1] = q1
        out[self.stage2] = q2
        return out


class _TargetLabels(dict):
    """Memoized target coordinate -> linear label; -1 for coordinates off the device."""

    def __init__(self, kind: str, shape: tuple[int, ...]):
        super().__init__()
        self.kind, self.shape = kind, shape
        self.to_linear = _to_linear(kind, shape)

    def __missing__(self, c):
        value = self.to_linear(c) if _coord_in_range(self.kind, self.shape, c) else -1
        self[c] = value
        return value


# --------------------------------------------------------------------------------------
# Native placement
# --------------------------------------------------------------------------------------


def _native_offset(graph: LatentGraph, offset) -> tuple[int, int]:
    if offset is None:
        return (0, 0)
    offset = tuple(int(o) for o in offset)
    if len(offset) != 2:
        raise ValueError(f"a native offset is a (rows, columns) cell shift, got {offset}")
    return offset


def _native_mapping(graph: LatentGraph, dev: DeviceGraph, offset: tuple[int, int]) -> Callable:
    dy, dx = offset
    if graph.family == "chimera":
        return lambda c: (c[0] + dy, c[1] + dx, c[2], c[3])
    if graph.family == "pegasus":
        return lambda c: (c[0], c[1] + dy, c[2] + dx, c[3], c[4])
    # Zephyr: offsets are rows/columns of the Chimera(2m+1, 2m+1, 2t) grid underlying
    # Zephyr, exactly as dwave.graphs' Zephyr-to-Zephyr sublattice mappings use them.
    delta = ((dy % 2, dx, dy), (dx % 2, dy, dx))

    def zmap(c):
        u, w, k, j, z = c
        dj, dw, dz = delta[u]
        return (u, w + dw, k, j ^ dj, z + (dz + j) // 2)

    return zmap


def _check_native(graph: LatentGraph, dev: DeviceGraph) -> None:
    if graph.family not in HARDWARE_FAMILIES or graph.coordinates is None:
        raise ValueError(
            f"{graph.name} ({graph.family}) has no hardware coordinates, so it has no native "
            "placement; use place_search (or place)"
        )
    if dev.topology_type is None:
        raise ValueError("the device's topology is unknown; pass topology={'type': ..., 'shape': [...]}")
    if graph.family != dev.topology_type:
        raise ValueError(
            f"{graph.name} is a {graph.family} graph and the device is {dev.topology_type}: no native "
            "placement; use place_search (or place)"
        )
    s_shape = _source_shape(graph)
    if graph.family == "chimera" and s_shape[2] != dev.shape[2]:
        raise ValueError(f"{graph.name} has Chimera tile t={s_shape[2]}, the device has t={dev.shape[2]}")
    if graph.family == "zephyr" and s_shape[1] != dev.shape[1]:
        raise ValueError(f"{graph.name} has Zephyr tile t={s_shape[1]}, the device has t={dev.shape[1]}")


def place_native(
    graph: LatentGraph,
    device: Any,
    offset: Sequence[int] | None = None,
    *,
    topology: Mapping | None = None,
) -> Placement:
    """Place a hardware patch on a device of its own family by shifting its coordinates.

    Unit coordinates are shifted by ``offset`` and converted to the device's linear labels
    with ``chimera_coordinates(m, n, t).chimera_to_linear``,
    ``pegasus_coordinates(m).nice_to_linear`` or ``zephyr_coordinates(m, t).zephyr_to_linear``.
    Missing qubits and couplers are masked, not errors.

    Args:
        graph: A ``chimera``, ``pegasus`` or ``zephyr`` latent graph.
        device: See :func:`device_graph`.
        offset: ``(rows, columns)`` shift: Chimera cells ``(i, j)``; Pegasus nice cells
            ``(y, x)``; Zephyr rows/columns of its underlying Chimera(2m+1, 2m+1, 2t) grid
            (as in ``dwave.graphs.zephyr_sublattice_mappings``). Default ``(0, 0)``.
        topology: Overrides the device's topology (see :func:`device_graph`).

    Raises:
        ValueError: when the families differ, the tiles differ, or the shifted patch does
            not fit the device.
    """
    dev = device_graph(device, topology)
    _check_native(graph, dev)
    off = _native_offset(graph, offset)
    mapping = _native_mapping(graph, dev, off)
    kind, shape = dev.topology_type, dev.shape
    target = [tuple(mapping(c)) for c in graph.coordinates]
    bad = [i for i, c in enumerate(target) if not _coord_in_range(kind, shape, c)]
    if bad:
        i = bad[0]
        raise ValueError(
            f"{graph.name} (family shape {tuple(graph.family_shape)}) does not fit a {kind} "
            f"device of shape {list(shape)} at offset {off}: unit {i} at {graph.coordinates[i]} "
            f"would go to {target[i]}, outside the device ({len(bad)} units outside)"
        )
    to_linear = _to_linear(kind, shape)
    qubits = np.array([to_linear(c) for c in target], dtype=np.int64)
    if graph.num_edges:
        structural = dev.has_couplers(qubits[graph.edges], complete=True)
        if not structural.all():
            e = int(np.flatnonzero(~structural)[0])
            raise ValueError(
                f"{graph.name} is not a sublattice of the {kind}{list(shape)} topology at offset {off}: "
                f"edge {tuple(graph.edges[e])} maps to {tuple(qubits[graph.edges[e]])}, which is no coupler"
            )
    return _evaluate(graph, dev, qubits, "native", {"strategy": f"{kind} coordinates", "offset": off})


# --------------------------------------------------------------------------------------
# Search
# --------------------------------------------------------------------------------------


def _too_big(graph: LatentGraph, dev: DeviceGraph) -> str | None:
    g = dev.complete_graph()
    n_t = g.number_of_nodes()
    if graph.num_nodes > n_t:
        return f"{graph.name} has {graph.num_nodes} units but the device has only {n_t} qubits"
    if graph.num_edges > g.number_of_edges():
        return f"{graph.name} has {graph.num_edges} couplings but the device has only {g.number_of_edges()} couplers"
    if graph.num_edges:
        d_s = np.sort(graph.degrees())[::-1]
        d_t = np.sort(np.fromiter((d for _, d in g.degree), dtype=np.int64))[::-1][: d_s.size]
        if d_s[0] > d_t[0]:
            return (
                f"{graph.name} has a unit of degree {int(d_s[0])} but no device qubit has more than "
                f"{int(d_t[0])} couplers"
            )
        if np.any(d_s > d_t):
            return f"the degrees of {graph.name} exceed the device's: it cannot be a subgraph"
    return None


def _subgraph(graph: LatentGraph, target: nx.Graph, timeout: float, seed) -> np.ndarray | None:
    from minorminer.subgraph import find_subgraph

    source = nx.Graph()
    source.add_nodes_from(range(graph.num_nodes))
    source.add_edges_from(map(tuple, graph.edges.tolist()))
    kwargs = {"timeout": max(1, int(math.ceil(timeout)))}
    if seed is not None:
        kwargs["seed"] = int(seed)
    found = find_subgraph(source, target, **kwargs)
    if not found or len(found) != graph.num_nodes:
        return None
    return np.array([found[i] for i in range(graph.num_nodes)], dtype=np.int64)


def _explicit_candidates(graph: LatentGraph, candidates: Iterable) -> Iterable[np.ndarray]:
    for c in candidates:
        if isinstance(c, Mapping):
            c = [c[i] for i in range(graph.num_nodes)]
        arr = np.asarray(c, dtype=np.int64).reshape(-1)
        if arr.shape != (graph.num_nodes,):
            raise ValueError(f"a candidate placement lists {arr.size} qubits, expected {graph.num_nodes}")
        yield arr


def place_search(
    graph: LatentGraph,
    device: Any,
    candidates: int | Iterable | None = None,
    timeout: float = 10.0,
    seed: int | None = None,
    *,
    subgraph_search: bool | None = None,
    topology: Mapping | None = None,
) -> Placement:
    """Find the injective placement of ``graph`` with the fewest missing qubits + couplers.

    1. Graphs without couplings (Bernoulli) go on the first ``L`` working qubits (then, if
       the working graph is too small, on missing qubits, masked).
    2. Hardware patches are tried at every sublattice placement the ``dwave.graphs``
       sublattice mappings give (same family: every cell offset, and for Pegasus the three
       ``t`` shifts; Chimera into Pegasus or Zephyr). Each is scored on the working graph;
       the one with the fewest missing qubits + couplers wins (ties: fewer missing qubits,
       then enumeration order, so a plain shift from the origin comes first).
    3. Without a sublattice (RBM, custom graphs, mismatched tiles), or when
       ``subgraph_search=True`` and the best sublattice placement has defects,
       minorminer's subgraph search looks for a perfect placement on the working graph;
       failing that (and without any sublattice candidate), for one on the complete
       topology graph, whose missing parts are masked.

    Args:
        graph: The latent graph.
        device: See :func:`device_graph`.
        candidates: ``None``: all sublattice placements. An int ``k``: at most ``k`` of
            them, chosen at random with ``seed`` (faster on big devices). An iterable of
            explicit candidate placements (length-``L`` qubit sequences or
            ``{unit: qubit}`` dicts): only these are scored (invalid ones are skipped).
        timeout: Seconds for each minorminer subgraph search (rounded up to whole seconds).
        seed: Seed for candidate subsampling and minorminer's search.
        subgraph_search: ``None`` (default): minorminer only when there is no sublattice
            candidate. ``True``: also try it for a perfect placement when the best
            sublattice placement has defects (costs up to ``timeout``). ``False``: never.
        topology: Overrides the device's topology (see :func:`device_graph`).

    Raises:
        ValueError: when the graph cannot fit the device (too many units, couplings or
            too high a degree) or no placement is found within ``timeout``.
    """
    t0 = time.perf_counter()
    dev = device_graph(device, topology)
    L = graph.num_nodes

    if graph.num_edges == 0:
        n_complete = dev.complete_graph().number_of_nodes()
        if L > n_complete:
            raise ValueError(f"{graph.name} has {L} units but the device has only {n_complete} qubits")
        qubits = dev.nodes[:L]
        if qubits.size < L:
            spare = np.setdiff1d(np.array(sorted(dev.complete_graph().nodes), dtype=np.int64), dev.nodes)
            qubits = np.concatenate([qubits, spare[: L - qubits.size]])
        info = {"strategy": "first working qubits", "candidates": 1, "seconds": time.perf_counter() - t0}
        return _evaluate(graph, dev, qubits, "search", info)

    reason = _too_big(graph, dev)
    if reason:
        raise ValueError(f"cannot place {graph.name} on {dev.topology}: {reason}")

    best: tuple | None = None  # ((defects, missing qubits, order), qubits, strategy, offset)
    count = 0
    strategy = None

    def consider(qubits, strat, offset):
        nonlocal best, count
        count += 1
        s = _score(graph, dev, qubits, bound=math.inf if best is None else best[0][0])
        if s is None:
            return
        key = (s[0] + s[1], s[0], count)
        if best is None or key < best[0]:
            best = (key, qubits, strat, offset)

    explicit = candidates is not None and not isinstance(candidates, (int, np.integer))
    if explicit:
        for q in _explicit_candidates(graph, candidates):
            consider(q, "explicit candidates", None)
            if best is not None and best[0][0] == 0:
                break
    else:
        gen = _sublattice_generator(graph, dev)
        if gen is not None:
            strategy, mappings = gen
            mappings = list(mappings)
            if isinstance(candidates, (int, np.integer)) and candidates < len(mappings):
                rng = np.random.default_rng(seed)
                pick = np.sort(rng.choice(len(mappings), size=max(1, int(candidates)), replace=False))
                mappings = [mappings[i] for i in pick]
            mapper = _CandidateMapper(graph, dev)
            for mapping in mappings:
                q = mapper(mapping, bound=math.inf if best is None else best[0][0])
                if q is None:
                    continue
                consider(q, strategy, tuple(getattr(mapping, "offset", ())))
                if best is not None and best[0][0] == 0:
                    break  # defect-free: nothing beats it

    def result(qubits, strat, offset, extra=None):
        info = {"strategy": strat, "candidates": count, "seconds": time.perf_counter() - t0}
        if offset:
            info["offset"] = tuple(int(o) for o in offset)
        info.update(extra or {})
        return _evaluate(graph, dev, qubits, "search", info)

    if best is not None and best[0][0] == 0:
        return result(best[1], best[2], best[3])

    if best is None and strategy is not None and not subgraph_search and not explicit:
        raise ValueError(
            f"{graph.name} (family shape {tuple(graph.family_shape)}) does not fit the "
            f"{dev.topology_type}{list(dev.shape)} device: no {strategy} sublattice placement lies "
            "inside it (pass subgraph_search=True to try minorminer's general subgraph search)"
        )
    want_subgraph = subgraph_search if subgraph_search is not None else (best is None and not explicit)
    if want_subgraph:
        q = _subgraph(graph, dev.working_graph(), timeout, seed)
        if q is not None:
            count += 1
            return result(q, "minorminer subgraph (working graph)", None)
    if best is not None:
        return result(best[1], best[2], best[3])
    if want_subgraph and dev.topology_type is not None:
        q = _subgraph(graph, dev.complete_graph(), timeout, seed)
        if q is not None:
            count += 1
            return result(q, "minorminer subgraph (complete topology, masked)", None)
    if explicit:
        raise ValueError(
            f"none of the given candidates is a valid placement of {graph.name} on {dev.topology} "
            "(each must map units injectively onto qubits, every coupling onto a coupler of the topology)"
        )
    raise ValueError(
        f"no placement of {graph.name} ({L} units, {graph.num_edges} couplings) found on "
        f"{dev.topology} within timeout={timeout} s"
        + ("" if want_subgraph else " (subgraph search disabled)")
    )


def place(
    graph: LatentGraph,
    device: Any,
    method: str = "auto",
    *,
    offset: Sequence[int] | None = None,
    tolerance: int = 0,
    topology: Mapping | None = None,
    **search_kwargs,
) -> Placement:
    """Place ``graph`` on ``device``.

    Args:
        graph: The latent graph.
        device: See :func:`device_graph`.
        method: ``"native"`` (:func:`place_native`), ``"search"`` (:func:`place_search`)
            or ``"auto"``: the native placement at ``offset`` when the graph is native to
            the device, fits, and has at most ``tolerance`` missing qubits + couplers;
            otherwise the search (which scores every offset, the native one included).
        offset: Native offset (see :func:`place_native`).
        tolerance: Defects accepted from the native placement under ``"auto"``.
        topology: Overrides the device's topology.
        **search_kwargs: Passed to :func:`place_search` (``candidates``, ``timeout``,
            ``seed``, ``subgraph_search``).
    """
    dev = device_graph(device, topology)
    if method == "native":
        return place_native(graph, dev, offset)
    if method == "search":
        return place_search(graph, dev, **search_kwargs)
    if method != "auto":
        raise ValueError(f"unknown placement method {method!r}; choose 'auto', 'native' or 'search'")
    native = None
    try:
        native = place_native(graph, dev, offset)
    except ValueError:
        native = None
    if native is not None and native.num_defects <= tolerance:
        return native
    try:
        found = place_search(graph, dev, **search_kwargs)
    except ValueError:
        if native is not None:
            return native
        raise
    if native is not None and native.num_defects <= found.num_defects:
        return native
    return found
