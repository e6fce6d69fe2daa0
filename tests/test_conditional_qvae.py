"""The class-conditional QVAE (issue #23 part 2) against exact enumeration on 2- and 3-node priors.

``p(z | y) = exp(-E(z) - U_y.z) / Z(y)``. Checked here, each against ground truth:

- the negative phase's gradient (one sampler call, every class's chains, each class weighed
  by its share of the batch) is the exact gradient of ``mean_i log Z(y_i)``, within a
  tolerance of 5 standard errors computed exactly from the per-class variances and chain counts;
- ``generate(labels=...)`` draws ``p(z | y)`` (TV against the exact conditional, the
  conformance kit's McDiarmid bound);
- the importance-weighted ``log p(x | y)`` converges to the enumerated value, within 5 of
  its own delta-method standard errors;
- evaluation, save/load, the data pipeline and the refusals.
"""

from __future__ import annotations

import itertools
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from qhvae.data import load_dataset
from qhvae.evaluate import class_log_partitions, evaluate_model, generative_classifier
from qhvae.evaluate.likelihood import importance_weighted_log_likelihood
from qhvae.exceptions import ConfigError, DataError
from qhvae.testing.statistics import tv_bound_iid
from qhvae.topology import from_edges
from qhvae.vae import QVAE

GRAPHS = {
    "2 nodes": (2, [(0, 1)]),
    "3-node chain": (3, [(0, 1), (1, 2)]),
    "triangle": (3, [(0, 1), (0, 2), (1, 2)]),
}


def _model(graph_name: str, num_classes: int = 2, num_negative_samples: int = 4000, sampler="exact", seed=0):
    num_nodes, edges = GRAPHS[graph_name]
    graph = from_edges(num_nodes, edges, name=graph_name)
    model = QVAE(
        (4, 4, 1),
        graph,
        sampler=sampler,
        network="fc",
        network_options={"hidden": (8,)},
        num_negative_samples=num_negative_samples,
        num_classes=num_classes,
        seed=seed,
    )
    rng = np.random.default_rng(seed)
    prior = model.prior
    prior.b.assign(rng.normal(0, 1, prior.b.shape).astype(np.float32))
    prior.w.assign(rng.normal(0, 1.5, prior.w.shape).astype(np.float32))
    prior.u.assign(rng.normal(0, 1.5, prior.u.shape).astype(np.float32))
    return model


def _states(num_nodes: int) -> np.ndarray:
    return np.array(list(itertools.product((0, 1), repeat=num_nodes)), np.float32)


def _exact_conditionals(model) -> np.ndarray:
    """``(C, 2**L)`` exact ``p(z | y)`` by enumeration (numpy, independent of the prior layer)."""
    states = _states(model.graph.num_nodes).astype(np.float64)
    b, (edges, w) = model.prior.numpy_parameters()
    quad = sum(w[e] * states[:, i] * states[:, j] for e, (i, j) in enumerate(edges))
    out = []
    for y in range(model.num_classes):
        energy = states @ (b + model.prior.u.numpy()[y]) + quad
        p = np.exp(-(energy - energy.min()))
        out.append(p / p.sum())
    return np.array(out)


