"""Placing latent graphs on (mock) QPU working graphs: qhvae.hardware."""

from __future__ import annotations

import dimod
import dwave.graphs as dg
import numpy as np
import pytest
from dwave.system.testing import MockDWaveSampler

from qhvae import hardware as hw
from qhvae import topology
from qhvae.exceptions import SamplerOutputError
from qhvae.samplers.machine import BoltzmannMachine
from qhvae.samplers.qpu.layout import DeviceLayout, spin_parameters


def mock(kind, shape, broken_nodes=None, broken_edges=None):
    return MockDWaveSampler(
        topology_type=kind, topology_shape=list(shape), broken_nodes=broken_nodes, broken_edges=broken_edges
    )


def assert_consistent(p: hw.Placement, device) -> None:
    """Masks agree exactly with the device's nodelist/edgelist; the placement is a subgraph."""
    g = p.graph
    nodes = set(device.nodelist)
    couplers = {frozenset(e) for e in device.edgelist}
    complete = hw.device_graph(device).complete_graph()
    assert p.qubits.shape == (g.num_nodes,)
    assert len(set(p.qubits.tolist())) == g.num_nodes, "qubits must be injective"
    for i, q in enumerate(p.qubits.tolist()):
        assert p.unit_mask[i] == float(q in nodes)
    for e, (i, j) in enumerate(g.edges.tolist()):
        qi, qj = int(p.qubits[i]), int(p.qubits[j])
        assert complete.has_edge(qi, qj), "every coupling must sit on a coupler of the topology"
        usable = qi in nodes and qj in nodes and frozenset((qi, qj)) in couplers
        assert p.edge_mask[e] == float(usable)
    assert p.num_missing_qubits == g.num_nodes - int(p.unit_mask.sum())
    assert p.num_missing_couplers == g.num_edges - int(p.edge_mask.sum())


# ---------------------------------------------------------------------------------------
# Chimera on Chimera
# ---------------------------------------------------------------------------------------


def test_chimera_native_masks_exactly_the_broken_hardware():
    c = dg.chimera_coordinates(4, 4, 4)
    dead = c.chimera_to_linear((0, 0, 0, 1))
    a, b = c.chimera_to_linear((1, 1, 0, 2)), c.chimera_to_linear((1, 1, 1, 3))
    device = mock("chimera", [4, 4, 4], broken_nodes=[dead], broken_edges=[(a, b)])
    g = topology.chimera(2)
    p = hw.place_native(g, device)
    assert p.method == "native"
    assert_consistent(p, device)
    # qubits follow the coordinates on the 4x4 device
    assert p.qubits.tolist() == [c.chimera_to_linear(x) for x in g.coordinates]
    dead_unit = g.coordinates.index((0, 0, 0, 1))
    assert np.flatnonzero(p.unit_mask == 0).tolist() == [dead_unit]
    touching = np.any(g.edges == dead_unit, axis=1)
    assert np.all(p.edge_mask[touching] == 0)
    ia, ib = g.coordinates.index((1, 1, 0, 2)), g.coordinates.index((1, 1, 1, 3))
    broken_edge = np.flatnonzero((g.edges[:, 0] == min(ia, ib)) & (g.edges[:, 1] == max(ia, ib)))
    assert broken_edge.size == 1
    masked = np.flatnonzero(p.edge_mask == 0)
    assert sorted(masked.tolist()) == sorted(np.flatnonzero(touching).tolist() + broken_edge.tolist())
    assert p.num_missing_qubits == 1 and p.num_missing_couplers == int(touching.sum()) + 1
    assert "1 missing" in p.summary()


def test_chimera_native_offset_and_does_not_fit():
    device = mock("chimera", [4, 4, 4])
    c = dg.chimera_coordinates(4, 4, 4)
    g = topology.chimera(2)
    p = hw.place_native(g, device, offset=(2, 1))
    assert p.qubits.tolist() == [c.chimera_to_linear((i + 2, j + 1, u, k)) for i, j, u, k in g.coordinates]
    assert p.num_defects == 0
    assert_consistent(p, device)
    with pytest.raises(ValueError, match="does not fit"):
        hw.place_native(g, device, offset=(3, 0))
    with pytest.raises(ValueError, match="no native"):
        hw.place_native(topology.chimera(2), mock("pegasus", [4]))


