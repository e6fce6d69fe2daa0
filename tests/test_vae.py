"""The Keras QVAE: prior gradients against hand-computed phases, objective, saving, distribution."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
tf = pytest.importorskip("tensorflow")
import keras  # noqa: E402

import qhvae  # noqa: E402
import qhvae.evaluate  # noqa: E402
from qhvae import topology  # noqa: E402
from qhvae.samplers.base import BoltzmannSampler, SampleResult  # noqa: E402
from qhvae.vae import QVAE, BoltzmannPrior  # noqa: E402

TINY = dict(base_filters=4, hidden=16, num_negative_samples=64, seed=0)


def prior_with(graph, b, w):
    prior = BoltzmannPrior(graph)
    prior.build((None, graph.num_nodes))
    prior.b.assign(np.asarray(b, np.float32))
    prior.w.assign(np.asarray(w, np.float32))
    return prior


def surrogate_gradients(prior, positive, negative):
    """Gradient of mean E(positive) - mean E(negative): the prior part of the training loss."""
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(prior(positive)) - tf.reduce_mean(prior(tf.stop_gradient(negative)))
    gb, gw = tape.gradient(loss, [prior.b, prior.w])
    return gb.numpy(), gw.numpy()


def test_two_unit_gradients_are_positive_minus_negative_phase():
    prior = prior_with(topology.from_edges(2, [(0, 1)]), [0.5, -1.0], [2.0])
    positive = np.array([[1, 1], [1, 0], [0.5, 0.25]], np.float32)  # relaxed values are allowed
    negative = np.array([[0, 1], [1, 1], [0, 0], [0, 1]], np.float32)
    gb, gw = surrogate_gradients(prior, positive, negative)
    # by hand: d/db_i = <z_i>_pos - <z_i>_neg, d/dW_01 = <z_0 z_1>_pos - <z_0 z_1>_neg
    np.testing.assert_allclose(gb, [(1 + 1 + 0.5) / 3 - 1 / 4, (1 + 0 + 0.25) / 3 - 3 / 4], rtol=1e-6)
    np.testing.assert_allclose(gw, [(1 + 0 + 0.125) / 3 - 1 / 4], rtol=1e-6)


def test_three_unit_surrogate_gradient_equals_gradient_of_exact_log_z():
    """With the exact model expectation as negative phase, the surrogate's gradient is d log Z."""
    graph = topology.from_edges(3, [(0, 1), (0, 2), (1, 2)])
    prior = prior_with(graph, [0.3, -0.7, 0.2], [1.5, -2.0, 0.8])
    states = np.array([[(s >> i) & 1 for i in range(3)] for s in range(8)], np.float32)
    with tf.GradientTape() as tape:
        log_z = tf.reduce_logsumexp(-prior(states))
    exact_b, exact_w = tape.gradient(log_z, [prior.b, prior.w])
    # hand-computed expectation under p(z) = exp(-E) / Z
    b, (i, j), w = np.array([0.3, -0.7, 0.2]), np.array([[0, 0, 1], [1, 2, 2]]), np.array([1.5, -2.0, 0.8])
    assert graph.edges.tolist() == [[0, 1], [0, 2], [1, 2]]
    energy = states @ b + (states[:, i] * states[:, j]) @ w
    p = np.exp(-energy) / np.exp(-energy).sum()
    np.testing.assert_allclose(-exact_b.numpy(), p @ states, rtol=1e-5)
    np.testing.assert_allclose(-exact_w.numpy(), p @ (states[:, i] * states[:, j]), rtol=1e-5)
    # surrogate: negative phase weighted by p (the infinite-sample limit of the sampler's samples)
    with tf.GradientTape() as tape:
        surrogate = -tf.reduce_sum(p.astype(np.float32) * prior(states))
    sb, sw = tape.gradient(surrogate, [prior.b, prior.w])
    np.testing.assert_allclose(sb.numpy(), exact_b.numpy(), rtol=1e-5)
    np.testing.assert_allclose(sw.numpy(), exact_w.numpy(), rtol=1e-5)


class FixedSamples(BoltzmannSampler):
    """Returns the same model samples every call, so the negative phase is known."""

    name = "fixed"

    def __init__(self, samples):
        self.samples = np.asarray(samples, np.uint8)

    def _sample(self, bm, num_samples, seed, **params):
        return SampleResult(np.resize(self.samples, (num_samples, bm.num_variables)))