@pytest.mark.parametrize("graph_name", sorted(GRAPHS))
def test_negative_phase_gradient_is_the_exact_gradient_of_the_mean_class_log_partition(graph_name):
    model = _model(graph_name)
    labels = tf.constant([0, 0, 0, 1], tf.int32)  # class 0 weighs 3/4 of the batch, class 1 1/4
    params = [model.prior.b, model.prior.w, model.prior.u]

    states = tf.constant(_states(model.graph.num_nodes))
    with tf.GradientTape() as tape:
        # mean_i log Z(y_i) by enumeration, through the layer's own energy
        log_z = tf.stack(
            [tf.reduce_logsumexp(-model.prior(states, tf.fill((len(states),), y))) for y in range(model.num_classes)]
        )
        target = tf.reduce_mean(tf.gather(log_z, labels))
    exact = [tf.convert_to_tensor(g).numpy() for g in tape.gradient(target, params)]

    z_bar = model._model_samples()
    with tf.GradientTape() as tape:
        # d log Z(y) / d theta = -E_{p(z|y)}[dE/dtheta]: minus the negative phase's gradient
        estimate = -model._negative_energy(z_bar, labels)
    estimated = [tf.convert_to_tensor(g).numpy() for g in tape.gradient(estimate, params)]

    # Standard errors of the estimate, exactly: class c's chains average per-unit features
    # f(z) = dE/dtheta over n_c independent draws of p(z|c), weighted by its batch share.
    p = _exact_conditionals(model)
    z = _states(model.graph.num_nodes).astype(np.float64)
    edges = model.graph.edges
    feats = np.concatenate([z, np.stack([z[:, i] * z[:, j] for i, j in edges], axis=1)], axis=1)
    share = np.array([0.75, 0.25])
    chains = np.bincount(model.negative_phase.chain_labels)
    var = np.zeros(feats.shape[1])
    u_se = np.zeros((2, z.shape[1]))
    for y in range(2):
        mean = p[y] @ feats
        var_y = p[y] @ (feats - mean) ** 2
        var += share[y] ** 2 * var_y / chains[y]
        u_se[y] = np.sqrt(share[y] ** 2 * var_y[: z.shape[1]] / chains[y])
    se_b, se_w = np.sqrt(var[: z.shape[1]]), np.sqrt(var[z.shape[1] :])
    np.testing.assert_array_less(np.abs(estimated[0] - exact[0]), 5 * se_b + 1e-6)
    np.testing.assert_array_less(np.abs(estimated[1][: len(edges)] - exact[1][: len(edges)]), 5 * se_w + 1e-6)
    np.testing.assert_array_less(np.abs(estimated[2] - exact[2]), 5 * u_se + 1e-6)
    # and the estimate is not trivially right: the classes' gradients differ
    assert np.abs(exact[2][0] - 3 * exact[2][1]).max() > 10 * u_se.max()


