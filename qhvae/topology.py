"""Latent graphs: which latent units of the Boltzmann-machine prior are coupled.

A :class:`LatentGraph` is the structure of the prior ``p(z) = exp(-E(z)) / Z`` with
``E(z) = sum_i b_i z_i + sum_(i<j in edges) W_ij z_i z_j``: the units ``0..L-1``, the
coupled pairs, a proper colouring (units of one colour are conditionally independent
given the others, so they can be updated together in block Gibbs sampling), the two
hierarchical groups of the VAE's posterior, and the hardware coordinates of each unit
on the device family the graph was cut from (needed to place the graph on a QPU).

Constructors follow the paper (Vinci et al., App. D): :func:`chimera` (a 6x6 patch of
Chimera unit cells, 288 units), :func:`pegasus` (36 Pegasus unit cells, 288 units),
:func:`zephyr` (a compact 288-unit Zephyr patch), :func:`rbm` (complete bipartite),
:func:`full` and :func:`bernoulli` (no couplings).

Example:
    >>> from qhvae import topology
    >>> g = topology.chimera(6)
    >>> g.num_nodes, g.num_edges, g.num_colors
    (288, 816, 2)
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Hashable, Iterable, Sequence

import networkx as nx
import numpy as np

from .validation import check_int, is_integer

__all__ = [
    "LatentGraph",
    "with_hidden",
    "with_hidden_layer",
    "HIDDEN_CHOICES",
    "HIDDEN_OPTIONS",
    "HIERARCHY_MAPPINGS",
    "bernoulli",
    "chimera",
    "pegasus",
    "zephyr",
    "rbm",
    "full",
    "from_networkx",
    "from_edges",
    "by_name",
    "GRAPH_FAMILIES",
    "as_index_array",
]

HIERARCHY_MAPPINGS = ("bipartite", "chains")


def as_index_array(name: str, values: Any) -> np.ndarray:
    """``values`` as an int64 array, if they are integers: unit indices are never rounded.

    Integer arrays of any width pass (an empty list too, which numpy types as float);
    floats (even whole ones), booleans, text and other objects are refused, because
    ``0.9`` would otherwise silently become unit 0.

    Raises:
        ValueError: naming ``name``, the dtype and a value, and how to convert.

    Example:
        >>> as_index_array("edges", [(0, 1)]).dtype
        dtype('int64')
        >>> as_index_array("edges", [(0.9, 1)])
        Traceback (most recent call last):
        ...
        ValueError: edges must be integers, got float64 values such as 0.9; indices are never rounded or \