def test_offset_search_finds_a_defect_free_spot():
    c = dg.chimera_coordinates(4, 4, 4)
    # defects in cells (0, 0) and (1, 1): the windows at offsets (0,0),(0,1),(1,0),(1,1) are hit
    broken = [c.chimera_to_linear((0, 0, 1, 2)), c.chimera_to_linear((1, 1, 0, 0))]
    device = mock("chimera", [4, 4, 4], broken_nodes=broken)
    g = topology.chimera(2)
    assert hw.place_native(g, device).num_defects > 0
    p = hw.place(g, device)
    assert p.method == "search" and p.num_defects == 0
    assert p.unit_mask.all() and p.edge_mask.all()
    assert_consistent(p, device)
    assert set(p.qubits.tolist()) <= set(device.nodelist)


def test_offset_search_minimizes_defects_when_none_is_perfect():
    c = dg.chimera_coordinates(4, 4, 4)
    # every 2x2 window of a 4x4 grid contains one of the central cells
    broken = [
        c.chimera_to_linear((1, 1, 0, 0)),
        c.chimera_to_linear((1, 2, 0, 0)),
        c.chimera_to_linear((1, 2, 1, 3)),
        c.chimera_to_linear((2, 1, 0, 0)),
        c.chimera_to_linear((2, 1, 1, 1)),
        c.chimera_to_linear((2, 2, 0, 0)),
        c.chimera_to_linear((2, 2, 1, 2)),
    ]
    device = mock("chimera", [4, 4, 4], broken_nodes=broken)
    g = topology.chimera(2)
    brute = min(hw.place_native(g, device, offset=(y, x)).num_defects for y in range(3) for x in range(3))
    p = hw.place_search(g, device)
    assert p.num_defects == brute > 0
    assert_consistent(p, device)


def test_explicit_and_subsampled_candidates():
    c = dg.chimera_coordinates(4, 4, 4)
    device = mock("chimera", [4, 4, 4], broken_nodes=[c.chimera_to_linear((0, 0, 0, 0))])
    g = topology.chimera(2)
    bad, good = hw.place_native(g, device), hw.place_native(g, device, offset=(1, 1))
    p = hw.place_search(g, device, candidates=[bad.qubits, dict(enumerate(good.qubits.tolist()))])
    assert np.array_equal(p.qubits, good.qubits) and p.num_defects == 0
    scrambled = good.qubits[::-1].copy()  # injective but couplings off the topology
    with pytest.raises(ValueError, match="none of the given candidates"):
        hw.place_search(g, device, candidates=[scrambled])
    q = hw.place_search(g, device, candidates=3, seed=0)
    assert q.info["candidates"] <= 3
    assert_consistent(q, device)


def _no_minorminer(monkeypatch):
    """Make minorminer's subgraph search (seconds to its timeout) fail the test if it is started."""

    def refuse(*args, **kwargs):
        raise AssertionError("minorminer's subgraph search ran")

    monkeypatch.setattr("qhvae.hardware.search._subgraph", refuse)


@pytest.mark.timeout(120)  # only a hang: the refusals below need no search at all
def test_graph_too_big_for_the_device_is_a_clear_error(monkeypatch):
    device = mock("chimera", [4, 4, 4])
    g = topology.chimera(6)
    with pytest.raises(ValueError, match="288 units.*128 qubits"):
        hw.place(g, device)
    with pytest.raises(ValueError, match="does not fit"):
        hw.place_native(g, device)
    with pytest.raises(ValueError, match="degree"):
        hw.place(topology.rbm(8, 8), device)
    # P6 has only 5x5 nice cells: refused from the sublattices alone, before any subgraph search
    _no_minorminer(monkeypatch)
    with pytest.raises(ValueError, match=r"does not fit .*no .* sublattice placement lies inside it"):
        hw.place(g, mock("pegasus", [6]))


