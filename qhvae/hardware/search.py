"""Placement search: the injective placement with the fewest missing qubits + couplers.

Every *sublattice* placement of a hardware patch (all cell offsets and, across families,
the ``dwave.graphs.*_sublattice_mappings``: Chimera into Pegasus or Zephyr, Pegasus into
Pegasus with all three ``t`` shifts, Zephyr into Zephyr) is scored by its number of
missing qubits + couplers on the working graph and the best one is kept. Graphs with no
sublattice (RBMs, custom graphs, ...) use minorminer's subgraph isomorphism search
(Glasgow subgraph solver), first on the working graph (a perfect, defect-free
placement), then on the complete topology graph (with masks).

Example:
    >>> from dwave.system.testing import MockDWaveSampler
    >>> from qhvae import topology
    >>> device = MockDWaveSampler(topology_type="chimera", topology_shape=[4, 4, 4], broken_nodes=[0])
    >>> p = place_search(topology.chimera(2), device)
    >>> p.num_defects, p.info["strategy"]
    (0, 'chimera->chimera')
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterable, Mapping
from typing import Any

import networkx as nx
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
from .placement import Placement

__all__ = ["place_search", "score_placement"]


def score_placement(
    graph: LatentGraph, device: Any, qubits: np.ndarray, bound: float = math.inf
) -> tuple[int, int] | None:
    """``(missing qubits, missing couplers)`` of a candidate placement, or None.

    None when it is not a structurally valid placement (not injective, or an edge off the
    complete topology) or when it certainly has more than ``bound`` defects (then it is
    not fully checked).

    Args:
        graph: The latent graph.
        device: See :func:`~qhvae.hardware.device.device_graph`.
        qubits: ``(L,)`` int64 qubit of every unit.
        bound: Give up once the defects exceed this.

    Example:
        >>> from qhvae import topology
        >>> dev = {"nodelist": [0, 1, 2], "edgelist": [(0, 1), (1, 2)]}
        >>> g = topology.from_edges(2, [(0, 1)])
        >>> score_placement(g, dev, np.array([0, 1])), score_placement(g, dev, np.array([0, 2]))
        ((0, 0), None)
    """
    dev = device_graph(device)
    if qubits.min() < 0 or qubits.max() >= dev.num_labels:
        return None
    unit_ok = dev.working_mask()[qubits]
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
# Candidates: sublattice mappings, explicit lists, minorminer
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
    s_shape, t_shape = family_shape(graph), dev.shape
    source = _stub(src, s_shape, _COORD_LABELS[src])
    target = _stub(tgt, t_shape, _COORD_LABELS[tgt])
    if src == "chimera" and tgt == "chimera":
        if s_shape[2] != t_shape[2]:
            return None
        offsets: Iterable[tuple[int, ...]] = itertools.product(range(t_shape[0] - s_shape[0] + 1),
                                                              range(t_shape[1] - s_shape[1] + 1))
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


class _TargetLabels(dict):
    """Memoized target coordinate -> linear label; -1 for coordinates off the device."""

    def __init__(self, kind: str, shape: tuple[int, ...]):
        super().__init__()
        self.kind, self.shape = kind, shape
        self.to_linear = linear_labeller(kind, shape)

    def __missing__(self, c):
        value = self.to_linear(c) if coordinate_in_range(self.kind, self.shape, c) else -1
        self[c] = value
        return value


class _CandidateMapper:
    """Maps units through sublattice mappings, rejecting hopeless candidates early.

    The units are mapped in two stages: first the probes (extreme coordinates, so
    offsets that push the patch off the device fail fast) and every third unit; the
    qubits missing among those, plus the couplings touching them, are a lower bound on
    the candidate's defects. A candidate whose bound exceeds the best so far is
    dropped before the remaining units are mapped.
    """

    def __init__(self, graph: LatentGraph, dev: DeviceGraph):
        coords, kind = graph.coordinates, dev.topology_type
        assert coords is not None and kind is not None  # built only for sublattice mappings, which need both
        self.graph = graph
        self.to_target = _TargetLabels(kind, dev.shape)
        self.node_ok = dev.working_mask()
        first = set(_probe_units(graph)) | set(range(0, graph.num_nodes, 3))
        self.stage1 = np.array(sorted(first), dtype=np.int64)
        self.stage2 = np.setdiff1d(np.arange(graph.num_nodes), self.stage1)
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


# --------------------------------------------------------------------------------------
# The search
# --------------------------------------------------------------------------------------


class _Best:
    """The best candidate so far: fewest defects, then fewest missing qubits, then first seen."""

    def __init__(self, graph: LatentGraph, dev: DeviceGraph):
        self.graph, self.dev = graph, dev
        self.key: tuple | None = None  # (defects, missing qubits, order)
        self.qubits: np.ndarray | None = None
        self.strategy: str | None = None
        self.offset: tuple | None = None
        self.count = 0

    @property
    def defects(self) -> float:
        return math.inf if self.key is None else self.key[0]

    @property
    def perfect(self) -> bool:
        return self.key is not None and self.key[0] == 0

    def consider(self, qubits: np.ndarray, strategy: str, offset) -> None:
        self.count += 1
        s = score_placement(self.graph, self.dev, qubits, bound=self.defects)
        if s is None:
            return
        key = (s[0] + s[1], s[0], self.count)
        if self.key is None or key < self.key:
            self.key, self.qubits, self.strategy, self.offset = key, qubits, strategy, offset


def _first_working_qubits(graph: LatentGraph, dev: DeviceGraph, t0: float) -> Placement:
    """Graphs without couplings: the first ``L`` working qubits (then missing ones, masked)."""
    L = graph.num_nodes
    n_complete = dev.complete_graph().number_of_nodes()
    if L > n_complete:
        raise ValueError(f"{graph.name} has {L} units but the device has only {n_complete} qubits")
    qubits = dev.nodes[:L]
    if qubits.size < L:
        spare = np.setdiff1d(np.array(sorted(dev.complete_graph().nodes), dtype=np.int64), dev.nodes)
        qubits = np.concatenate([qubits, spare[: L - qubits.size]])
    info = {"strategy": "first working qubits", "candidates": 1, "seconds": time.perf_counter() - t0}
    return Placement.evaluate(graph, dev, qubits, "search", info)


def _score_sublattices(best: _Best, candidates, seed) -> str | None:
    """Score the sublattice placements (all, or ``candidates`` of them at random); the strategy or None."""
    gen = _sublattice_generator(best.graph, best.dev)
    if gen is None:
        return None
    strategy, mappings = gen
    mappings = list(mappings)
    if isinstance(candidates, (int, np.integer)) and candidates < len(mappings):
        rng = np.random.default_rng(seed)
        pick = np.sort(rng.choice(len(mappings), size=max(1, int(candidates)), replace=False))
        mappings = [mappings[i] for i in pick]
    mapper = _CandidateMapper(best.graph, best.dev)
    for mapping in mappings:
        q = mapper(mapping, bound=best.defects)
        if q is None:
            continue
        best.consider(q, strategy, tuple(getattr(mapping, "offset", ())))
        if best.perfect:
            break  # defect-free: nothing beats it
    return strategy


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
        device: See :func:`~qhvae.hardware.device.device_graph`.
        candidates: ``None``: all sublattice placements. An int ``k``: at most ``k`` of
            them, chosen at random with ``seed`` (faster on big devices). An iterable of
            explicit candidate placements (length-``L`` qubit sequences or
            ``{unit: qubit}`` dicts): only these are scored (invalid ones are skipped).
        timeout: Seconds for each minorminer subgraph search (rounded up to whole seconds).
        seed: Seed for candidate subsampling and minorminer's search.
        subgraph_search: ``None`` (default): minorminer only when there is no sublattice
            candidate. ``True``: also try it for a perfect placement when the best
            sublattice placement has defects (costs up to ``timeout``). ``False``: never.
        topology: Overrides the device's topology (see :func:`~qhvae.hardware.device.device_graph`).

    Raises:
        ValueError: when the graph cannot fit the device (too many units, couplings or
            too high a degree) or no placement is found within ``timeout``.
    """
    t0 = time.perf_counter()
    dev = device_graph(device, topology)
    if graph.num_edges == 0:
        return _first_working_qubits(graph, dev, t0)
    reason = _too_big(graph, dev)
    if reason:
        raise ValueError(f"cannot place {graph.name} on {dev.topology}: {reason}")

    best = _Best(graph, dev)
    given = None if candidates is None or isinstance(candidates, (int, np.integer)) else candidates
    explicit = given is not None
    strategy = None
    if given is not None:
        for qubits in _explicit_candidates(graph, given):
            best.consider(qubits, "explicit candidates", None)
            if best.perfect:
                break
    else:
        strategy = _score_sublattices(best, candidates, seed)

    def result(qubits, strat, offset):
        info = {"strategy": strat, "candidates": best.count, "seconds": time.perf_counter() - t0}
        if offset:
            info["offset"] = tuple(int(o) for o in offset)
        return Placement.evaluate(graph, dev, qubits, "search", info)

    if best.perfect:
        return result(best.qubits, best.strategy, best.offset)
    if best.key is None and strategy is not None and not subgraph_search and not explicit:
        raise ValueError(
            f"{graph.name} (family shape {tuple(graph.family_shape)}) does not fit the "
            f"{dev.topology_type}{list(dev.shape)} device: no {strategy} sublattice placement lies "
            "inside it (pass subgraph_search=True to try minorminer's general subgraph search)"
        )
    want_subgraph = subgraph_search if subgraph_search is not None else (best.key is None and not explicit)
    if want_subgraph:
        q = _subgraph(graph, dev.working_graph(), timeout, seed)
        if q is not None:
            best.count += 1
            return result(q, "minorminer subgraph (working graph)", None)
    if best.key is not None:
        return result(best.qubits, best.strategy, best.offset)
    if want_subgraph and dev.topology_type is not None:
        q = _subgraph(graph, dev.complete_graph(), timeout, seed)
        if q is not None:
            best.count += 1
            return result(q, "minorminer subgraph (complete topology, masked)", None)
    if explicit:
        raise ValueError(
            f"none of the given candidates is a valid placement of {graph.name} on {dev.topology} "
            "(each must map units injectively onto qubits, every coupling onto a coupler of the topology)"
        )
    raise ValueError(
        f"no placement of {graph.name} ({graph.num_nodes} units, {graph.num_edges} couplings) found on "
        f"{dev.topology} within timeout={timeout} s"
        + ("" if want_subgraph else " (subgraph search disabled)")
    )