def test_train_step_prior_gradient_is_positive_minus_negative_phase():
    graph = topology.chimera(1)
    z_bar = np.random.default_rng(0).integers(0, 2, (64, 8))
    model = QVAE((8, 8, 1), graph, sampler=FixedSamples(z_bar), k=1, d=1, **TINY)
    model.prior.w.assign(np.random.default_rng(1).uniform(-1, 1, graph.num_edges).astype(np.float32))
    x = tf.constant((np.random.default_rng(2).random((16, 8, 8, 1)) < 0.4).astype(np.float32))
    tf.random.set_seed(7)
    with tf.GradientTape() as tape:
        bound, _ = model._bound(x, training=True)
        loss = -bound - model.kl_weight * tf.reduce_mean(model.prior(model._model_samples()))
    gb, gw = tape.gradient(loss, [model.prior.b, model.prior.w])
    tf.random.set_seed(7)
    zeta = model.posterior(x, 1, True)[0].numpy()  # the same relaxed posterior draws
    e = graph.edges
    np.testing.assert_allclose(gb.numpy(), zeta.mean(0) - z_bar.mean(0), atol=1e-5)
    pos_pairs = (zeta[:, e[:, 0]] * zeta[:, e[:, 1]]).mean(0)
    neg_pairs = (z_bar[:, e[:, 0]] * z_bar[:, e[:, 1]]).mean(0)
    np.testing.assert_allclose(gw.numpy(), pos_pairs - neg_pairs, atol=1e-5)


def test_bernoulli_log_z_is_exact():
    model = QVAE((8, 8, 1), "bernoulli", graph_kwargs={"num_nodes": 12}, **TINY)
    b = np.linspace(-3, 3, 12).astype(np.float32)
    model.prior.b.assign(b)
    exact = qhvae.evaluate.log_partition(b.astype(np.float64), method="exact")
    assert float(model.exact_log_z()) == pytest.approx(exact.value, rel=1e-6)
    assert exact.value == pytest.approx(np.sum(np.log1p(np.exp(-b.astype(np.float64)))), rel=1e-12)
    assert model.sampler.name == "exact"  # an edge-free prior is sampled exactly by default


def digits(n=300):
    from sklearn.datasets import load_digits

    x = (load_digits().images[:n, :, :, None] / 16.0).astype(np.float32)
    return (np.random.default_rng(0).random(x.shape) < x).astype(np.float32)


@pytest.mark.slow
def test_training_lowers_the_loss():
    keras.utils.set_random_seed(0)
    x = digits()
    model = QVAE((8, 8, 1), "chimera", graph_kwargs={"m": 1}, sampler="gibbs", base_filters=8, hidden=64,
                 num_negative_samples=200, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = model.fit(tf.data.Dataset.from_tensor_slices(x).batch(50), epochs=6, verbose=0).history
    assert history["loss"][-1] < history["loss"][0] - 3.0
    assert history["recon"][-1] < history["recon"][0]


@pytest.mark.parametrize(
    "name, kwargs",
    [("chimera", {"m": 2}), ("pegasus", {"m": 2, "rows": 1, "cols": 1}), ("zephyr", {"m": 1, "num_units": 40})],
)
def test_a_saved_graph_keeps_what_hardware_placement_needs(name, kwargs):
    import json

    from qhvae.hardware.device import family_shape
    from qhvae.topology import by_name
    from qhvae.vae.prior import graph_from_config, graph_to_config

    graph = by_name(name, **kwargs)
    config = json.loads(json.dumps(graph_to_config(graph)))
    restored = graph_from_config(config)
    assert family_shape(restored) == family_shape(graph)
    assert (restored.family, restored.num_nodes) == (graph.family, graph.num_nodes)
    np.testing.assert_array_equal(restored.edges, graph.edges)
    del config["family_shape"]  # a model saved before family_shape was kept still loads
    assert graph_from_config(config).family_shape == ()


@pytest.mark.slow
def test_save_and_load_round_trip(tmp_path):
    model = QVAE((8, 8, 1), "chimera", graph_kwargs={"m": 1}, sampler="gibbs", mapping="chains", k=2, d=4, **TINY)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    x = digits(64)
    model.fit(x, batch_size=32, epochs=1, verbose=0)
    before = model.predict(x, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), before)
    assert loaded.graph.num_edges == model.graph.num_edges and loaded.mapping == "chains"
    assert loaded.graph.family_shape == model.graph.family_shape == (1, 1, 4)  # hardware placement needs it
    assert (int(loaded.iw_k.numpy()), int(loaded.iw_d.numpy())) == (2, 4)
    assert loaded.sampler.name == "gibbs"
    np.testing.assert_array_equal(loaded.prior.w.numpy(), model.prior.w.numpy())
    assert len(loaded.optimizer.variables) == len(model.optimizer.variables)
    assert int(loaded.optimizer.iterations.numpy()) == int(model.optimizer.iterations.numpy()) == 2