truncated: pass integers (np.asarray(edges).astype(int) when the values are whole numbers)
    """
    arr = np.asarray(values)
    if arr.size == 0:
        return np.zeros(arr.shape, np.int64)
    kind = arr.dtype.kind
    if kind == "u" and arr.dtype.itemsize == 8 and int(arr.max()) > np.iinfo(np.int64).max:
        raise ValueError(f"{name} has indices above {np.iinfo(np.int64).max}; no graph has that many units")
    if kind in "iu" or (kind == "O" and all(is_integer(v) for v in arr.flat)):
        return arr.astype(np.int64)
    flat = arr.ravel()
    example = flat[0]
    if kind == "f":
        fractional = flat[flat != np.round(flat)] if np.all(np.isfinite(flat)) else flat[~np.isfinite(flat)]
        example = fractional[0] if fractional.size else example
    example = example.item() if isinstance(example, np.generic) else example
    raise ValueError(
        f"{name} must be integers, got {arr.dtype} values such as {example!r}; indices are never rounded or "
        f"truncated: pass integers (np.asarray({name.split()[-1]}).astype(int) when the values are whole numbers)"
    )


@dataclass(frozen=True, eq=False)
class LatentGraph:
    """The coupling structure of a Boltzmann-machine prior over ``num_nodes`` binary units.

    Attributes:
        name: Human-readable name, e.g. ``"chimera(6)"``.
        num_nodes: Number of latent units ``L``; units are labelled ``0..L-1``.
        edges: ``(E, 2)`` int64 array of coupled pairs with ``i < j``, sorted.
        colors: ``(L,)`` int64 proper colouring with colours ``0..k-1``.
        family: Hardware family the graph was cut from (``"chimera"``, ``"pegasus"``,
            ``"zephyr"``) or a structural kind (``"rbm"``, ``"full"``, ``"bernoulli"``,
            ``"custom"``).
        family_shape: Shape parameters of the family graph, e.g. ``(6, 6, 4)`` for
            Chimera ``(m, n, t)``.
        coordinates: Hardware coordinate tuple of every unit on its family graph
            (Chimera ``(i, j, u, k)``, Pegasus nice ``(t, y, x, u, k)``, Zephyr
            ``(u, w, k, j, z)``), or ``None`` when the graph has no hardware origin.
        orientation: ``(L,)`` int64 qubit orientation ``u`` (0 vertical, 1 horizontal)
            for hardware graphs, else ``None``; the "chains" hierarchy uses it.
        hidden: sorted int64 indices of the *hidden* units (marginalised by the prior,
            never seen by the encoder or decoder: ``p(z) = sum_h exp(-E(z, h)) / Z``), or
            ``None``: every unit is a latent. They are qubits like the others (placement
            and masks treat them alike). See :func:`with_hidden` and :func:`with_hidden_layer`.

    Example:
        >>> g = from_edges(3, [(0, 1), (1, 2)])
        >>> g.num_colors, g.is_bipartite
        (2, True)
    """

    name: str
    num_nodes: int
    edges: np.ndarray
    colors: np.ndarray
    family: str = "custom"
    family_shape: tuple[int, ...] = ()
    coordinates: tuple[tuple[int, ...], ...] | None = None
    orientation: np.ndarray | None = None
    hidden: np.ndarray | None = None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = check_int("num_nodes", self.num_nodes)
        edges = as_index_array("edges", self.edges).reshape(-1, 2)
        colors = as_index_array("colors", self.colors).reshape(-1)
        if colors.shape != (n,):
            raise ValueError(f"colors has shape {colors.shape}, expected ({n},)")
        if edges.size:
            if edges.min() < 0 or edges.max() >= n:
                raise ValueError(f"edge endpoints must lie in 0..{n - 1}")
            if np.any(edges[:, 0] == edges[:, 1]):
                raise ValueError("self-loops are not allowed in a latent graph")
            edges = np.sort(edges, axis=1)
            edges = np.unique(edges, axis=0)
            if np.any(colors[edges[:, 0]] == colors[edges[:, 1]]):
                raise ValueError("colors is not a proper colouring: an edge joins two units of one colour")
        # Relabel colours to 0..k-1 so that block samplers can index them densely.
        _, colors = np.unique(colors, return_inverse=True)
        object.__setattr__(self, "num_nodes", n)
        object.__setattr__(self, "edges", edges)
        object.__setattr__(self, "colors", colors.astype(np.int64))
        if self.orientation is not None:
            object.__setattr__(self, "orientation", as_index_array("orientation", self.orientation))
        if self.coordinates is not None and len(self.coordinates) != n:
            raise ValueError(f"coordinates has {len(self.coordinates)} entries, expected {n}")
        if self.hidden is not None:
            hidden = np.unique(as_index_array("hidden", self.hidden).reshape(-1))
            if hidden.size and (hidden.min() < 0 or hidden.max() >= n):
                raise ValueError(f"hidden units must lie in 0..{n - 1}")
            if hidden.size >= n:
                raise ValueError("at least one unit must stay a latent (visible) unit; every unit is hidden")
            object.__setattr__(self, "hidden", hidden if hidden.size else None)
            if self.hidden is not None:
                self.hidden.setflags(write=False)
        self.edges.setflags(write=False)
        self.colors.setflags(write=False)

    @property
    def num_edges(self) -> int:
        """Number of coupled pairs."""
        return int(self.edges.shape[0])

    @property
    def num_colors(self) -> int:
        """Number of colour classes (blocks of a block Gibbs sweep)."""
        return int(self.colors.max()) + 1

    @property
    def is_bipartite(self) -> bool:
        """Whether the colouring has at most two colours."""
        return self.num_colors <= 2

    @property
    def num_hidden(self) -> int:
        """Number of hidden units (0 when every unit is a latent)."""
        return 0 if self.hidden is None else int(self.hidden.size)

    @property
    def num_latent(self) -> int:
        """Number of latent (visible) units: what the encoder infers and the decoder reads."""
        return self.num_nodes - self.num_hidden

    @property
    def latent_units(self) -> np.ndarray:
        """Sorted indices of the latent (visible) units, ``(num_latent,)``."""
        if self.hidden is None:
            return np.arange(self.num_nodes)
        return np.setdiff1d(np.arange(self.num_nodes), self.hidden)

    @property
    def hidden_units(self) -> np.ndarray:
        """Sorted indices of the hidden units (empty when there are none)."""
        return np.zeros(0, np.int64) if self.hidden is None else np.asarray(self.hidden)

    @property
    def hidden_coupled(self) -> bool:
        """Whether some coupling joins two hidden units (then the hidden units' free energy is not a sum
        of softplus terms, and the prior samples ``h | z`` instead of summing it out)."""
        if self.hidden is None or not self.num_edges:
            return False
        is_hidden = np.zeros(self.num_nodes, bool)
        is_hidden[self.hidden] = True
        return bool(np.any(is_hidden[self.edges[:, 0]] & is_hidden[self.edges[:, 1]]))

    def latent_hierarchy(self, mapping: str = "bipartite") -> np.ndarray:
        """:meth:`hierarchy` of the latent units only, ``(num_latent,)``.

        Hiding units can leave every latent unit in one group (an RBM with one side hidden,
        a Chimera with one colour class hidden): the latent units are then split alternately,
        so that both hierarchical groups of the posterior have units.

        Example:
            >>> with_hidden(rbm(2, 2), 0.5).latent_hierarchy().tolist()
            [0, 1]
        """
        groups = self.hierarchy(mapping)[self.latent_units]
        if self.hidden is not None and (groups.min() == groups.max()):
            groups = (np.arange(groups.size) % 2).astype(np.int64)
        return groups

    def degrees(self) -> np.ndarray:
        """Number of neighbours of every unit, shape ``(L,)``."""
        return np.bincount(self.edges.ravel(), minlength=self.num_nodes)

    def adjacency_mask(self, dtype=np.float32) -> np.ndarray:
        """Symmetric ``(L, L)`` 0/1 matrix with ones on the edges.

        Example:
            >>> from_edges(2, [(0, 1)]).adjacency_mask().tolist()
            [[0.0, 1.0], [1.0, 0.0]]
        """
        mask = np.zeros((self.num_nodes, self.num_nodes), dtype=dtype)
        mask[self.edges[:, 0], self.edges[:, 1]] = 1
        mask[self.edges[:, 1], self.edges[:, 0]] = 1
        return mask

    def hierarchy(self, mapping: str = "bipartite") -> np.ndarray:
        """Assign every unit to hierarchical group 0 (``z1``) or 1 (``z2``).

        Args:
            mapping: ``"bipartite"``: the colour classes split in two halves; for a
                bipartite graph this is its 2-colouring, so ``p(z2|z1)`` factorizes
                (paper Fig. 7b). ``"chains"``: the qubit orientation, vertical units in
                group 0 and horizontal ones in group 1 (paper Fig. 7c); needs a
                hardware graph.

        Returns:
            ``(L,)`` int64 array of 0/1 group labels.

        Raises:
            ValueError: for an unknown mapping or "chains" on a graph without qubit
                orientations.

        Example:
            >>> chimera(1).hierarchy("chains").tolist()
            [0, 0, 0, 0, 1, 1, 1, 1]
        """
        if mapping == "bipartite":
            k = self.num_colors
            if k == 1:
                # No couplings at all: any split works, alternate so both groups are mixed.
                return (np.arange(self.num_nodes) % 2).astype(np.int64)
            return (self.colors >= (k + 1) // 2).astype(np.int64)
        if mapping == "chains":
            if self.orientation is None:
                raise ValueError(
                    f"the 'chains' mapping needs qubit orientations, which {self.name} "
                    f"({self.family}) does not have; use mapping='bipartite' or a hardware "
                    "graph (chimera, pegasus, zephyr)"
                )
            return self.orientation.copy()
        raise ValueError(f"unknown hierarchy mapping {mapping!r}; choose one of {HIERARCHY_MAPPINGS}")

    def to_networkx(self) -> nx.Graph:
        """The graph as a :class:`networkx.Graph` with ``color`` (and ``coordinate``) node data."""
        g = nx.Graph()
        for i in range(self.num_nodes):
            data = {"color": int(self.colors[i])}
            if self.coordinates is not None:
                data["coordinate"] = self.coordinates[i]
            g.add_node(i, **data)
        g.add_edges_from(map(tuple, self.edges.tolist()))
        return g

    def neighbors_csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Symmetric CSR adjacency ``(indptr, neighbors, edge_index)``.

        ``edge_index[p]`` is the row of :attr:`edges` that the ``p``-th stored
        neighbour comes from, so per-edge weights ``w`` map to CSR as ``w[edge_index]``.
        """
        if "csr" not in self._cache:
            self._cache["csr"] = csr_from_edges(self.num_nodes, self.edges)
        return self._cache["csr"]

    def __repr__(self) -> str:
        hidden = f", num_hidden={self.num_hidden}" if self.hidden is not None else ""
        return (
            f"LatentGraph({self.name!r}, num_nodes={self.num_nodes}, num_edges={self.num_edges}, "
            f"num_colors={self.num_colors}{hidden})"
        )


