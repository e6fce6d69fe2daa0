"""Conditional sampling (issue #23): clamped units and per-chain biases, in every built-in sampler
and, through the contract's default, in any plugin; checked against exact enumeration of each
condition's distribution with the same statistics (and thresholds) as the unconditional tests.

A condition's exact target is the reduced machine on its free units (clamping unit j to v_j
adds W_ij v_j to its neighbours' biases), built independently here by brute force: the energy
of every full state with the clamps held, so the reduction in qhvae.samplers.conditions is
itself under test.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import qhvae
from qhvae import topology
from qhvae.exceptions import ConfigError, SamplerOutputError
from qhvae.samplers import BoltzmannMachine, BoltzmannSampler, SampleResult
from qhvae.samplers.conditions import ChainConditions
from qhvae.testing.statistics import Target, all_states, check_batched, check_iid, random_bm

GRAPH = topology.chimera(1)  # 8 units, K_{4,4}
BM = random_bm(GRAPH, 201)
L = GRAPH.num_nodes
N_PER_CONDITION = {"exact": 100_000, "gibbs": 40_000, "sa": 8_000, "plain": 40_000}


def brute_force_target(bm: BoltzmannMachine, biases, mask, values, name: str) -> Target:
    """The exact distribution of the free units under one condition, by enumerating full states."""
    mask = np.zeros(bm.num_variables, bool) if mask is None else np.asarray(mask, bool)
    free = np.flatnonzero(~mask)
    states = np.zeros((2 ** free.size, bm.num_variables), np.uint8)
    states[:, free] = all_states(free.size)
    if mask.any():
        states[:, mask] = np.asarray(values, np.uint8)[mask]
    linear = bm.linear if biases is None else np.asarray(biases, np.float64)
    e = states @ linear + (states[:, bm.edges[:, 0]] * states[:, bm.edges[:, 1]]) @ bm.weights
    p = np.exp(-(e - e.min()))
    log_z = float(np.log(p.sum()) - e.min())
    return Target(name, all_states(free.size), p / p.sum(), log_z)


def conditions_mixed(n_each: int, seed: int = 0):
    """Three conditions in one call: a single clamp, per-chain biases, both; interleaved chains."""
    rng = np.random.default_rng(seed)
    masks = np.zeros((3, L), bool)
    masks[0, 2] = True
    masks[2, [0, 5, 6]] = True
    values = np.zeros((3, L), np.uint8)
    values[0, 2] = 1
    values[2, [0, 5, 6]] = [1, 0, 1]
    biases = np.stack([BM.linear, BM.linear + rng.normal(0, 1.5, L), BM.linear - 1.0])
    which = np.tile(np.arange(3), n_each)
    return which, biases[which], masks[which], values[which], (biases, masks, values)


def check_condition_groups(samples, which, table, independent=True):
    biases, masks, values = table
    for k in range(3):
        rows = samples[which == k]
        assert np.array_equal(rows[:, masks[k]], np.broadcast_to(values[k][masks[k]], rows[:, masks[k]].shape)), \
            f"condition {k}: clamped units moved"
        target = brute_force_target(BM, biases[k], masks[k], values[k], f"condition {k}")
        free = rows[:, ~masks[k]]
        report = check_iid(free, target) if independent else check_batched(free, target)
        assert report.passed, report


class PlainSampler(BoltzmannSampler):
    """A plugin that implements only unconditional ``_sample`` (exact, by enumeration)."""

    name = "plain"

    def _sample(self, bm, num_samples, seed, **params):
        return qhvae.get_sampler("exact")._sample(bm, num_samples, seed)


def _sampler(name):
    if name == "plain":
        return PlainSampler()
    if name == "gibbs":
        return qhvae.get_sampler("gibbs", graph=GRAPH)
    if name == "sa":
        return qhvae.get_sampler("sa", num_sweeps=200)
    return qhvae.get_sampler(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["exact", "gibbs", "sa", "plain"])
def test_mixed_conditions_match_enumeration(name):
    n = N_PER_CONDITION[name]
    which, biases, masks, values, table = conditions_mixed(n)
    samples = _sampler(name).sample_arrays(BM.linear, (BM.edges, BM.weights), 3 * n, seed=7, biases=biases,
                                           clamp_mask=masks, clamp_values=values)
    assert samples.shape == (3 * n, L) and samples.dtype == np.uint8
    check_condition_groups(samples, which, table)


@pytest.mark.slow
def test_pa_conditions_match_enumeration_and_give_log_z_per_condition():
    sampler = qhvae.get_sampler("pa", graph=GRAPH)
    which, biases, masks, values, table = conditions_mixed(300)
    calls = [sampler.sample_bm(BM, 900, seed=100 + c, conditions=ChainConditions.build(
        900, L, biases=biases, clamp_mask=masks, clamp_values=values)) for c in range(30)]
    for k in range(3):
        batches = np.stack([r.samples[which == k] for r in calls])  # calls are independent batches
        assert (batches[..., masks[k]] == values[k][masks[k]]).all()
        target = brute_force_target(BM, table[0][k], masks[k], values[k], f"pa condition {k}")
        report = check_batched(batches[..., ~masks[k]], target)
        assert report.passed, report
    exact = ChainConditions.build(900, L, biases=biases, clamp_mask=masks, clamp_values=values)
    log_z = calls[0].info["log_z_per_condition"]
    for cid, chains in exact.groups():
        k = int(which[chains[0]])
        truth = brute_force_target(BM, table[0][k], table[1][k], table[2][k], "").log_z
        assert abs(log_z[cid] - truth) < 5 * calls[0].info["log_z_stderr_per_condition"][cid] + 0.02


@pytest.mark.slow
def test_pa_native_per_chain_biases_match_enumeration_and_give_log_z_per_condition():
    """Biases without clamps take PA's own path: every condition one population of one anneal."""
    sampler = qhvae.get_sampler("pa", graph=GRAPH)
    which, biases, _, _, table = conditions_mixed(300)
    no_clamp = np.zeros(L, bool)
    calls = [sampler.sample_bm(BM, 900, seed=200 + c, conditions=ChainConditions.build(900, L, biases=biases))
             for c in range(30)]
    assert "num_steps" in calls[0].info  # one anneal, not one per condition
    for k in range(3):
        batches = np.stack([r.samples[which == k] for r in calls])
        target = brute_force_target(BM, table[0][k], no_clamp, np.zeros(L, np.uint8), f"pa condition {k}")
        report = check_batched(batches, target)
        assert report.passed, report
    groups = ChainConditions.build(900, L, biases=biases).groups()
    for call in calls[:5]:
        log_z, stderr = call.info["log_z_per_condition"], call.info["log_z_stderr_per_condition"]
        for cid, chains in groups:
            k = int(which[chains[0]])
            truth = brute_force_target(BM, table[0][k], no_clamp, np.zeros(L, np.uint8), "").log_z
            assert abs(log_z[cid] - truth) < 5 * stderr[cid] + 0.02, (k, log_z[cid], truth, stderr[cid])


