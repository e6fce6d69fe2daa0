"""Hidden units in the prior (issue #24) against exact enumeration on small graphs.

``p(z) = sum_h exp(-E(z, h)) / Z``. Three graphs: hidden units uncoupled to each other
(half of a Chimera cell hidden: the exact free energy), a dense hidden layer over a coupled
latent chain (uncoupled hidden units, coupled latents), and two hidden units coupled to each
other (sampled ``h | z``; the evaluation's mean-field proposal). For each: ``log p*(z)``,
the gradient of the prior term with respect to every prior parameter, and the
importance-weighted log-likelihood, each against enumeration over ``(z, h)``. Statistical
checks use fixed seeds and 5 standard errors computed from the sample size.
"""

from __future__ import annotations

import dataclasses
import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from qhvae.data import load_dataset
from qhvae.evaluate import evaluate_model
from qhvae.evaluate.likelihood import importance_weighted_log_likelihood, prior_log_partition
from qhvae.topology import by_name, chimera, from_edges, with_hidden, with_hidden_layer, zephyr
from qhvae.vae import QVAE


def _coupled_graph():
    graph = from_edges(5, [(0, 1), (1, 2), (2, 3), (3, 4), (0, 4), (1, 3)], name="ring5")
    return dataclasses.replace(graph, name="ring5+2h", hidden=np.array([1, 2]), _cache={})


GRAPHS = {
    "chimera cell, one shore hidden": lambda: with_hidden(chimera(1), 0.5),
    "chain + dense hidden layer": lambda: with_hidden_layer(from_edges(3, [(0, 1), (1, 2)]), 2),
    "coupled hidden units": _coupled_graph,
}


def _model(graph, seed=0, scale=1.0):
    model = QVAE(
        (4, 4, 1),
        graph,
        sampler="exact",
        network="fc",
        network_options={"hidden": (8,)},
        num_negative_samples=10,
        seed=seed,
        hidden_sweeps=20,
    )
    rng = np.random.default_rng(seed)
    model.prior.b.assign(rng.normal(0, scale, model.prior.b.shape).astype(np.float32))
    model.prior.w.assign(rng.normal(0, scale, model.prior.w.shape).astype(np.float32))
    return model


def _joint(model):
    """Every ``(z, h)``: latent states ``(S_v, L_v)``, hidden states ``(S_h, H)`` and ``E`` ``(S_v, S_h)`` (numpy)."""
    graph = model.graph
    zs = np.array(list(itertools.product((0, 1), repeat=graph.num_latent)), np.float64)
    hs = np.array(list(itertools.product((0, 1), repeat=graph.num_hidden)), np.float64)
    b, (edges, w) = model.prior.numpy_parameters()
    energy = np.empty((len(zs), len(hs)))
    for i, z in enumerate(zs):
        for j, h in enumerate(hs):
            full = np.empty(graph.num_nodes)
            full[graph.latent_units], full[graph.hidden_units] = z, h
            energy[i, j] = full @ b + sum(w[e] * full[p] * full[q] for e, (p, q) in enumerate(edges))
    return zs, hs, energy


