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

The package is split by job: :mod:`qhvae.topology.graph` holds the :class:`LatentGraph`
class and its array helpers, :mod:`qhvae.topology.families` the constructors and
:mod:`qhvae.topology.hidden` the hidden units. Every public name is re-exported here, so
``from qhvae.topology import chimera`` and ``qhvae.topology.LatentGraph`` are the paths to
use; :func:`by_name` builds a graph from a family name (:data:`GRAPH_FAMILIES`).

Example:
    >>> from qhvae import topology
    >>> g = topology.chimera(6)
    >>> g.num_nodes, g.num_edges, g.num_colors
    (288, 816, 2)
"""

from __future__ import annotations

from collections.abc import Callable

from .families import bernoulli, chimera, from_edges, from_networkx, full, pegasus, rbm, zephyr
from .graph import HIERARCHY_MAPPINGS, LatentGraph, as_index_array, csr_from_edges, greedy_coloring
from .hidden import HIDDEN_CHOICES, with_hidden, with_hidden_layer

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
    "csr_from_edges",
    "greedy_coloring",
]

#: The families :func:`by_name` knows: family name to constructor.
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
        raise ValueError(f"unknown latent graph {name!r}; known graphs: {', '.join(sorted(GRAPH_FAMILIES))}") from None
    hidden, hidden_from = kwargs.pop("hidden", None), kwargs.pop("hidden_from", "color")
    hidden_seed, hidden_layer = kwargs.pop("hidden_seed", 0), kwargs.pop("hidden_layer", None)
    graph = factory(**kwargs)
    if hidden_layer is not None:
        graph = with_hidden_layer(graph, hidden_layer)
    if hidden is not None:
        if graph.hidden is not None:
            raise ValueError(
                "give either hidden (hide some of the graph's units) or hidden_layer (add hidden units), not both"
            )
        graph = with_hidden(graph, hidden, hidden_from, hidden_seed)
    return graph
