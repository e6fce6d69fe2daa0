"""Devices: a QPU's working graph and complete topology, and their hardware coordinates.

A *device* is anything with ``nodelist``, ``edgelist`` and ``properties["topology"]``
(``{"type": "pegasus", "shape": [16]}``): a dwave-system ``DWaveSampler``,
``dwave.system.testing.MockDWaveSampler``, or qhvae's QPU emulator; a mapping with the
keys ``nodelist``, ``edgelist`` and ``topology``; or a networkx graph with integer
(linear) labels, with the topology either given as ``topology=`` or read from the graph
attributes that ``dwave.graphs`` generators set (``family``, ``rows``, ``columns``,
``tile``). :func:`device_graph` normalizes all of them to a :class:`DeviceGraph`.

Nothing is tabulated per processor: everything is derived from the device's
``nodelist``, ``edgelist`` and ``properties["topology"]``. The coordinate helpers at the
end of this module (:func:`coordinate_in_range`, :func:`linear_labeller`,
:func:`family_shape`) are shared by the native placement and the placement search.

Example:
    >>> import dwave.graphs as dg
    >>> d = device_graph(dg.chimera_graph(2))
    >>> d.topology, d.nodes.size, d.edges.shape
    ({'type': 'chimera', 'shape': [2, 2, 4]}, 32, (80, 2))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import networkx as nx
import numpy as np

from ..topology import LatentGraph

__all__ = [
    "HARDWARE_FAMILIES",
    "DeviceGraph",
    "device_graph",
    "coordinate_in_range",
    "linear_labeller",
    "family_shape",
]

HARDWARE_FAMILIES = ("chimera", "pegasus", "zephyr")


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

    def working_mask(self) -> np.ndarray:
        """``(num_labels,)`` bool table, True at the labels of working qubits (read-only, cached).

        The placement search indexes it with candidate qubits directly: one gather per
        candidate instead of a set lookup per unit.

        Example:
            >>> d = device_graph({"nodelist": [0, 2], "edgelist": []})
            >>> d.working_mask().tolist()
            [True, False, True]
        """
        if "node_ok" not in self._cache:
            ok = np.zeros(self.num_labels, dtype=bool)
            ok[self.nodes] = True
            ok.setflags(write=False)
            self._cache["node_ok"] = ok
        return self._cache["node_ok"]

    # Vectorized coupler membership: qubit pairs become sorted integer keys. ---------------
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
        ok[inside] = self.working_mask()[q[inside]]
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


def _nodes_edges_topology(device: Any) -> tuple[Any, Any, str | None, tuple]:
    """``(nodes, edges, topology type, shape)`` as the device describes itself."""
    if isinstance(device, DeviceGraph):
        return device.nodes, device.edges, device.topology_type, device.shape
    if isinstance(device, nx.Graph):
        if device.graph.get("labels", "int") != "int":
            raise ValueError(
                "place a latent graph on a device graph with integer (linear) qubit labels; "
                f"this {device.graph.get('family', '')} graph uses {device.graph['labels']!r} labels "
                "(build it with coordinates=False / nice_coordinates=False)"
            )
        return (list(device.nodes), list(device.edges)) + _topology_from_graph_attrs(device.graph)
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
    return nodes, edges, (topo.get("type") if topo else None), (tuple(topo.get("shape", ())) if topo else ())


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
        >>> device_graph(dg.pegasus_graph(2)).topology
        {'type': 'pegasus', 'shape': [2]}
    """
    if isinstance(device, DeviceGraph) and topology is None:
        return device
    nodes, edges, kind, shape = _nodes_edges_topology(device)
    if isinstance(device, DeviceGraph):
        kind, shape = None, ()  # the override below replaces the graph's own topology
    if topology is not None:
        kind, shape = topology.get("type"), tuple(topology.get("shape", ()))
    shape = _normalize_shape(kind, shape)
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
# Hardware coordinates, shared by the native placement and the search
# --------------------------------------------------------------------------------------


def coordinate_in_range(kind: str, shape: tuple[int, ...], c: tuple[int, ...]) -> bool:
    """Whether coordinate ``c`` lies on a ``kind`` topology of (normalized) ``shape``.

    Chimera coordinates are ``(i, j, u, k)``, Pegasus nice coordinates ``(t, y, x, u, k)``
    and Zephyr coordinates ``(u, w, k, j, z)``, as in ``dwave.graphs``.

    Example:
        >>> coordinate_in_range("chimera", (2, 2, 4), (1, 1, 0, 3))
        True
        >>> coordinate_in_range("chimera", (2, 2, 4), (2, 0, 0, 0))  # row 2 of a 2-row grid
        False
    """
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


def linear_labeller(kind: str, shape: tuple[int, ...]) -> Callable:
    """The ``dwave.graphs`` function from a coordinate (Pegasus: nice) to a linear qubit label.

    Example:
        >>> linear_labeller("chimera", (2, 2, 4))((0, 1, 0, 0))
        8
    """
    coords = _coordinates(kind, shape)
    name = {"chimera": "chimera_to_linear", "pegasus": "nice_to_linear", "zephyr": "zephyr_to_linear"}[kind]
    return getattr(coords, name)  # dwave.graphs' coordinate classes of the three families all have it


def family_shape(graph: LatentGraph) -> tuple[int, ...]:
    """The shape of the family graph a hardware patch was cut from, checked for its family.

    Raises:
        ValueError: when ``graph.family_shape`` has the wrong length for ``graph.family``.

    Example:
        >>> from qhvae import topology
        >>> family_shape(topology.chimera(2))
        (2, 2, 4)
    """
    shape = tuple(int(s) for s in graph.family_shape)
    if graph.family == "chimera" and len(shape) != 3:
        raise ValueError(f"{graph.name}: a Chimera family_shape is (m, n, t), got {shape}")
    if graph.family == "zephyr" and len(shape) != 2:
        raise ValueError(f"{graph.name}: a Zephyr family_shape is (m, t), got {shape}")
    if graph.family == "pegasus" and len(shape) != 1:
        raise ValueError(f"{graph.name}: a Pegasus family_shape is (m,), got {shape}")
    return shape