def _features(model, z, h):
    """``dE/d(b, w)`` at one ``(z, h)``."""
    graph = model.graph
    full = np.empty(graph.num_nodes)
    full[graph.latent_units], full[graph.hidden_units] = z, h
    return np.r_[full, [full[p] * full[q] for p, q in graph.edges]]


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_the_joint_energy_from_the_blocks_is_the_whole_graphs_energy(name):
    """``joint_energy`` (which the training step and the evaluation use for coupled hidden units)
    assembles ``E(z, h)`` from the latent, latent-hidden and hidden-hidden blocks: it must be the
    energy of the whole graph's state, for every ``(z, h)``."""
    model = _model(GRAPHS[name]())
    zs, hs, energy = _joint(model)
    z = np.repeat(zs, len(hs), axis=0).astype(np.float32)
    h = np.tile(hs, (len(zs), 1)).astype(np.float32)
    np.testing.assert_allclose(model.prior.joint_energy(z, h).numpy(), energy.ravel(), atol=1e-4)


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_the_log_probability_of_the_latents_is_the_marginal(name):
    model = _model(GRAPHS[name]())
    zs, _, energy = _joint(model)
    exact_free = -np.logaddexp.reduce(-energy, axis=1)
    log_z = np.logaddexp.reduce(-energy.ravel())
    assert prior_log_partition(model).value == pytest.approx(log_z, abs=1e-4)  # Z is the joint machine's
    if not model.graph.hidden_coupled:
        free = model.prior.free_energy(zs.astype(np.float32)).numpy()
        np.testing.assert_allclose(free, exact_free, atol=2e-4)
        return
    with pytest.raises(ValueError, match="coupled"):
        model.prior.free_energy(zs.astype(np.float32))
    # The evaluation's estimator: exp(-F(z)) = E_{h ~ r}[exp(-E(z, h)) / r(h | z)]
    n = 20000
    for i, z in enumerate(zs):
        batch = np.repeat(z[None].astype(np.float32), n, axis=0)
        terms = -model._prior_energy(tf.constant(batch), None, relaxed=False).numpy().astype(np.float64)
        weights = np.exp(terms - terms.max())
        estimate = -(np.log(weights.mean()) + terms.max())
        stderr = weights.std() / weights.mean() / np.sqrt(n)
        assert abs(estimate - exact_free[i]) < 5 * stderr + 1e-4, (z, estimate, exact_free[i], stderr)


@pytest.mark.parametrize("family", ["chimera", "zephyr"])
def test_the_hidden_mean_field_reaches_a_fixed_point_and_never_raises_the_variational_free_energy(family):
    """The proposal of the free-energy estimate for coupled hidden units: sweeps over the hidden
    units' colour classes (two on Chimera, more on Zephyr) are coordinate minimisation of the
    mean field's variational free energy ``E_r[E(z, h)] - H(r)``, which must never rise from one
    sweep to the next, and must end at a fixed point of ``m = sigmoid(-(f(z) + m W_hh))``."""
    graph = with_hidden(chimera(2) if family == "chimera" else zephyr(1, 2, None), 0.5, "random", seed=3)
    assert graph.hidden_coupled
    model = _model(graph, seed=2)
    z = tf.constant(np.random.default_rng(0).integers(0, 2, (16, graph.num_latent)), tf.float32)
    energy, field, w_hh = model.prior._latent_parts(z, None)

    def variational_free_energy(m):
        m = np.clip(m.numpy().astype(np.float64), 1e-12, 1 - 1e-12)
        w = w_hh.numpy().astype(np.float64)
        entropy_term = np.sum(m * np.log(m) + (1 - m) * np.log1p(-m), axis=1)
        return energy.numpy() + np.sum(m * field.numpy(), axis=1) + 0.5 * np.sum((m @ w) * m, axis=1) + entropy_term

    values = [variational_free_energy(model.prior.hidden_mean_field(z, iterations=k)) for k in range(8)]
    for before, after in zip(values[:-1], values[1:], strict=True):
        np.testing.assert_array_less(after, before + 1e-4)
    assert (values[0] - values[-1]).min() > 0.1  # the sweeps do move: the check can fail
    m = model.prior.hidden_mean_field(z, iterations=100)
    np.testing.assert_allclose(m.numpy(), tf.sigmoid(-(field + tf.matmul(m, w_hh))).numpy(), atol=1e-5)