def test_hardware_masks_zero_dead_couplings():
    graph = topology.chimera(1)
    unit_mask = np.ones(8)
    unit_mask[3] = 0  # a dead qubit
    model = QVAE((8, 8, 1), graph, sampler="gibbs", unit_mask=unit_mask, **TINY)
    model.prior.w.assign(np.ones(graph.num_edges, np.float32))
    w = model.prior.masked_weights().numpy()
    touches = (graph.edges == 3).any(axis=1)
    assert np.all(w[touches] == 0) and np.all(w[~touches] == 1)
    _, (_, w_sampler) = model.prior.numpy_parameters()
    assert np.all(w_sampler[touches] == 0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(graph="hexagon"), "unknown latent graph 'hexagon'"),
        (dict(graph="rbm", graph_kwargs={"n_left": 2, "n_right": 2}, mapping="chains"), "'chains' mapping needs"),
        (dict(image_shape=(8, 9, 1)), r"image_shape must be \(H, H, 1\)"),
        (dict(sampler="nope"), "unknown sampler 'nope'"),
    ],
)
def test_bad_configuration(kwargs, match):
    args = dict(image_shape=(8, 8, 1), graph="chimera", graph_kwargs={"m": 1}, **TINY)
    args.update(kwargs)
    with pytest.raises((ValueError, KeyError), match=match):
        QVAE(**args)


class WrongWidth(FixedSamples):
    def _sample(self, bm, num_samples, seed, **params):
        return SampleResult(np.zeros((num_samples, bm.num_variables + 1), np.uint8))


def test_sampler_with_wrong_width_is_a_clear_error():
    model = QVAE((8, 8, 1), "chimera", graph_kwargs={"m": 1}, sampler=WrongWidth([0]), network="fc",
                 network_options={"hidden": [16]}, num_negative_samples=64, seed=0)
    model.compile(optimizer="adam")
    with pytest.raises(Exception, match=r"returned samples of shape \(64, 9\); expected \(64, 8\)"):
        model.fit(digits(32), batch_size=16, epochs=1, verbose=0)


