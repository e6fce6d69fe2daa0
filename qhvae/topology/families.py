"""The graph families: hardware patches (Chimera, Pegasus, Zephyr), RBM, complete, Bernoulli, custom.

Each constructor returns a :class:`~qhvae.topology.graph.LatentGraph`. The hardware ones
(:func:`chimera`, :func:`pegasus`, :func:`zephyr`) cut a patch from the ``dwave.graphs``
family graph and keep every unit's hardware coordinate and qubit orientation, so the graph
can be placed on a QPU; :func:`rbm`, :func:`full` and :func:`bernoulli` are structural;
:func:`from_edges` and :func:`from_networkx` wrap any graph (with a DSATUR colouring).

Example:
    >>> g = chimera(6)
    >>> g.num_nodes, g.num_edges, g.num_colors
    (288, 816, 2)
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence

import networkx as nx
import numpy as np

from ..validation import check_int
from .graph import LatentGraph, as_index_array, greedy_coloring

__all__ = ["chimera", "pegasus", "zephyr", "rbm", "full", "bernoulli", "from_edges", "from_networkx"]


def _from_labelled_graph(
    g: nx.Graph,
    nodes: Sequence[tuple[int, ...]],  # the hardware coordinates labelling g's nodes
    *,
    name: str,
    family: str,
    family_shape: tuple[int, ...],
    color_of: Callable[[tuple[int, ...]], int],
    orientation_of: Callable[[tuple[int, ...]], int],
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
    return LatentGraph(f"full({num_nodes})", num_nodes, np.stack([i, j], axis=1), np.arange(num_nodes), family="full")


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