@pytest.mark.parametrize("coupling, halves", [(-3.0, True), (-8.0, False)])
def test_more_hidden_draws_keep_the_free_energy_estimate_unbiased_and_never_loosen_its_log(coupling, halves):
    """``hidden_samples = M``: ``exp(-term)`` stays an unbiased estimate of ``exp(-F(z))``, and the
    mean of ``-term``, which the log-likelihood averages, never moves away from ``-F(z)`` as ``M``
    grows (the mean log of an average of M unbiased estimates does not decrease with M).

    The two hidden units (1, 2) are coupled so that ``p(h | z)`` has two peaks, 00 and 11. At
    coupling -3 the mean-field fixed point stays at the middle (``|W| / 4 < 1``), ``r`` covers both
    peaks and 8 draws at least halve Jensen's gap. At -8 it collapses onto one peak: ``r`` almost
    never proposes the other, and more draws barely help (the gap stays near log 2)."""
    model = _model(_coupled_graph(), seed=4, scale=0.3)
    edges = [tuple(e) for e in np.asarray(model.graph.edges).tolist()]
    w, b = model.prior.w.numpy(), model.prior.b.numpy()
    w[edges.index((1, 2))], b[[1, 2]] = coupling, -coupling / 2
    model.prior.w.assign(w)
    model.prior.b.assign(b)
    zs, _, energy = _joint(model)
    exact_free = -np.logaddexp.reduce(-energy, axis=1)
    n = 4000
    gaps = {}
    for m in (1, 8):
        batch = tf.constant(np.repeat(zs.astype(np.float32), n, axis=0))
        terms = -model._prior_energy(batch, None, relaxed=False, hidden_samples=m).numpy().astype(np.float64)
        terms = terms.reshape(len(zs), n)
        shift = terms.max(axis=1, keepdims=True)
        weights = np.exp(terms - shift)
        estimate = -(np.log(weights.mean(axis=1)) + shift[:, 0])
        stderr = weights.std(axis=1) / weights.mean(axis=1) / np.sqrt(n)
        if halves:  # collapsed, r proposes the other peak with odds of ~1e-12: no finite sample shows it
            np.testing.assert_array_less(np.abs(estimate - exact_free), 5 * stderr + 1e-3)
        gap = -exact_free - terms.mean(axis=1)  # Jensen: >= 0 on average
        gap_se = terms.std(axis=1) / np.sqrt(n)
        np.testing.assert_array_less(-5 * gap_se - 1e-4, gap)
        gaps[m] = (gap, gap_se)
    (g1, s1), (g8, s8) = gaps[1], gaps[8]
    assert g1.min() > 10 * s1.max()  # one draw's gap is really there: the checks can fail
    np.testing.assert_array_less(g8, g1 + 5 * np.hypot(s1, s8))
    if halves:
        np.testing.assert_array_less(g8, g1 / 2 + 5 * np.hypot(s1, s8))
    else:
        np.testing.assert_array_less(g1 / 2, g8)
    with pytest.raises(ValueError, match="hidden_samples"):
        importance_weighted_log_likelihood(model, np.zeros((1, 4, 4, 1), np.float32), 0.0, 4, hidden_samples=0)


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_the_prior_terms_gradient_is_exact_or_unbiased_for_every_prior_parameter(name):
    model = _model(GRAPHS[name](), seed=1)
    zs, hs, energy = _joint(model)
    params = [model.prior.b, model.prior.w]
    num_edges = model.graph.num_edges
    n = 1 if not model.graph.hidden_coupled else 20000
    for z in zs[:: max(1, len(zs) // 4)]:
        row = np.flatnonzero((zs == z).all(axis=1))[0]
        p_h = np.exp(-(energy[row] - energy[row].min()))
        p_h /= p_h.sum()
        feats = np.array([_features(model, z, h) for h in hs])
        exact = p_h @ feats  # dF/dtheta = E_{p(h|z)}[dE/dtheta]
        batch = tf.constant(np.repeat(z[None].astype(np.float32), n, axis=0))
        with tf.GradientTape() as tape:
            mean_energy = tf.reduce_mean(model._prior_energy(batch, None, relaxed=True))
        grads = tape.gradient(mean_energy, params)
        got = np.r_[grads[0].numpy(), grads[1].numpy()[:num_edges]]
        if n == 1:
            np.testing.assert_allclose(got, exact, atol=1e-5)
        else:
            stderr = np.sqrt(p_h @ (feats - exact) ** 2 / n)
            # + 5e-4: float32 means of 20,000 terms (exact latent features come out 1e-4 off)
            np.testing.assert_array_less(np.abs(got - exact), 5 * stderr + 5e-4)
            assert stderr.max() > 1e-3  # the hidden units are really sampled: the check can fail


def _iw_gradient(model, zs, offsets, repeats, batches, prior_term):
    """Mean and standard error over ``batches`` of the gradient, w.r.t. ``(b, w)``, of
    ``logsumexp_k(offsets_k - prior_term(z_k))`` averaged over ``repeats`` draws."""
    params = [model.prior.b, model.prior.w]
    num_edges = model.graph.num_edges
    z = tf.constant(np.tile(zs.astype(np.float32), (repeats, 1)))
    got = []
    for _ in range(batches):
        with tf.GradientTape() as tape:
            terms = tf.reshape(prior_term(z), (repeats, len(zs)))
            bound = tf.reduce_mean(tf.reduce_logsumexp(offsets[None] - terms, axis=1))
        grads = tape.gradient(bound, params)
        got.append(np.r_[grads[0].numpy(), grads[1].numpy()[:num_edges]].astype(np.float64))
    got = np.array(got)
    return got.mean(axis=0), got.std(axis=0, ddof=1) / np.sqrt(batches)


def test_with_k_samples_the_coupled_hidden_units_gradient_is_the_importance_weighted_one():
    """``K = 4`` latents in one importance-weighted bound, ``logsumexp_k(c_k - F(z_k))``: its
    exact gradient is ``sum_k softmax(c - F)_k (-dF(z_k))``. The training step's prior term weighs
    the samples by the mean-field estimate of ``F`` and takes the gradient at a Gibbs draw of
    ``h`` apart from it: its mean gradient matches the exact one. Weighing them by ``E(z_k, h_k)``
    at the gradient's own draw (what the step did before) does not: the check can fail."""
    model = _model(_coupled_graph(), seed=1)
    zs, hs, energy = _joint(model)
    picked = zs[[1, 3, 5, 6]]
    rows = [np.flatnonzero((zs == z).all(axis=1))[0] for z in picked]
    offsets = np.array([0.3, -0.4, 0.1, 0.0], np.float32)
    free = -np.logaddexp.reduce(-energy[rows], axis=1)
    p_h = np.exp(-(energy[rows] - energy[rows].min(axis=1, keepdims=True)))
    p_h /= p_h.sum(axis=1, keepdims=True)
    grad_free = np.array([p_h[i] @ np.array([_features(model, z, h) for h in hs]) for i, z in enumerate(picked)])
    weights = np.exp(offsets - free - np.logaddexp.reduce(offsets - free))
    exact = -(weights @ grad_free)

    new, new_se = _iw_gradient(model, picked, offsets, 2000, 20, lambda z: model._prior_energy(z, None, relaxed=True))
    np.testing.assert_array_less(np.abs(new - exact), 5 * new_se + 1e-3)

    def joint_at_the_gradients_draw(z):
        h = tf.stop_gradient(model.prior.sample_hidden(z, sweeps=model.hidden_sweeps))
        return model.prior.joint_energy(z, h)

    old, old_se = _iw_gradient(model, picked, offsets, 2000, 20, joint_at_the_gradients_draw)
    assert (np.abs(old - exact) > 5 * old_se + 1e-3).any()


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_the_importance_weighted_log_likelihood_converges_to_the_enumerated_one(name):
    model = _model(GRAPHS[name](), seed=2)
    zs, _, energy = _joint(model)
    log_z = np.logaddexp.reduce(-energy.ravel())
    log_pz = np.logaddexp.reduce(-energy, axis=1) - log_z
    rng = np.random.default_rng(3)
    images = (rng.random((2, 4, 4, 1)) < 0.5).astype(np.float32)
    k = 20000
    for image in images:
        x = np.repeat(image[None], len(zs), axis=0)
        log_px_z = model.log_likelihood_given(x, zs.astype(np.float32)).numpy().astype(np.float64)
        exact = np.logaddexp.reduce(log_px_z + log_pz)
        log_w, _ = model.importance_log_weights(image[None], k, relaxed=False)
        w = np.exp(log_w.numpy()[0].astype(np.float64) - log_w.numpy().max())
        rel_se = w.std() / w.mean() / np.sqrt(k)
        estimate = importance_weighted_log_likelihood(model, image[None], log_z, k)[0]
        assert abs(estimate - exact) < 5 * rel_se + 1e-4, (estimate, exact, rel_se)


def test_graph_options_choose_hidden_units_as_documented():
    rbm = by_name("rbm", hidden=0.5)
    assert (rbm.num_latent, rbm.num_hidden, rbm.hidden_coupled) == (144, 144, False)
    assert rbm.hidden.tolist() == list(range(144))  # the left layer: the classical RBM prior over 144 latents
    cell = by_name("chimera", hidden=0.5)
    assert (cell.num_latent, cell.hidden_coupled) == (144, False)  # one colour class: an independent set
    random = by_name("chimera", hidden=0.5, hidden_from="random")
    assert random.hidden_coupled
    layer = by_name("chimera", m=1, hidden_layer=3)
    assert (layer.num_nodes, layer.num_edges, layer.num_latent) == (11, 16 + 24, 8)
    for bad, match in [
        (dict(hidden=1.5), "fraction"),
        (dict(hidden=288), "at least one"),
        (dict(hidden=0.5, hidden_from="best"), "hidden_from"),
        (dict(hidden=0.5, hidden_layer=2), "not both"),
    ]:
        with pytest.raises(ValueError, match=match):
            by_name("chimera", **bad)
    assert len(set(cell.latent_hierarchy())) == 2  # both posterior groups keep units


def test_a_prior_with_hidden_units_trains_evaluates_saves_and_loads(tmp_path):
    ds = load_dataset("digits", "train").take(128)
    test = load_dataset("digits", "test").take(20).binarize(0)
    for graph in (by_name("chimera", m=1, hidden=0.5), by_name("chimera", m=1, hidden=0.5, hidden_from="random")):
        model = QVAE(
            (8, 8, 1),
            graph,
            sampler="gibbs",
            network="fc",
            network_options={"hidden": (16,)},
            num_negative_samples=64,
            seed=0,
        )
        model.compile(optimizer=keras.optimizers.Adam(3e-3))
        history = model.fit(ds.to_tf(64, seed=0), epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"]).all()
        results = evaluate_model(model, test.images, num_samples=10, log_z_replicas=200)
        assert results["hidden_units"] == 4 and 0 <= results["active_hidden_units"] <= 4
        if graph.hidden_coupled:  # the draws of h per z are recorded where they are used
            more = evaluate_model(model, test.images, num_samples=10, log_z_replicas=200, hidden_samples=3)
            assert (results["hidden_samples"], more["hidden_samples"]) == (1, 3)
            assert np.isfinite(more["log_likelihood"]) and more["log_z"] == results["log_z"]
        else:
            assert "hidden_samples" not in results
        assert results["units"] == 4 if "units" in results else True
        images, z = model.generate(3, seed=0)
        assert images.shape == (3, 8, 8, 1) and z.shape == (3, 4)
        path = tmp_path / f"{graph.name}.keras"
        model.save(path)
        loaded = keras.models.load_model(path)
        assert loaded.graph.hidden.tolist() == graph.hidden.tolist()
        np.testing.assert_array_equal(loaded(test.images[:4]).numpy(), model(test.images[:4]).numpy())


def test_the_run_configuration_sets_the_hidden_sweeps_and_leaves_run_names_alone():
    from qhvae.training import TrainConfig
    from qhvae.training.fit import build_model

    config = TrainConfig(
        dataset="digits",
        network="fc",
        network_options={"hidden": [8]},
        num_negative_samples=16,
        graph_options={"m": 1, "hidden": 0.5, "hidden_from": "random"},
        hidden_sweeps=3,
    )
    model = build_model(config, (8, 8, 1))
    assert model.hidden_sweeps == 3 and model.graph.hidden_coupled
    assert model.get_config()["hidden_sweeps"] == 3
