"""Latent graphs: sizes, colourings, hierarchies and coordinates."""

import networkx as nx
import numpy as np
import pytest

from qhvae import topology


def assert_proper(g):
    assert np.all(g.colors[g.edges[:, 0]] != g.colors[g.edges[:, 1]])


@pytest.mark.parametrize(
    "build, units, colors",
    [
        (lambda: topology.chimera(6), 288, 2),
        (lambda: topology.pegasus(), 288, 4),
        (lambda: topology.zephyr(), 288, 4),
        (lambda: topology.rbm(144, 144), 288, 2),
        (lambda: topology.full(12), 12, 12),
        (lambda: topology.bernoulli(288), 288, 1),
    ],
)
def test_default_graphs(build, units, colors):
    g = build()
    assert g.num_nodes == units
    assert g.num_colors == colors
    assert_proper(g)
    assert np.all(g.edges[:, 0] < g.edges[:, 1])
    if g.num_edges:
        assert nx.is_connected(g.to_networkx())


def test_chimera_matches_dwave_graphs():
    import dwave.graphs as dg

    g = topology.chimera(6)
    ref = dg.chimera_graph(6)
    assert g.num_edges == ref.number_of_edges() == 816
    # Units follow Chimera linear order, so edges coincide label for label.
    assert {tuple(e) for e in g.edges.tolist()} == {tuple(sorted(e)) for e in ref.edges}
    assert g.coordinates[5] == (0, 0, 1, 1)
    assert g.family == "chimera" and g.family_shape == (6, 6, 4)


def test_pegasus_patch_is_nice_cells():
    g = topology.pegasus()
    cells = {c[:3] for c in g.coordinates}
    assert len(cells) == 36  # 36 unit cells of 8 qubits, paper App. D
    assert g.degrees().max() == 15


def test_rbm_is_complete_bipartite():
    g = topology.rbm(3, 4)
    assert g.num_edges == 12
    assert g.hierarchy("bipartite").tolist() == [0, 0, 0, 1, 1, 1, 1]


def test_hierarchies():
    g = topology.chimera(2)
    bip = g.hierarchy("bipartite")
    # bipartite groups: no coupling inside a group, so p(z2 | z1) factorizes
    assert np.all(bip[g.edges[:, 0]] != bip[g.edges[:, 1]])
    chains = g.hierarchy("chains")
    assert chains.tolist() == [c[2] for c in g.coordinates]
    # chains: couplings inside groups exist (the vertical/horizontal chains)
    assert np.any(chains[g.edges[:, 0]] == chains[g.edges[:, 1]])
    assert set(topology.pegasus().hierarchy("bipartite")) == {0, 1}
    assert topology.bernoulli(6).hierarchy("bipartite").tolist() == [0, 1, 0, 1, 0, 1]
    with pytest.raises(ValueError, match="chains.*orientations"):
        topology.rbm(2, 2).hierarchy("chains")
    with pytest.raises(ValueError, match="unknown hierarchy mapping"):
        g.hierarchy("diagonal")


def test_adjacency_mask_and_csr():
    g = topology.chimera(1)
    mask = g.adjacency_mask()
    assert mask.shape == (8, 8) and np.array_equal(mask, mask.T) and mask.sum() == 2 * 16
    indptr, nbrs, eidx = g.neighbors_csr()
    assert indptr[-1] == 2 * g.num_edges
    for i in range(g.num_nodes):
        for p in range(indptr[i], indptr[i + 1]):
            assert sorted((i, nbrs[p])) == g.edges[eidx[p]].tolist()


def test_custom_graphs_get_a_proper_coloring():
    g = topology.from_networkx(nx.petersen_graph())
    assert_proper(g)
    assert g.num_colors == 3


def test_bad_graphs_are_rejected():
    with pytest.raises(ValueError, match="self-loops"):
        topology.from_edges(3, [(0, 0)])
    with pytest.raises(ValueError, match="lie in 0..2"):
        topology.from_edges(3, [(0, 5)])
    with pytest.raises(ValueError, match="not a proper colouring"):
        topology.LatentGraph("bad", 2, [(0, 1)], [0, 0])
    with pytest.raises(ValueError, match="unknown latent graph 'hexagon'.*chimera"):
        topology.by_name("hexagon")
    with pytest.raises(ValueError, match="cannot cut"):
        topology.zephyr(2, 4, num_units=1000)