# ---------------------------------------------------------------------------------------
# Chimera on Pegasus, Pegasus on Pegasus, Zephyr on Zephyr
# ---------------------------------------------------------------------------------------


def test_chimera6_on_pegasus_by_search():
    perfect = mock("pegasus", [8])
    rng = np.random.default_rng(1)
    broken = rng.choice(perfect.nodelist, 12, replace=False).tolist()
    device = mock("pegasus", [8], broken_nodes=broken)
    g = topology.chimera(6)
    with pytest.raises(ValueError, match="no native"):
        hw.place_native(g, device)
    p = hw.place(g, device)
    assert p.method == "search" and p.info["strategy"] == "chimera->pegasus"
    assert_consistent(p, device)
    # it is the best of the sublattice placements
    best = min(
        hw.score_placement(g, hw.device_graph(device), np.array([m(x) for x in g.coordinates]))
        for m in dg.pegasus_sublattice_mappings(
            dg.chimera_graph(6, coordinates=True), dg.pegasus_graph(8)
        )
    )
    assert p.num_defects == sum(best)
    # perfect device: defect free
    q = hw.place(g, perfect)
    assert q.num_defects == 0
    assert_consistent(q, perfect)


def test_pegasus_patch_native_with_nice_coordinates():
    c = dg.pegasus_coordinates(6)
    g = topology.pegasus()
    dead = c.nice_to_linear(g.coordinates[7])
    device = mock("pegasus", [6], broken_nodes=[dead])
    p = hw.place_native(g, device)
    assert p.qubits.tolist() == [c.nice_to_linear(x) for x in g.coordinates]
    assert_consistent(p, device)
    assert np.flatnonzero(p.unit_mask == 0).tolist() == [7]
    shifted = hw.place_native(g, device, offset=(1, 1))
    assert shifted.qubits.tolist() == [c.nice_to_linear((t, y + 1, x + 1, u, k)) for t, y, x, u, k in g.coordinates]
    assert_consistent(shifted, device)
    with pytest.raises(ValueError, match="does not fit"):
        hw.place_native(g, device, offset=(0, 2))
    # auto: native is not perfect, the search (shifts and t-shifts) finds a perfect spot
    best = hw.place(g, device)
    assert best.num_defects == 0
    assert_consistent(best, device)


def test_zephyr_patch_native_on_zephyr():
    c = dg.zephyr_coordinates(4, 4)
    g = topology.zephyr()
    device = mock("zephyr", [4, 4])
    p = hw.place(g, device)
    assert p.method == "native" and p.num_defects == 0
    assert p.qubits.tolist() == [c.zephyr_to_linear(x) for x in g.coordinates]
    assert_consistent(p, device)
    for offset in [(1, 0), (0, 1), (2, 2)]:
        assert_consistent(hw.place_native(g, device, offset=offset), device)
    broken_device = mock("zephyr", [4, 4], broken_nodes=p.qubits[:3].tolist())
    q = hw.place(g, broken_device)
    assert q.num_defects == 0 and q.method == "search"
    assert_consistent(q, broken_device)


# ---------------------------------------------------------------------------------------
# Other graphs and device kinds
# ---------------------------------------------------------------------------------------


def test_bernoulli_uses_working_qubits_only():
    device = mock("chimera", [2, 2, 4], broken_nodes=[0, 1, 2])
    p = hw.place(topology.bernoulli(20), device)
    assert p.unit_mask.all() and p.num_defects == 0
    assert set(p.qubits.tolist()) <= set(device.nodelist)
    assert len(set(p.qubits.tolist())) == 20
    with pytest.raises(ValueError, match="only 32 qubits"):
        hw.place(topology.bernoulli(40), device)


def test_rbm_by_minorminer_on_the_working_graph():
    device = mock("chimera", [2, 2, 4], broken_nodes=[0, 5])
    g = topology.rbm(3, 4)
    p = hw.place(g, device, timeout=5, seed=0)
    assert p.num_defects == 0 and "minorminer" in p.info["strategy"]
    assert_consistent(p, device)


