"""Placements: where every latent unit sits on a device, and what is missing there.

To sample the Boltzmann-machine prior of a :class:`~qhvae.topology.LatentGraph` on a
QPU, every latent unit is assigned a distinct qubit such that every coupled pair of units
sits on a coupler of the complete topology (an injective subgraph placement). Units that
land on a missing qubit and couplings that land on a missing coupler are *masked*: the
prior multiplies its couplings by :attr:`Placement.edge_mask` (and the unit mask), so the
model never relies on hardware that is not there (DESIGN.md Sec. 6, "Dead qubits").

* :func:`place_native` - the graph was cut from the device's own family (a Chimera patch
  on a Chimera QPU, a Pegasus patch on a Pegasus QPU, a Zephyr patch on a Zephyr QPU):
  its hardware coordinates are shifted by a cell offset and converted to the device's
  linear labels with the ``dwave.graphs`` coordinate helpers.
* :func:`place` picks the native placement when it is good enough, otherwise the
  search of :mod:`qhvae.hardware.search`.

Programming a machine onto a placement and reading the device's answers back is the QPU
sampler's job (``qhvae.samplers.qpu.layout``), not this module's.

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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..topology import LatentGraph
from .device import (
    HARDWARE_FAMILIES,
    DeviceGraph,
    coordinate_in_range,
    device_graph,
    family_shape,
    linear_labeller,
)

__all__ = ["Placement", "place", "place_native"]


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
    they are independent Bernoulli units with ``p(z_i = 1) = sigmoid(-b_i)``; the QPU
    sampler draws them exactly that way.
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

    @classmethod
    def evaluate(cls, graph: LatentGraph, device: Any, qubits: Any, method: str = "search",
                 info: dict | None = None) -> Placement:
        """The placement of ``graph`` on ``qubits``, with its masks read off the device's working graph.

        Args:
            graph: The latent graph.
            device: See :func:`~qhvae.hardware.device.device_graph`.
            qubits: ``(L,)`` qubit of every unit (copied).
            method: ``"native"`` or ``"search"``.
            info: How the qubits were found.

        Example:
            >>> from qhvae import topology
            >>> dev = {"nodelist": [0, 1, 2], "edgelist": [(0, 1)]}
            >>> p = Placement.evaluate(topology.from_edges(2, [(0, 1)]), dev, [1, 2])
            >>> p.unit_mask.tolist(), p.edge_mask.tolist()
            ([1.0, 1.0], [0.0])
        """
        dev = device_graph(device)
        qubits = np.array(qubits, dtype=np.int64)  # a copy: the placement's array is read-only
        unit_ok = dev.has_qubits(qubits)
        if graph.num_edges:
            pairs = qubits[graph.edges]
            edge_ok = dev.has_couplers(pairs) & unit_ok[graph.edges[:, 0]] & unit_ok[graph.edges[:, 1]]
        else:
            edge_ok = np.zeros(0, dtype=bool)
        return cls(
            graph=graph,
            qubits=qubits,
            unit_mask=unit_ok.astype(np.float32),
            edge_mask=edge_ok.astype(np.float32),
            device_topology=dev.topology,
            method=method,
            num_missing_qubits=int((~unit_ok).sum()),
            num_missing_couplers=int((~edge_ok).sum()),
            info=dict(info or {}),
        )

    @property
    def num_defects(self) -> int:
        """``num_missing_qubits + num_missing_couplers``."""
        return self.num_missing_qubits + self.num_missing_couplers

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
    def from_config(cls, config: Mapping, graph: LatentGraph, device: Any | None = None) -> Placement:
        """Rebuild a placement; with ``device`` the masks are recomputed on its working graph."""
        qubits = np.asarray(config["qubits"], dtype=np.int64)
        if device is not None:
            method, info = config.get("method", "search"), dict(config.get("info", {}))
            return cls.evaluate(graph, device, qubits, method, info)
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


# --------------------------------------------------------------------------------------
# Native placement
# --------------------------------------------------------------------------------------


def _native_offset(offset) -> tuple[int, int]:
    if offset is None:
        return (0, 0)
    offset = tuple(int(o) for o in offset)
    if len(offset) != 2:
        raise ValueError(f"a native offset is a (rows, columns) cell shift, got {offset}")
    return offset


def _native_mapping(graph: LatentGraph, offset: tuple[int, int]) -> Callable:
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
    s_shape = family_shape(graph)
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
        device: See :func:`~qhvae.hardware.device.device_graph`.
        offset: ``(rows, columns)`` shift: Chimera cells ``(i, j)``; Pegasus nice cells
            ``(y, x)``; Zephyr rows/columns of its underlying Chimera(2m+1, 2m+1, 2t) grid
            (as in ``dwave.graphs.zephyr_sublattice_mappings``). Default ``(0, 0)``.
        topology: Overrides the device's topology (see :func:`~qhvae.hardware.device.device_graph`).

    Raises:
        ValueError: when the families differ, the tiles differ, or the shifted patch does
            not fit the device.
    """
    dev = device_graph(device, topology)
    _check_native(graph, dev)
    off = _native_offset(offset)
    mapping = _native_mapping(graph, off)
    coordinates, kind, shape = graph.coordinates, dev.topology_type, dev.shape
    assert coordinates is not None and kind is not None  # _check_native refused the graphs and devices without
    target = [tuple(mapping(c)) for c in coordinates]
    bad = [i for i, c in enumerate(target) if not coordinate_in_range(kind, shape, c)]
    if bad:
        i = bad[0]
        raise ValueError(
            f"{graph.name} (family shape {tuple(graph.family_shape)}) does not fit a {kind} "
            f"device of shape {list(shape)} at offset {off}: unit {i} at {coordinates[i]} "
            f"would go to {target[i]}, outside the device ({len(bad)} units outside)"
        )
    to_linear = linear_labeller(kind, shape)
    qubits = np.array([to_linear(c) for c in target], dtype=np.int64)
    if graph.num_edges:
        structural = dev.has_couplers(qubits[graph.edges], complete=True)
        if not structural.all():
            e = int(np.flatnonzero(~structural)[0])
            raise ValueError(
                f"{graph.name} is not a sublattice of the {kind}{list(shape)} topology at offset {off}: "
                f"edge {tuple(graph.edges[e])} maps to {tuple(qubits[graph.edges[e]])}, which is no coupler"
            )
    return Placement.evaluate(graph, dev, qubits, "native", {"strategy": f"{kind} coordinates", "offset": off})


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
        device: See :func:`~qhvae.hardware.device.device_graph`.
        method: ``"native"`` (:func:`place_native`), ``"search"``
            (:func:`~qhvae.hardware.search.place_search`) or ``"auto"``: the native placement
            at ``offset`` when the graph is native to the device, fits, and has at most
            ``tolerance`` missing qubits + couplers; otherwise the search (which scores
            every offset, the native one included).
        offset: Native offset (see :func:`place_native`).
        tolerance: Defects accepted from the native placement under ``"auto"``.
        topology: Overrides the device's topology.
        **search_kwargs: Passed to :func:`~qhvae.hardware.search.place_search`
            (``candidates``, ``timeout``, ``seed``, ``subgraph_search``).
    """
    # Imported here: the search builds Placements with this module, so a top-level import
    # either way would be circular.
    from .search import place_search

    dev = device_graph(device, topology)
    if method == "native":
        return place_native(graph, dev, offset)
    if method == "search":
        return place_search(graph, dev, **search_kwargs)
    if method != "auto":
        raise ValueError(f"unknown placement method {method!r}; choose 'auto', 'native' or 'search'")
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