@pytest.mark.slow
def test_mirrored_strategy_fit_on_two_logical_cpus():
    script = textwrap.dedent(
        """
        import os
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        import numpy as np, tensorflow as tf, keras
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from qhvae.vae import QVAE
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        x = (np.random.default_rng(0).random((64, 8, 8, 1)) < 0.3).astype("float32")
        with strategy.scope():
            model = QVAE((8, 8, 1), "chimera", graph_kwargs={"m": 1}, sampler="gibbs", network="fc",
                         network_options={"hidden": [16]}, num_negative_samples=64, seed=0)
            model.compile(optimizer=keras.optimizers.Adam(1e-3))
        history = model.fit(tf.data.Dataset.from_tensor_slices(x).batch(16), epochs=2, verbose=0).history
        assert strategy.num_replicas_in_sync == 2
        assert all(np.isfinite(history["loss"]))
        print("replicas", strategy.num_replicas_in_sync, "sampler calls", model.negative_phase.calls)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "replicas 2 sampler calls 16" in result.stdout


def _resident_megabytes() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    pytest.skip("no /proc/self/status on this system")


@pytest.mark.slow
def test_eager_sampling_under_a_global_seed_does_not_grow_memory():
    # Each eager tf.random.uniform under a global seed used to leave a cached kernel behind
    # (tensorflow/tensorflow#37252): a full-MNIST evaluation grew a run to 24 GB.
    model = QVAE(image_shape=(8, 8, 1), graph="chimera", graph_kwargs={"m": 1}, network="fc",
                 network_options={"hidden": [16]}, num_negative_samples=16)
    x = (np.random.default_rng(0).random((40, 8, 8, 1)) > 0.5).astype(np.float32)
    keras.utils.set_random_seed(0)
    for _ in range(10):  # warm-up: first-call allocations are not a leak
        model.importance_log_weights(x, 100, relaxed=False)
    before = _resident_megabytes()
    for _ in range(200):
        model.importance_log_weights(x, 100, relaxed=False)
    grown = _resident_megabytes() - before
    assert grown < 25, f"200 eager evaluation calls grew the process by {grown:.0f} MB"


def test_eager_sampling_is_reproducible_under_a_global_seed():
    model = QVAE(image_shape=(8, 8, 1), graph="chimera", graph_kwargs={"m": 1}, **TINY)
    x = (np.random.default_rng(0).random((4, 8, 8, 1)) > 0.5).astype(np.float32)
    draws = []
    for _ in range(2):
        keras.utils.set_random_seed(3)
        draws.append(model.posterior(tf.constant(x), 5, False, relaxed=False)[0].numpy())
    np.testing.assert_array_equal(draws[0], draws[1])
    assert 0 < draws[0].mean() < 1


# ---------------------------------------------------------------- issue #22: what the CLI checks

FC = dict(graph="chimera", graph_kwargs={"m": 1}, sampler="gibbs", sampler_config={"num_sweeps": 2, "burn_in": 5},
          network="fc", network_options={"hidden": [16]}, num_negative_samples=16, seed=0)


@pytest.mark.parametrize("kwargs, option, match", [
    (dict(image_shape=(8.7, 8.7, 1)), None, r"image_shape must be \(H, H, 1\) with an integer H >= 4.*8\.7"),
    (dict(image_shape=(2, 2, 1)), None, r"image_shape must be \(H, H, 1\) with an integer H >= 4"),
    (dict(num_negative_samples=2.5), "num_negative_samples",
     r"num_negative_samples must be a positive integer, got 2\.5"),
    (dict(num_negative_samples=999999999999), "num_negative_samples",
     r"num_negative_samples must be an integer in \[1, 10000000\], got 999999999999 \(each training step holds"),
    (dict(k=1.5), "k", r"k must be a positive integer, got 1\.5"),
    (dict(d=0), "d", r"d must be a positive integer, got 0"),
    (dict(tau=0.0), "tau", r"tau must be a finite number > 0"),
])
def test_the_constructor_refuses_what_train_refuses(kwargs, option, match):
    """``QVAE((8.7, 8.7, 1))`` became (8, 8, 1) and ``num_negative_samples=2.5`` became 2."""
    from qhvae.exceptions import ConfigError
    from qhvae.training import RunError, TrainConfig

    with pytest.raises(ConfigError, match=match):  # a ValueError, and one the CLI reports as the user's
        QVAE(**{**FC, "image_shape": (8, 8, 1), **kwargs})
    if option in ("num_negative_samples", "k", "d"):  # the one rule: `qhvae train` says the same
        with pytest.raises(RunError, match=match):
            TrainConfig(**{option: kwargs[option]}).validate()


def test_num_negative_samples_must_fit_with_the_latent_units():
    with pytest.raises(ValueError, match=r"num_negative_samples = 9000000 with 288 latent units .* at most 7456540"):
        QVAE((8, 8, 1), "chimera", sampler="gibbs", network="fc", network_options={"hidden": [16]},
             num_negative_samples=9_000_000)


@pytest.mark.parametrize("make, match", [
    (lambda x: x * 255, r"values must lie in \[0, 1\] for float data, got range \[0, 255\]"),
    (lambda x: (x * 255).astype(np.uint8), r"integer grey levels up to 255"),
    (lambda x: np.full_like(x, np.nan), r"contains 2048 NaN or infinite value\(s\)"),  # in the first batch
    (lambda x: x[..., 0], r"got a batch of shape \(\w+, 8, 8\): add the channel axis"),
    (lambda x: x.reshape(len(x), 64), r"got a batch of shape \(\w+, 64\): flattened images must be reshaped"),
    (lambda x: np.zeros((len(x), 16, 16, 1), np.float32), r"the model was built for 8x8 images; build one with "
                                                           r"image_shape=\(16, 16, 1\)"),
])
@pytest.mark.slow
@pytest.mark.parametrize("as_dataset", [False, True])
def test_fit_refuses_a_batch_the_model_cannot_take(make, match, as_dataset):
    """Wrong shapes were Keras/TF graph errors; 0..255 floats trained to a meaningless loss; NaN
    input was blamed on the learning rate."""
    x = make(digits(64))
    model = QVAE((8, 8, 1), **FC)
    model.compile(optimizer="adam")
    before = [w.copy() for w in model.get_weights()]
    data = tf.data.Dataset.from_tensor_slices(x).batch(32) if as_dataset else x
    from qhvae.exceptions import DataError

    with pytest.raises(DataError, match=r"the model takes batches of images of shape \(N, 8, 8, 1\) with values "
                                        r"in \[0, 1\]") as info:
        model.fit(data, batch_size=None if as_dataset else 32, epochs=1, verbose=0)
    assert info.match(match)
    assert "learning rate" not in str(info.value)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))  # no step taken
    with pytest.raises(ValueError, match=match):
        model.evaluate(data, batch_size=None if as_dataset else 32, verbose=0)
