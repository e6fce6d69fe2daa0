"""The latent graph itself: :class:`LatentGraph` and the array helpers it is built from.

A :class:`LatentGraph` holds the units, the coupled pairs, a proper colouring, the hidden
units and (for graphs cut from a QPU family) the hardware coordinates; it splits its units
into the VAE's two hierarchical groups (:data:`HIERARCHY_MAPPINGS`). :func:`csr_from_edges`
and :func:`greedy_coloring` turn an edge list into a CSR adjacency and a colouring;
:func:`as_index_array` checks that unit indices are integers.

The constructors are in :mod:`qhvae.topology.families`, the hidden units in
:mod:`qhvae.topology.hidden`; everything is re-exported by :mod:`qhvae.topology`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np

from ..validation import check_int, is_integer

__all__ = ["as_index_array", "LatentGraph", "csr_from_edges", "greedy_coloring", "HIERARCHY_MAPPINGS"]

#: The ways :meth:`LatentGraph.hierarchy` splits the units into the two hierarchical groups.
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
        >>> from qhvae.topology import from_edges
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
            >>> from qhvae.topology import rbm, with_hidden
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
            >>> from qhvae.topology import from_edges
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
            >>> from qhvae.topology import chimera
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
            data: dict[str, Any] = {"color": int(self.colors[i])}
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
