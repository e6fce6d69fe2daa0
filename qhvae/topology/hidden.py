"""Hidden units: latent graphs whose prior marginalises some of its units.

:func:`with_hidden` hides some of a graph's own units (a colour class first, or a random
choice: :data:`HIDDEN_CHOICES`); :func:`with_hidden_layer` adds a dense layer of new hidden
units coupled to every unit. The hidden units stay in the graph (they are qubits like the
others); :attr:`~qhvae.topology.graph.LatentGraph.hidden` lists them.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..validation import check_int
from .graph import LatentGraph

__all__ = ["with_hidden", "with_hidden_layer", "HIDDEN_CHOICES"]


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
        >>> from qhvae.topology import chimera
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
        raise ValueError(
            f"hidden = {hidden!r} hides {count} of {graph.name}'s {n} units; hide at least one and "
            "leave at least one latent"
        )
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
        >>> from qhvae.topology import bernoulli
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
    return LatentGraph(
        f"{graph.name}+layer{num_hidden}h",
        n + num_hidden,
        edges,
        colors,
        family=graph.family,
        family_shape=graph.family_shape,
        hidden=np.r_[old_hidden, n + np.arange(num_hidden)],
    )