@pytest.mark.parametrize("sampler", ["exact", "gibbs"])
def test_generate_draws_each_class_from_its_exact_conditional(sampler):
    model = _model("3-node chain", num_classes=3, num_negative_samples=30, sampler=sampler, seed=1)
    p = _exact_conditionals(model)
    n = 6000
    labels = np.repeat(np.arange(3), n)
    _, z = model.generate(len(labels), seed=5, labels=labels)
    index = z.astype(np.int64) @ (1 << np.arange(z.shape[1])[::-1])
    for y in range(3):
        counts = np.bincount(index[labels == y], minlength=p.shape[1])
        tv = 0.5 * np.abs(counts / n - p[y]).sum()
        # Gibbs chains are not independent draws: allow the bound of n / 4 effective samples
        threshold, _, _ = tv_bound_iid(p[y], n if sampler == "exact" else n // 4)
        assert tv < threshold, (y, tv, threshold)
    # the classes really differ (else the check above could not fail for a label mix-up)
    assert 0.5 * np.abs(p[0] - p[1]).sum() > 0.2


def test_importance_weighted_log_likelihood_matches_enumeration():
    model = _model("3-node chain", num_classes=2, num_negative_samples=20, seed=2)
    rng = np.random.default_rng(0)
    images = (rng.random((3, 4, 4, 1)) < 0.5).astype(np.float32)
    labels = np.array([0, 1, 1])
    log_z = [z.value for z in class_log_partitions(model)]
    states = _states(3)
    for i in range(len(images)):
        x = np.repeat(images[i : i + 1], len(states), axis=0)
        log_px_z = model.log_likelihood_given(x, states).numpy().astype(np.float64)
        energy = model.prior(states, np.full(len(states), labels[i])).numpy().astype(np.float64)
        exact = np.logaddexp.reduce(log_px_z - energy) - log_z[labels[i]]
        k = 20000
        log_w, _ = model.importance_log_weights(images[i : i + 1], k, relaxed=False, labels=labels[i : i + 1])
        w = np.exp(log_w.numpy()[0].astype(np.float64) - log_w.numpy().max())
        rel_se = w.std() / w.mean() / np.sqrt(k)
        estimate = importance_weighted_log_likelihood(
            model, images[i : i + 1], log_z[labels[i]], k, labels=labels[i : i + 1]
        )[0]
        assert abs(estimate - exact) < 5 * rel_se + 1e-4, (i, estimate, exact, rel_se)


def test_class_log_partitions_are_exact_per_class():
    model = _model("triangle", num_classes=3, num_negative_samples=30)
    z = _states(3).astype(np.float64)
    b, (edges, w) = model.prior.numpy_parameters()
    quad = sum(w[e] * z[:, i] * z[:, j] for e, (i, j) in enumerate(edges))
    for y, result in enumerate(class_log_partitions(model)):
        energy = z @ (b + model.prior.u.numpy()[y]) + quad
        assert result.method == "exact"
        assert result.value == pytest.approx(np.logaddexp.reduce(-energy), abs=1e-5)


def test_a_conditional_model_trains_evaluates_saves_and_loads(tmp_path):
    ds = load_dataset("digits", "train").take(256)
    test = load_dataset("digits", "test").take(40)
    model = QVAE(
        (8, 8, 1),
        "chimera",
        graph_kwargs={"m": 1},
        sampler="gibbs",
        network="fc",
        network_options={"hidden": (32,)},
        num_negative_samples=100,
        num_classes=10,
        seed=0,
    )
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = model.fit(ds.to_tf(64, seed=0, with_labels=True), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert np.abs(model.prior.u.numpy()).max() > 0  # the label couplings learn
    x = test.binarize(0).images
    results = evaluate_model(model, x, labels=test.labels, num_samples=20, log_z_replicas=200)
    assert results["conditional"] and len(results["log_z_per_class"]) == 10
    assert np.isfinite(results["log_likelihood"]) and results["log_likelihood"] < 0
    classifier = generative_classifier(
        model, x, test.labels, class_log_partitions(model, num_replicas=200), num_samples=10
    )
    assert 0 <= classifier["accuracy"] <= 1 and len(classifier["per_class_accuracy"]) == 10
    # log p(x) = log sum_y p(x|y) p(y) is at least log p(x|y_true) + log p(y_true) for every image
    assert classifier["marginal_log_likelihood"] > results["log_likelihood"] + np.log(0.1) - 1.0

    path = tmp_path / "conditional.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.num_classes == 10
    np.testing.assert_array_equal(loaded.prior.u.numpy(), model.prior.u.numpy())
    np.testing.assert_array_equal(loaded((x[:5], test.labels[:5])).numpy(), model((x[:5], test.labels[:5])).numpy())


def test_the_pipeline_keeps_labels_with_their_images():
    ds = load_dataset("digits", "train").take(200)
    batches = list(ds.to_tf(50, seed=3, with_labels=True, dynamic_binarization=False))
    images = np.concatenate([b[0].numpy() for b in batches])
    labels = np.concatenate([b[1].numpy() for b in batches])
    flat = ds.images.reshape(len(ds), -1)
    for image, label in zip(images, labels, strict=True):
        rows = np.flatnonzero((flat == image.reshape(-1)).all(axis=1))
        assert label in ds.labels[rows]
    assert sorted(labels.tolist()) == sorted(ds.labels.tolist())


def test_refusals_name_what_is_wrong():
    with pytest.raises(ConfigError, match="num_classes must be 0"):
        QVAE((8, 8, 1), "bernoulli", graph_kwargs={"num_nodes": 4}, network="fc", num_classes=1)
    with pytest.raises(ConfigError, match="cannot cover 10 classes"):
        QVAE(
            (8, 8, 1), "bernoulli", graph_kwargs={"num_nodes": 4}, network="fc", num_classes=10, num_negative_samples=5
        )
    model = QVAE(
        (8, 8, 1),
        "bernoulli",
        graph_kwargs={"num_nodes": 4},
        network="fc",
        network_options={"hidden": (8,)},
        num_classes=3,
        num_negative_samples=30,
    )
    model.compile(optimizer="adam")
    images = np.zeros((6, 8, 8, 1), np.float32)
    with pytest.raises(DataError, match="has no labels"):
        model.fit(images, epochs=1, verbose=0)
    with pytest.raises(DataError, match="classes 0 to 2"):
        model.fit(images, np.array([0, 1, 2, 3, 0, 1]), epochs=1, verbose=0)
    with pytest.raises(ConfigError, match="classes 0 to 2"):
        model.generate(4, labels=7)
    with pytest.raises(ConfigError, match=r"\(4,\) integers"):
        model.generate(4, labels=[0, 1])
    unconditional = QVAE(
        (8, 8, 1),
        "bernoulli",
        graph_kwargs={"num_nodes": 4},
        network="fc",
        network_options={"hidden": (8,)},
        num_negative_samples=30,
    )
    with pytest.raises(ConfigError, match="unconditional"):
        unconditional.generate(4, labels=1)
    with pytest.raises(DataError, match="no labels"):
        load_dataset("binarized_mnist", "train").take(4).to_tf(2, with_labels=True) if False else _unlabelled().to_tf(
            2, with_labels=True
        )


def _unlabelled():
    from qhvae.data import Dataset

    return Dataset(np.zeros((4, 8, 8, 1), np.float32), None, "mine", "train", True, "memory")


@pytest.mark.slow
def test_the_command_line_trains_samples_by_label_evaluates_and_resumes_a_conditional_run(tmp_path, capsys):
    from qhvae.cli import main

    out = tmp_path / "run"
    tiny = [
        "--dataset",
        "digits",
        "--limit",
        "96",
        "--batch-size",
        "32",
        "--network",
        "fc",
        "--network-option",
        "hidden=16",
        "--num-negative-samples",
        "40",
        "--graph-option",
        "m=1",
        "--eval-images",
        "20",
        "--eval-samples",
        "8",
        "--no-tensorboard",
    ]
    assert main(["train", *tiny, "--conditional", "--epochs", "1", "--out", str(out)]) == 0
    assert json.loads((out / "config.json").read_text())["conditional"] is True
    evaluation = json.loads((out / "evaluation.json").read_text())
    assert evaluation["conditional"] and len(evaluation["log_z_per_class"]) == 10
    assert 0 <= evaluation["generative_classifier"]["accuracy"] <= 1
    assert 0 <= evaluation["generated"]["accuracy"] <= 1 and evaluation["generated"]["frechet_distance"] >= 0
    # Trained with Gibbs, but every run's images are drawn by the same equilibrium sampler.
    assert evaluation["generated"]["sampler"] == "pa"
    assert main(["evaluate", str(out), "--generated-only", "--sampler", "gibbs"]) == 0
    rescored = json.loads((out / "evaluation.json").read_text())
    assert rescored["generated"]["sampler"] == "gibbs"
    assert {k: v for k, v in rescored.items() if k != "generated"} == {
        k: v for k, v in evaluation.items() if k != "generated"
    }
    capsys.readouterr()
    assert main(["evaluate", str(out), "--generated-only", "--num-images", "5"]) == 2
    assert "drop --num-images" in " ".join(capsys.readouterr().err.split())
    stale = dict(rescored, step=rescored["step"] - 1)
    (out / "evaluation.json").write_text(json.dumps(stale))
    assert main(["evaluate", str(out), "--generated-only"]) == 2
    assert "evaluate the run again" in " ".join(capsys.readouterr().err.split())
    png = tmp_path / "three.png"
    assert main(["sample", str(out), "--label", "3", "--num", "6", "--out", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["evaluate", str(out), "--num-images", "10", "--num-samples", "4"]) == 0
    assert "test log p(x|y)" in " ".join(capsys.readouterr().out.split())
    assert main(["train", "--resume", str(out), "--epochs", "2"]) == 0  # resumes with its labels
    assert json.loads((out / "progress.json").read_text())["epoch"] == 2
    capsys.readouterr()
    assert main(["sample", str(out), "--label", "10"]) == 2
    assert "classes 0 to 9" in " ".join(capsys.readouterr().err.split())


def test_the_command_line_refuses_conditional_training_without_labels(tmp_path, capsys):
    from qhvae.cli import main

    images = tmp_path / "mine.npy"
    np.save(images, np.zeros((12, 8, 8), np.float32))
    assert main(["train", "--dataset", str(images), "--conditional", "--out", str(tmp_path / "run")]) == 2
    assert "carries no labels" in " ".join(capsys.readouterr().err.split())
    unconditional = tmp_path / "plain"
    assert (
        main(
            [
                "train",
                "--dataset",
                "digits",
                "--limit",
                "64",
                "--batch-size",
                "32",
                "--network",
                "fc",
                "--network-option",
                "hidden=8",
                "--num-negative-samples",
                "16",
                "--graph-option",
                "m=1",
                "--epochs",
                "1",
                "--eval-images",
                "0",
                "--no-tensorboard",
                "--out",
                str(unconditional),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["sample", str(unconditional), "--label", "3"]) == 2
    assert "unconditional" in " ".join(capsys.readouterr().err.split())