def test_gibbs_chains_stay_persistent_per_condition():
    """Successive calls continue each condition's chains even as its biases change (training)."""
    sampler = qhvae.get_sampler("gibbs", graph=GRAPH, num_sweeps=1, burn_in=50)
    n = 4000
    ids = np.repeat([3, 8], n)
    batches = []
    for call in range(8):
        biases = np.where(ids[:, None] == 3, BM.linear, BM.linear + 0.5)
        batches.append(sampler.sample_arrays(BM.linear, (BM.edges, BM.weights), 2 * n, seed=call, biases=biases,
                                             condition_ids=ids))
        if call == 0:
            first = batches[0].copy()
    state = sampler.get_state()
    assert sorted(state["condition_ids"].tolist()) == [3, 8] and state["condition_counts"].tolist() == [n, n]
    # one sweep between calls: consecutive samples of a chain are correlated (persistent), not fresh draws
    same = (batches[1] == first).mean()
    assert same > 0.6, f"only {same:.2f} of the units kept their value after one sweep: the chains restarted"
    stacked = np.stack(batches, axis=1)  # (chains, calls, L)
    for cid, bias in ((3, BM.linear), (8, BM.linear + 0.5)):
        report = check_batched(stacked[ids == cid], brute_force_target(BM, bias, None, None, f"condition {cid}"))
        assert report.passed, report
    clone = qhvae.get_sampler("gibbs", graph=GRAPH, num_sweeps=1, burn_in=50)
    clone.set_state(state)
    biases = np.where(ids[:, None] == 3, BM.linear, BM.linear + 0.5)
    a = sampler.sample_arrays(BM.linear, (BM.edges, BM.weights), 2 * n, seed=99, biases=biases, condition_ids=ids)
    b = clone.sample_arrays(BM.linear, (BM.edges, BM.weights), 2 * n, seed=99, biases=biases, condition_ids=ids)
    assert np.array_equal(a, b), "a restored state must continue the same chains"