def test_networkx_device_and_explicit_topology():
    nxdev = dg.pegasus_graph(6)
    nxdev.remove_node(100)
    g = topology.pegasus()
    p = hw.place(g, nxdev)
    assert p.device_topology == {"type": "pegasus", "shape": [6]}
    assert 100 not in p.qubits[p.unit_mask > 0]
    bare = dg.chimera_graph(3).copy()
    bare.graph.clear()
    q = hw.place_native(topology.chimera(2), bare, topology={"type": "chimera", "shape": [3, 3, 4]})
    assert q.num_defects == 0
    with pytest.raises(ValueError, match="integer"):
        hw.place(topology.chimera(2), dg.chimera_graph(3, coordinates=True))


# ---------------------------------------------------------------------------------------
# Programming a placement and reading the device back: the QPU sampler's DeviceLayout
# ---------------------------------------------------------------------------------------


def _broken_chimera_placement():
    c = dg.chimera_coordinates(3, 3, 4)
    dead = c.chimera_to_linear((0, 0, 1, 0))
    a, b = c.chimera_to_linear((1, 1, 0, 0)), c.chimera_to_linear((1, 1, 1, 1))
    device = mock("chimera", [3, 3, 4], broken_nodes=[dead], broken_edges=[(a, b)])
    return hw.place_native(topology.chimera(2), device), device


def test_programmed_problem_contains_only_usable_hardware():
    p, device = _broken_chimera_placement()
    g = p.graph
    rng = np.random.default_rng(0)
    b, w = rng.normal(size=g.num_nodes), rng.normal(size=g.num_edges)
    bm = BoltzmannMachine.from_arrays(b, (g.edges, w))
    layout = DeviceLayout.build(bm, p)
    bqm, report = layout.program(bm)  # spin form at beta_eff = 1, no clipping
    h = dict(bqm.linear)
    J = {tuple(sorted(k)): v for k, v in bqm.quadratic.items()}
    nodes, couplers = set(device.nodelist), {frozenset(e) for e in device.edgelist}
    assert set(h) == {int(q) for q in p.qubits[p.unit_mask > 0]} and set(h) <= nodes
    assert len(J) == int(p.edge_mask.sum())
    assert all(frozenset(k) in couplers for k in J)
    for e, (i, j) in enumerate(g.edges.tolist()):
        key = tuple(sorted((int(p.qubits[i]), int(p.qubits[j]))))
        assert (key in J) == bool(p.edge_mask[e])
        if key in J:
            assert J[key] == w[e] / 4
    h_spin, _ = spin_parameters(bm)
    assert h == pytest.approx({int(p.qubits[i]): h_spin[i] for i in np.flatnonzero(p.unit_mask > 0)})
    assert report["dropped_couplings"] == int((p.edge_mask == 0).sum())
    # an (L, L) upper-triangular matrix gives the same couplings
    W = np.zeros((g.num_nodes, g.num_nodes))
    W[g.edges[:, 0], g.edges[:, 1]] = w
    assert layout.program(BoltzmannMachine.from_arrays(b, W, graph=g))[0] == bqm
    with pytest.raises(ValueError, match="expected"):
        DeviceLayout.build(BoltzmannMachine.from_arrays(b[:-1], None), p)
    # the device accepts it as is (a Structured sampler rejects anything off its graph)
    ss = device.sample(bqm, num_reads=3)
    z = layout.to_binary(layout.read_back(ss), bm, rng)
    assert z.shape == (3, g.num_nodes) and set(np.unique(z)) <= {0, 1}  # aggregated reads are expanded
    # a unit-labelled BQM gives the same problem
    unit_bqm = dimod.BinaryQuadraticModel.from_numpy_vectors(b, (g.edges[:, 0], g.edges[:, 1], w), 0.0, "BINARY")
    from_bqm, labels = BoltzmannMachine.from_bqm(unit_bqm)
    assert labels == list(range(g.num_nodes))
    dbqm = DeviceLayout.build(from_bqm, p).program(from_bqm)[0]
    assert dict(dbqm.linear) == pytest.approx(h)
    assert dbqm.num_interactions == len(J)
    with pytest.raises(ValueError, match="not an edge"):  # a coupling the placed graph does not have
        DeviceLayout.build(BoltzmannMachine.from_arrays(b, ([[0, 31]], [1.0])), p)