def csr_from_edges(num_nodes: int, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Symmetric CSR adjacency of an undirected edge list.

    Args:
        num_nodes: Number of nodes.
        edges: ``(E, 2)`` integer array.

    Returns:
        ``(indptr, neighbors, edge_index)``: the neighbours of node ``i`` are
        ``neighbors[indptr[i]:indptr[i+1]]`` and come from edge rows ``edge_index[...]``.

    Example:
        >>> indptr, nbrs, idx = csr_from_edges(3, np.array([[0, 1], [1, 2]]))
        >>> indptr.tolist(), nbrs.tolist(), idx.tolist()
        ([0, 1, 3, 4], [1, 0, 2, 1], [0, 0, 1, 1])
    """
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    e = np.arange(edges.shape[0], dtype=np.int64)
    rows = np.concatenate([edges[:, 0], edges[:, 1]])
    cols = np.concatenate([edges[:, 1], edges[:, 0]])
    eidx = np.concatenate([e, e])
    order = np.lexsort((cols, rows))
    rows, cols, eidx = rows[order], cols[order], eidx[order]
    indptr = np.searchsorted(rows, np.arange(num_nodes + 1)).astype(np.int64)
    return indptr, cols.astype(np.int64), eidx.astype(np.int64)


def greedy_coloring(num_nodes: int, edges: np.ndarray) -> np.ndarray:
    """A proper colouring by networkx's DSATUR heuristic (few colours on sparse graphs).

    Example:
        >>> greedy_coloring(3, np.array([[0, 1], [1, 2], [0, 2]])).tolist()
        [0, 1, 2]
    """
    g = nx.Graph()
    g.add_nodes_from(range(num_nodes))
    g.add_edges_from(map(tuple, np.asarray(edges).reshape(-1, 2).tolist()))
    coloring = nx.coloring.greedy_color(g, strategy="DSATUR")
    return np.array([coloring[i] for i in range(num_nodes)], dtype=np.int64)


def _from_labelled_graph(
    g: nx.Graph,
    nodes: Sequence[Hashable],
    *,
    name: str,
    family: str,
    family_shape: tuple[int, ...],
    color_of: Callable[[Hashable], int],
    orientation_of: Callable[[Hashable], int],
) -> LatentGraph:
    index = {n: i for i, n in enumerate(nodes)}
    sub = g.subgraph(nodes)
    edges = np.array([(index[a], index[b]) for a, b in sub.edges()], dtype=np.int64).reshape(-1, 2)
    return LatentGraph(
        name=name,
        num_nodes=len(nodes),
        edges=edges,
        colors=np.array([color_of(n) for n in nodes], dtype=np.int64),
        family=family,
        family_shape=family_shape,
        coordinates=tuple(tuple(int(c) for c in n) for n in nodes),
        orientation=np.array([orientation_of(n) for n in nodes], dtype=np.int64),
    )


def chimera(m: int = 6, n: int | None = None, t: int = 4) -> LatentGraph:
    """An ``m x n`` patch of Chimera unit cells (``K_{t,t}``), ``2 t m n`` units.

    The default is the paper's latent graph: 6x6 cells, 288 units, 816 couplings.
    Units are ordered by Chimera linear index; coordinates are ``(i, j, u, k)``.
    Chimera is bipartite, so the colouring has 2 colours.

    Example:
        >>> g = chimera(2)
        >>> g.num_nodes, g.coordinates[0]
        (32, (0, 0, 0, 0))
    """
    import dwave.graphs as dg

    m, t = check_int("m", m), check_int("t", t)
    n = m if n is None else check_int("n", n)
    g = dg.chimera_graph(m, n, t, coordinates=True)
    coords = dg.chimera_coordinates(m, n, t)
    nodes = sorted(g.nodes, key=coords.chimera_to_linear)
    return _from_labelled_graph(
        g,
        nodes,
        name=f"chimera({m},{n},{t})" if (n != m or t != 4) else f"chimera({m})",
        family="chimera",
        family_shape=(m, n, t),
        color_of=dg.chimera_two_color,
        orientation_of=lambda c: c[2],
    )


def pegasus(m: int = 5, rows: int = 3, cols: int = 4) -> LatentGraph:
    """A patch of Pegasus unit cells: ``3 * rows * cols`` cells of 8 qubits.

    Cells are taken in Pegasus "nice" coordinates ``(t, y, x, u, k)`` with
    ``y < rows`` and ``x < cols`` from the Pegasus graph ``P_m``. The default is a
    36-cell, 288-unit patch (the paper's App. D size) with 1812 couplings and
    degree up to 15; it is quadripartite (Pegasus' 4-colouring).

    Example:
        >>> g = pegasus()
        >>> g.num_nodes, g.num_colors
        (288, 4)
    """
    import dwave.graphs as dg

    m, rows, cols = check_int("m", m, minimum=2), check_int("rows", rows), check_int("cols", cols)
    if not (1 <= rows <= m - 1 and 1 <= cols <= m - 1):
        raise ValueError(f"a Pegasus P_{m} has {m - 1}x{m - 1} nice cells; got rows={rows}, cols={cols}")
    g = dg.pegasus_graph(m, nice_coordinates=True)
    coords = dg.pegasus_coordinates(m)
    nodes = sorted(
        (q for q in g.nodes if q[1] < rows and q[2] < cols),
        key=lambda q: (q[1], q[2], q[0], q[3], q[4]),
    )
    return _from_labelled_graph(
        g,
        nodes,
        name=f"pegasus({m},{rows}x{cols})",
        family="pegasus",
        family_shape=(m,),
        color_of=lambda q: dg.pegasus_four_color(coords.nice_to_pegasus(q)),
        orientation_of=lambda q: q[3],
    )


def zephyr(m: int = 3, t: int = 4, num_units: int | None = 288) -> LatentGraph:
    """A compact patch of the Zephyr graph ``Z_{m,t}``.

    The patch is the ``num_units`` qubits closest (breadth-first, ties by
    coordinate) to the central qubit of ``Z_{m,t}``, so it is connected and compact;
    ``num_units=None`` takes the whole graph. Coordinates are ``(u, w, k, j, z)``;
    the colouring is Zephyr's 4-colouring.

    Example:
        >>> g = zephyr()
        >>> g.num_nodes, g.num_colors
        (288, 4)
    """
    import dwave.graphs as dg

    m, t = check_int("m", m), check_int("t", t)
    num_units = check_int("num_units", num_units, allow_none=True)
    g = dg.zephyr_graph(m, t, coordinates=True)
    total = g.number_of_nodes()
    if num_units is None:
        num_units = total
    if not 1 <= num_units <= total:
        raise ValueError(f"Z_({m},{t}) has {total} qubits; cannot cut a {num_units}-unit patch")
    nodes = _bfs_ball(g, num_units)
    return _from_labelled_graph(
        g,
        nodes,
        name=f"zephyr({m},{t},{num_units})",
        family="zephyr",
        family_shape=(m, t),
        color_of=dg.zephyr_four_color,
        orientation_of=lambda q: q[0],
    )


def _bfs_ball(g: nx.Graph, size: int) -> list:
    center = min(nx.center(g))
    seen = {center}
    order = [center]
    queue = deque([center])
    while queue and len(order) < size:
        node = queue.popleft()
        for nb in sorted(g.neighbors(node)):
            if nb not in seen:
                seen.add(nb)
                order.append(nb)
                queue.append(nb)
    return sorted(order[:size])


def rbm(n_left: int = 144, n_right: int | None = None) -> LatentGraph:
    """A complete bipartite graph ``K_{n_left, n_right}`` (a restricted Boltzmann machine).

    Units ``0..n_left-1`` form the left layer (colour 0, the "bipartite" group 0).

    Example:
        >>> g = rbm(2, 3)
        >>> g.num_nodes, g.num_edges
        (5, 6)
    """
    n_left = check_int("n_left", n_left)
    n_right = n_left if n_right is None else check_int("n_right", n_right)
    left, right = np.meshgrid(np.arange(n_left), n_left + np.arange(n_right), indexing="ij")
    edges = np.stack([left.ravel(), right.ravel()], axis=1)
    colors = np.r_[np.zeros(n_left), np.ones(n_right)].astype(np.int64)
    return LatentGraph(f"rbm({n_left},{n_right})", n_left + n_right, edges, colors, family="rbm")


def full(num_nodes: int = 288) -> LatentGraph:
    """The complete graph on ``num_nodes`` units (every unit its own colour).

    Example:
        >>> full(4).num_edges
        6
    """
    num_nodes = check_int("num_nodes", num_nodes)
    i, j = np.triu_indices(num_nodes, k=1)
    return LatentGraph(
        f"full({num_nodes})", num_nodes, np.stack([i, j], axis=1), np.arange(num_nodes), family="full"
    )


def bernoulli(num_nodes: int = 288) -> LatentGraph:
    """No couplings: the prior is a product of independent Bernoulli units.

    Example:
        >>> bernoulli(5).num_edges
        0
    """
    num_nodes = check_int("num_nodes", num_nodes)
    return LatentGraph(
        f"bernoulli({num_nodes})",
        num_nodes,
        np.zeros((0, 2), np.int64),
        np.zeros(num_nodes, np.int64),
        family="bernoulli",
    )


def from_edges(num_nodes: int, edges: Iterable[tuple[int, int]], name: str = "custom") -> LatentGraph:
    """A latent graph from an edge list over units ``0..num_nodes-1`` (DSATUR colouring).

    Example:
        >>> from_edges(4, [(0, 1), (1, 2), (2, 3), (3, 0)]).num_colors
        2
    """
    num_nodes = check_int("num_nodes", num_nodes)
    edges = as_index_array("edges", list(edges)).reshape(-1, 2)
    return LatentGraph(name, num_nodes, edges, greedy_coloring(num_nodes, edges))


def from_networkx(g: nx.Graph, name: str = "custom") -> LatentGraph:
    """A latent graph from any networkx graph; nodes are relabelled ``0..L-1`` in sorted order.

    Example:
        >>> from_networkx(nx.path_graph(3)).num_edges
        2
    """
    nodes = sorted(g.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    return from_edges(len(nodes), [(index[a], index[b]) for a, b in g.edges()], name=name)


#: How :func:`with_hidden` chooses its hidden units.
HIDDEN_CHOICES = ("color", "random")


def with_hidden(graph: LatentGraph, hidden: float | int, hidden_from: str = "color", seed: int = 0) -> LatentGraph:
    """The same graph with some of its units hidden (marginalised by the prior).

    Args:
        graph: the graph.
        hidden: a fraction in (0, 1) of the units, or a number of units (an integer >= 1).
        hidden_from: how they are chosen. ``"color"`` (default): colour class 0 first, then
            class 1, ... (in unit order within a class). A colour class is an independent set,
            so while the hidden units fit in one class none of them is coupled to another and
            the prior's free energy is exact (an RBM's hidden layer: ``with_hidden(rbm(), 0.5)``
            hides the left layer; a Chimera graph's hides one of its two colour classes, half
            of every unit cell). ``"random"``: a uniform choice with ``seed``; hidden units are
            then generally coupled to each other, and the prior samples them.
        seed: the seed of ``"random"``.

    Example:
        >>> g = with_hidden(chimera(1), 0.5)
        >>> g.num_latent, g.num_hidden, g.hidden_coupled
        (4, 4, False)
        >>> with_hidden(chimera(2), 24).hidden_coupled  # more than a colour class: coupled
        True
    """
    if hidden_from not in HIDDEN_CHOICES:
        raise ValueError(f"unknown hidden_from {hidden_from!r}; choose one of {HIDDEN_CHOICES}")
    n = graph.num_nodes
    if isinstance(hidden, (bool, np.bool_)):
        raise ValueError(f"hidden must be a fraction in (0, 1) or a number of units, got {hidden!r}")
    if isinstance(hidden, (int, np.integer)):
        count = int(hidden)
    elif isinstance(hidden, (float, np.floating)) and 0 < hidden < 1:
        count = int(round(float(hidden) * n))
    else:
        raise ValueError(f"hidden must be a fraction in (0, 1) or a number of units, got {hidden!r}")
    if not 1 <= count < n:
        raise ValueError(f"hidden = {hidden!r} hides {count} of {graph.name}'s {n} units; hide at least one and "
                         "leave at least one latent")
    if hidden_from == "color":
        chosen = np.lexsort((np.arange(n), graph.colors))[:count]  # colour class 0 first, unit order within
    else:
        chosen = np.random.default_rng(seed).choice(n, count, replace=False)
    how = "" if hidden_from == "color" else f" random{seed}"
    return replace(graph, name=f"{graph.name}+{count}h{how}", hidden=np.sort(chosen), _cache={})


def with_hidden_layer(graph: LatentGraph, num_hidden: int) -> LatentGraph:
    """``graph`` with a dense layer of ``num_hidden`` hidden units, each coupled to every unit of ``graph``.

    The new units (indices ``L..L+num_hidden-1``) are not coupled to each other, so the
    prior's free energy is exact: over an edge-free graph this is the classical RBM prior
    over the latents. They get one colour of their own, after ``graph``'s.

    Example:
        >>> g = with_hidden_layer(bernoulli(3), 2)
        >>> g.num_nodes, g.num_edges, g.num_latent, g.hidden_coupled
        (5, 6, 3, False)
    """
    num_hidden = check_int("num_hidden", num_hidden)
    n = graph.num_nodes
    visible, hidden = np.meshgrid(np.arange(n), n + np.arange(num_hidden), indexing="ij")
    edges = np.concatenate([graph.edges, np.stack([visible.ravel(), hidden.ravel()], axis=1)])
    colors = np.r_[graph.colors, np.full(num_hidden, graph.num_colors)]
    old_hidden = graph.hidden_units
    return LatentGraph(f"{graph.name}+layer{num_hidden}h", n + num_hidden, edges, colors, family=graph.family,
                       family_shape=graph.family_shape,
                       hidden=np.r_[old_hidden, n + np.arange(num_hidden)])


GRAPH_FAMILIES: dict[str, Callable[..., LatentGraph]] = {
    "bernoulli": bernoulli,
    "chimera": chimera,
    "pegasus": pegasus,
    "zephyr": zephyr,
    "rbm": rbm,
    "full": full,
}


#: Graph options every family takes (``--graph-option``): they choose hidden units.
HIDDEN_OPTIONS = ("hidden", "hidden_from", "hidden_seed", "hidden_layer")


def by_name(name: str, **kwargs) -> LatentGraph:
    """Build a latent graph by family name (``"chimera"``, ``"pegasus"``, ...).

    Every family also takes the hidden-unit options: ``hidden`` and ``hidden_from`` (and
    ``hidden_seed``) of :func:`with_hidden`, and ``hidden_layer`` (:func:`with_hidden_layer`,
    added first).

    Raises:
        ValueError: naming the known families when ``name`` is not one of them.

    Example:
        >>> by_name("chimera", m=2).num_nodes
        32
        >>> by_name("rbm", n_left=2, hidden=0.5).num_latent
        2
    """
    try:
        factory = GRAPH_FAMILIES[name]
    except KeyError:
        raise ValueError(
            f"unknown latent graph {name!r}; known graphs: {', '.join(sorted(GRAPH_FAMILIES))}"
        ) from None
    hidden, hidden_from = kwargs.pop("hidden", None), kwargs.pop("hidden_from", "color")
    hidden_seed, hidden_layer = kwargs.pop("hidden_seed", 0), kwargs.pop("hidden_layer", None)
    graph = factory(**kwargs)
    if hidden_layer is not None:
        graph = with_hidden_layer(graph, hidden_layer)
    if hidden is not None:
        if graph.hidden is not None:
            raise ValueError("give either hidden (hide some of the graph's units) or hidden_layer (add hidden "
                             "units), not both")
        graph = with_hidden(graph, hidden, hidden_from, hidden_seed)
    return graph