@pytest.mark.parametrize("kwargs, message", [
    (dict(clamp_mask=np.ones(L, int), clamp_values=np.zeros(L)), "clamp_mask must be a bool array"),
    (dict(clamp_mask=np.eye(1, L, 0, dtype=bool)[0], clamp_values=np.full(L, 2)), "clamp_values must be 0 or 1"),
    (dict(clamp_mask=np.ones(L, bool), clamp_values=np.zeros(L)), "clamps every unit of chain 0"),
    (dict(clamp_mask=np.zeros((3, L), bool), clamp_values=np.zeros((3, L))), r"clamp_mask must have shape \(5, 8\)"),
    (dict(clamp_mask=np.zeros(L + 1, bool), clamp_values=np.zeros(L + 1)), r"clamp_mask must have shape"),
    (dict(biases=np.zeros((5, L - 1))), r"biases must have shape \(5, 8\)"),
    (dict(biases=np.full(L, np.nan)), "biases must be finite"),
    (dict(clamp_values=np.zeros(L)), "clamp_values needs clamp_mask"),
    (dict(clamp_mask=np.zeros(L, bool)), "clamp_mask needs clamp_values"),
    (dict(biases=np.zeros((5, L)) + np.arange(5)[:, None], condition_ids=np.zeros(5, int)), "share condition 0"),
])
@pytest.mark.parametrize("name", ["exact", "gibbs", "plain"])
def test_bad_conditions_are_refused_naming_the_argument(name, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        _sampler(name).sample_arrays(BM.linear, (BM.edges, BM.weights), 5, seed=0, **kwargs)


@pytest.mark.parametrize("kwargs, message", [
    (dict(condition_biases=np.zeros((3, L))), "condition_biases needs condition_ids"),
    (dict(condition_biases=np.zeros((3, L)), condition_ids=[0, 1, 2, 3, 1]),
     r"condition_ids must index the rows of condition_biases \(0 to 2\); got 3"),
    (dict(condition_biases=np.zeros((3, L)), condition_ids=[0, -1, 2, 0, 1]), "got -1"),
    (dict(condition_biases=np.zeros((3, L)), biases=np.zeros(L), condition_ids=np.zeros(5, int)),
     "give biases .* or condition_biases .*, not both"),
    (dict(condition_biases=np.zeros((3, L - 1)), condition_ids=np.zeros(5, int)),
     r"condition_biases must have shape \(K, 8\)"),
    (dict(condition_biases=np.zeros(L), condition_ids=np.zeros(5, int)), r"condition_biases must have shape \(K, 8\)"),
    (dict(condition_biases=np.array([[0.0] * L, [np.inf] * L]), condition_ids=np.zeros(5, int)),
     "condition_biases must be finite; row 1 has 8 NaN or infinite"),
    (dict(condition_clamp_mask=np.ones((2, L), int), condition_clamp_values=np.zeros((2, L)),
          condition_ids=np.zeros(5, int)), "condition_clamp_mask must be a bool array"),
    (dict(condition_clamp_mask=np.eye(2, L, dtype=bool), condition_clamp_values=np.full((2, L), 3),
          condition_ids=np.zeros(5, int)),
     r"condition_clamp_values must be 0 or 1 on clamped units; got 3 \(row 0, unit 0\)"),
    (dict(condition_clamp_mask=np.eye(2, L, dtype=bool), condition_clamp_values=np.zeros((3, L)),
          condition_ids=np.zeros(5, int)), "condition_clamp_values must have the rows of condition_clamp_mask"),
    (dict(condition_clamp_mask=np.ones((2, L), bool), condition_clamp_values=np.zeros((2, L)),
          condition_ids=np.zeros(5, int)), "condition_clamp_mask clamps every unit of row 0"),
    (dict(condition_clamp_mask=np.eye(2, L, dtype=bool), condition_ids=np.zeros(5, int)),
     "condition_clamp_mask needs condition_clamp_values"),
    (dict(clamp_mask=np.zeros(L, bool), condition_clamp_values=np.zeros((2, L)), condition_ids=np.zeros(5, int)),
     "the clamps' mask and values in the same form"),
    (dict(biases=np.zeros((5, L)), condition_ids=np.zeros((5, 1), int)), r"condition_ids must be \(5,\) integers"),
    (dict(biases=np.zeros((5, L)), condition_ids=np.zeros(5)), r"condition_ids must be \(5,\) integers"),
    # per chain, with ids: a disagreement anywhere, not only in the first chain of a condition
    (dict(clamp_mask=np.eye(5, L, 2, dtype=bool)[[0, 0, 0, 0, 0]], clamp_values=np.zeros((5, L)),
          condition_ids=[4, 4, 9, 9, 9]) | {"clamp_values": np.eye(5, L, 2)[[1, 1, 1, 1, 0]]},
     "chains 2 and 4 share condition 9"),
    (dict(biases=np.tile(np.arange(L, dtype=np.float32), (5, 1)) + np.eye(5, L, 7, dtype=np.float32)[::-1],
          condition_ids=[1, 1, 1, 1, 1]), "chains 0 and 4 share condition 1"),
    (dict(biases=np.full((5, L), np.nan), condition_ids=[0, 0, 1, 1, 1]), "biases must be finite; 40 value"),
    (dict(clamp_mask=np.eye(1, L, 0, dtype=bool)[[0, 0, 0, 0, 0]], clamp_values=np.full((5, L), 2.0),
          condition_ids=[0, 0, 1, 1, 1]), r"clamp_values must be 0 or 1 on clamped units; got 2.0 \(chain 0, unit 0\)"),
])
def test_bad_per_condition_arguments_are_refused_naming_the_argument(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        _sampler("gibbs").sample_arrays(BM.linear, (BM.edges, BM.weights), 5, seed=0, **kwargs)


def _conditions_in_blocks(n_each: int, seed: int = 0):
    """The consumer's pattern: ``condition_ids`` are class labels, each class a contiguous block of
    chains (classes not in order); per-class biases, one class also clamping two units."""
    labels = np.array([2, 0, 1])
    rng = np.random.default_rng(seed)
    table_biases = BM.linear + rng.normal(0.0, 1.0, (3, L))
    table_mask = np.zeros((3, L), bool)
    table_mask[1, [1, 6]] = True
    table_values = np.zeros((3, L), np.uint8)
    table_values[1, 6] = 1
    ids = np.repeat(labels, n_each)
    return ids, table_biases, table_mask, table_values


def test_per_condition_rows_give_the_same_samples_as_per_chain_rows():
    """``condition_biases`` (K, L) indexed by ``condition_ids`` is the per-chain form without the (N, L)
    arrays: the same conditions, so the same samples, call after call (persistent chains)."""
    ids, biases, mask, values = _conditions_in_blocks(50)
    per_chain = dict(biases=biases[ids], clamp_mask=mask[ids], clamp_values=values[ids], condition_ids=ids)
    per_condition = dict(condition_biases=biases, condition_clamp_mask=mask, condition_clamp_values=values,
                         condition_ids=ids)
    mixed = dict(biases=biases[ids].astype(np.float32).astype(np.float64), condition_clamp_mask=mask,
                 condition_clamp_values=values, condition_ids=ids)
    for name in ("gibbs", "exact", "plain"):
        samplers = [_sampler(name) for _ in range(3)]
        for call in range(3):
            a, b = (s.sample_arrays(BM.linear, (BM.edges, BM.weights), ids.size, seed=call, **kw)
                    for s, kw in zip(samplers, (per_chain, per_condition), strict=False))
            assert np.array_equal(a, b), name
        built = ChainConditions.build(ids.size, L, **per_condition)
        assert built.group_ids.tolist() == [2, 0, 1]
        assert np.array_equal(built.biases, biases[ids]) and np.array_equal(built.clamp_mask, mask[ids])
        assert np.array_equal(built.clamp_values, values[ids])
        assert samplers[2].sample_arrays(BM.linear, (BM.edges, BM.weights), ids.size, seed=0, **mixed).shape == \
            (ids.size, L)


@pytest.mark.slow
@pytest.mark.parametrize("form", ["per chain", "per condition"])
def test_gibbs_conditions_in_contiguous_blocks_match_enumeration(form):
    """Class labels as ``condition_ids`` in contiguous blocks (a class-conditional model's call), both forms."""
    n = 20_000
    ids, biases, mask, values = _conditions_in_blocks(n)
    if form == "per chain":
        kw = dict(biases=biases[ids], clamp_mask=mask[ids], clamp_values=values[ids], condition_ids=ids)
    else:
        kw = dict(condition_biases=biases, condition_clamp_mask=mask, condition_clamp_values=values,
                  condition_ids=ids)
    samples = _sampler("gibbs").sample_arrays(BM.linear, (BM.edges, BM.weights), ids.size, seed=11, **kw)
    for label in (2, 0, 1):
        rows = samples[ids == label]
        assert (rows[:, mask[label]] == values[label][mask[label]]).all()
        report = check_iid(rows[:, ~mask[label]],
                           brute_force_target(BM, biases[label], mask[label], values[label], f"class {label}"))
        assert report.passed, report


def test_gibbs_continues_the_same_chains_whatever_the_order_of_calls():
    """Chains persist per condition through calls with other layouts (conditions reordered, fewer or more
    chains, a new condition, clamps changed): each call gives what a sampler restored from the state
    before it gives (``set_state`` starts from the pools alone, not from the last call's block)."""
    sampler = qhvae.get_sampler("gibbs", graph=GRAPH, num_sweeps=2, burn_in=5)
    table = BM.linear + np.random.default_rng(1).normal(0, 1, (4, L))
    mask = np.zeros((4, L), bool)
    mask[:, 3] = True
    layouts = [np.repeat([3, 1], 40), np.repeat([3, 1], 40), np.repeat([1, 3], [10, 40]), np.repeat([3, 1], 40),
               np.tile([0, 1, 3], 30), np.tile([0, 1, 3], 30), np.repeat([3, 1], 40)]
    for call, ids in enumerate(layouts):
        values = np.zeros((4, L), np.uint8)
        values[:, 3] = call % 2  # the clamp's value changes from call to call
        kw = dict(condition_biases=table, condition_clamp_mask=mask, condition_clamp_values=values, condition_ids=ids)
        clone = qhvae.get_sampler("gibbs", graph=GRAPH, num_sweeps=2, burn_in=5)
        clone.set_state(sampler.get_state())
        a = sampler.sample_arrays(BM.linear, (BM.edges, BM.weights), ids.size, seed=call, **kw)
        b = clone.sample_arrays(BM.linear, (BM.edges, BM.weights), ids.size, seed=call, **kw)
        assert np.array_equal(a, b), f"call {call}"
        assert (a[:, 3] == call % 2).all()
    state = sampler.get_state()
    counts = dict(zip(state["condition_ids"].tolist(), state["condition_counts"].tolist(), strict=True))
    assert counts == {0: 30, 1: 40, 3: 40}


def test_a_deep_copy_of_the_gibbs_sampler_continues_its_conditional_chains():
    """A copy (generation copies a persistent sampler) continues the same chains, and its state follows."""
    sampler = qhvae.get_sampler("gibbs", graph=GRAPH, num_sweeps=2, burn_in=5)
    ids, biases, mask, values = _conditions_in_blocks(30)
    kw = dict(condition_biases=biases, condition_clamp_mask=mask, condition_clamp_values=values, condition_ids=ids)
    for call in range(2):
        sampler.sample_arrays(BM.linear, (BM.edges, BM.weights), ids.size, seed=call, **kw)
    twin = copy.deepcopy(sampler)
    for call in range(2, 5):
        a = sampler.sample_arrays(BM.linear, (BM.edges, BM.weights), ids.size, seed=call, **kw)
        b = twin.sample_arrays(BM.linear, (BM.edges, BM.weights), ids.size, seed=call, **kw)
        assert np.array_equal(a, b)
        mine, its = sampler.get_state(), twin.get_state()
        assert mine.keys() == its.keys() and all(np.array_equal(mine[k], its[k]) for k in mine), f"call {call}"


def test_a_sampler_that_moves_a_clamped_unit_is_caught():
    class MovesClamps(PlainSampler):
        def _sample_conditioned(self, bm, conditions, num_samples, seed, **params):
            out = conditions.apply_clamps(self._sample(bm, num_samples, seed).samples)
            out[47, 1] ^= 1
            return SampleResult(out)

    ids, biases, mask, values = _conditions_in_blocks(20)  # chains 40-59: class 1, unit 1 clamped
    with pytest.raises(SamplerOutputError, match=r"clamped units moved \(chain 47\)"):
        MovesClamps().sample_arrays(BM.linear, (BM.edges, BM.weights), ids.size, seed=0, condition_biases=biases,
                                    condition_clamp_mask=mask, condition_clamp_values=values, condition_ids=ids)


def test_an_unconditional_call_is_unchanged_by_the_conditioning_code():
    a = qhvae.get_sampler("gibbs", graph=GRAPH).sample_arrays(BM.linear, (BM.edges, BM.weights), 64, seed=3)
    b = qhvae.get_sampler("gibbs", graph=GRAPH).sample_arrays(BM.linear, (BM.edges, BM.weights), 64, seed=3,
                                                              biases=None)
    assert np.array_equal(a, b)


def test_result_carries_samples_of_the_plain_sampler_type():
    assert isinstance(PlainSampler()._sample(BM, 3, np.random.SeedSequence(0)), SampleResult)


def test_negative_control_clamps_without_their_effect_on_the_neighbours_are_rejected():
    """Sampling the unconditional machine and then overwriting the clamped units (what a sampler that
    ignores the couplings to clamped units would return) must fail the same checks."""
    n = N_PER_CONDITION["exact"]
    which, biases, masks, values, table = conditions_mixed(n)
    exact = qhvae.get_sampler("exact")
    samples = np.empty((3 * n, L), np.uint8)
    for k in range(3):
        rows = which == k
        samples[rows] = exact.sample_arrays(table[0][k], (BM.edges, BM.weights), int(rows.sum()), seed=k)
        samples[np.ix_(rows, masks[k])] = values[k][masks[k]]
    with pytest.raises(AssertionError, match="condition (0|2)"):
        check_condition_groups(samples, which, table)


def test_the_dimod_path_interoperates_with_fix_variables_composite():
    """dwave.preprocessing's FixVariablesComposite over a qhvae sampler samples the conditional."""
    import dimod
    from dwave.preprocessing import FixVariablesComposite

    bqm = BM.to_bqm()
    fixed = {2: 1, 5: 0}
    mask = np.zeros(L, bool)
    mask[list(fixed)] = True
    values = np.zeros(L, np.uint8)
    values[2] = 1
    sampleset = FixVariablesComposite(qhvae.get_sampler("exact")).sample(bqm, fixed_variables=fixed,
                                                                        num_reads=50_000, seed=5)
    samples = dimod.as_samples(sampleset)[0][:, np.argsort(list(sampleset.variables))]
    assert (samples[:, 2] == 1).all() and (samples[:, 5] == 0).all()
    report = check_iid(samples[:, ~mask].astype(np.uint8), brute_force_target(BM, None, mask, values, "fixed"))
    assert report.passed, report