def test_read_back_round_trip_and_missing_units():
    p, _ = _broken_chimera_placement()
    L = p.graph.num_nodes
    bm = BoltzmannMachine.from_arrays(np.zeros(L), (p.graph.edges, np.zeros(p.graph.num_edges)))
    layout = DeviceLayout.build(bm, p)
    rng = np.random.default_rng(3)
    z = rng.integers(0, 2, size=(5, L)).astype(np.int8)
    usable = p.unit_mask > 0
    qubits = p.qubits[usable].tolist()
    ss = dimod.SampleSet.from_samples(((2 * z - 1)[:, usable], qubits), "SPIN", energy=np.zeros(5))
    spins = layout.read_back(ss)
    assert np.array_equal(spins, 2 * z[:, usable] - 1)
    out = layout.to_binary(spins, bm, rng)
    assert out.dtype == np.uint8 and out.shape == (5, L)
    assert np.array_equal(out[:, usable], z[:, usable])
    # missing units sampled from their bias: p(z=1) = sigmoid(-b)
    b = np.zeros(L)
    b[~usable] = -50.0  # strongly on
    assert np.all(layout.to_binary(spins, BoltzmannMachine.from_arrays(b), rng)[:, ~usable] == 1)
    b[~usable] = 50.0
    assert np.all(layout.to_binary(spins, BoltzmannMachine.from_arrays(b), rng)[:, ~usable] == 0)
    # aggregated samples are expanded by num_occurrences
    agg = dimod.SampleSet.from_samples(
        ((2 * z - 1)[:2, usable], qubits), "SPIN", energy=np.zeros(2), num_occurrences=[3, 1]
    )
    assert np.array_equal(layout.read_back(agg), 2 * z[[0, 0, 0, 1]][:, usable] - 1)
    # columns in any order come back in unit order
    order = rng.permutation(len(qubits))
    shuffled = dimod.SampleSet.from_samples(((2 * z - 1)[:, usable][:, order], [qubits[i] for i in order]), "SPIN",
                                            energy=np.zeros(5), sort_labels=False)
    assert np.array_equal(layout.read_back(shuffled), spins)
    # a usable qubit missing from the sampleset is an error
    short = dimod.SampleSet.from_samples(((2 * z - 1)[:, usable][:, 1:], qubits[1:]), "SPIN", energy=np.zeros(5))
    with pytest.raises(SamplerOutputError, match="not in the sampleset"):
        layout.read_back(short)


def test_config_round_trip():
    p, device = _broken_chimera_placement()
    cfg = p.to_config()
    q = hw.Placement.from_config(cfg, p.graph)
    assert np.array_equal(q.qubits, p.qubits) and np.array_equal(q.edge_mask, p.edge_mask)
    r = hw.Placement.from_config(cfg, p.graph, device=device)
    assert np.array_equal(r.unit_mask, p.unit_mask) and r.num_defects == p.num_defects


@pytest.mark.timeout(300)  # only a hang: a few seconds on a quiet machine, the sublattices scored in numpy
def test_chimera6_on_advantage_sized_pegasus_is_placed_from_its_sublattices(monkeypatch):
    """The paper's setting: a 288-unit Chimera patch on an Advantage-sized P16 with ~3% dead qubits,
    placed by scoring the sublattice placements alone (no minorminer search, which takes its timeout)."""
    perfect = mock("pegasus", [16])
    rng = np.random.default_rng(0)
    broken = rng.choice(perfect.nodelist, int(0.03 * len(perfect.nodelist)), replace=False).tolist()
    device = mock("pegasus", [16], broken_nodes=broken)
    g = topology.chimera(6)
    _no_minorminer(monkeypatch)
    p = hw.place(g, device)
    assert_consistent(p, device)
    assert p.num_missing_qubits <= 5
    assert p.info["strategy"] and not p.info["strategy"].startswith("minorminer"), p.summary()
    assert p.info["candidates"] > 1, p.summary()  # every sublattice placement scored, the best kept
