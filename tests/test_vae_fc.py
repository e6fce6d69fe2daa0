"""The fully connected QVAE (``network="fc"``): training, saving, configuration, bad options."""

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
tf = pytest.importorskip("tensorflow")
import keras  # noqa: E402

from qhvae.data import load_dataset  # noqa: E402
from qhvae.vae import QVAE, DenseDecoder, DenseEncoder  # noqa: E402

SMALL = dict(image_shape=(8, 8, 1), graph="chimera", graph_kwargs={"m": 1}, sampler="gibbs",
             num_negative_samples=64, seed=0, network="fc", network_options={"hidden": (64, 32)})


def digit_images(n):
    """The first ``n`` 8x8 digits, binarized once with a fixed seed."""
    x = load_dataset("digits", "train", limit=n).images  # grey levels in [0, 1], (n, 8, 8, 1)
    return (np.random.default_rng(0).random(x.shape) < x).astype(np.float32)


def fixed_batch_loss(model, x, num_samples=8):
    """Minus the importance-weighted bound (without log Z) on a fixed batch, with seeded draws."""
    tf.random.set_seed(123)
    log_w, _ = model.importance_log_weights(x, num_samples)
    return -float(np.mean(tf.reduce_logsumexp(log_w, axis=-1) - np.log(num_samples)))


def test_fc_networks_are_fully_connected_and_sized_by_the_options():
    model = QVAE(**SMALL)
    assert isinstance(model.encoder, DenseEncoder) and isinstance(model.decoder, DenseDecoder)
    assert [layer.units for layer in model.encoder.dense] == [64, 32]
    assert [layer.units for layer in model.decoder.dense] == [32, 64]
    assert model.decoder.out.units == 64  # one logit per pixel
    assert model.base_filters is None and model.hidden is None
    # the same two-group posterior heads as the conv model, as wide as the last hidden layer
    assert model.head1.layers[0].units == model.head2.layers[0].units == 32
    assert model.head1.layers[-1].units + model.head2.layers[-1].units == model.graph.num_nodes
    x = digit_images(4)
    assert model.predict(x, verbose=0).shape == (4, 8, 8, 1)
    zeta, log_q, logits = model.posterior(tf.constant(x), 3, False)
    assert zeta.shape == (12, 8) and log_q.shape == (12,) and logits.shape == (12, 8)


@pytest.mark.slow
def test_fc_training_lowers_the_loss_on_a_fixed_batch():
    keras.utils.set_random_seed(0)
    x = digit_images(200)
    model = QVAE(**SMALL)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    before = fixed_batch_loss(model, x[:100])
    history = model.fit(tf.data.Dataset.from_tensor_slices(x).batch(25), epochs=5, verbose=0).history
    after = fixed_batch_loss(model, x[:100])
    assert np.all(np.isfinite(history["loss"]))
    # 40 steps take it from ~39 to ~21 nats (seeded): a clear drop, not noise
    assert after < before - 10.0, (before, after)
    assert history["recon"][-1] < history["recon"][0]


@pytest.mark.slow
def test_fc_save_and_load_round_trip(tmp_path):
    keras.utils.set_random_seed(1)
    model = QVAE(**{**SMALL, "network_options": {"hidden": (48, 24, 16), "activation": "relu"}})
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    x = digit_images(64)
    model.fit(x, batch_size=32, epochs=1, verbose=0)
    before = model.predict(x, verbose=0)
    path = tmp_path / "fc.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded.encoder, DenseEncoder) and loaded.network == "fc"
    assert loaded.network_options == {"hidden": [48, 24, 16], "activation": "relu"}
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), before)
    np.testing.assert_array_equal(loaded.decode(np.eye(8, dtype=np.float32)), model.decode(np.eye(8, dtype=np.float32)))
    assert int(loaded.optimizer.iterations.numpy()) == int(model.optimizer.iterations.numpy()) == 2


def test_fc_config_round_trip():
    model = QVAE(**SMALL)
    config = model.get_config()
    assert config["network"] == "fc"
    assert config["network_options"] == {"hidden": [64, 32], "activation": "tanh"}
    assert config["base_filters"] is None and config["hidden"] is None
    clone = QVAE.from_config(config)
    assert clone.get_config() == config
    assert [v.shape for v in clone.trainable_variables] == [v.shape for v in model.trainable_variables]


def test_conv_stays_the_default():
    config = QVAE((8, 8, 1), "chimera", graph_kwargs={"m": 1}, sampler="gibbs", base_filters=4, hidden=16,
                  num_negative_samples=32).get_config()
    assert config["network"] == "conv" and config["network_options"] == {}
    assert (config["base_filters"], config["hidden"]) == (4, 16)


def test_fc_options_have_defaults():
    model = QVAE(**{**SMALL, "network_options": None})
    assert model.network_options == {"hidden": [512, 256], "activation": "tanh"}
    assert [layer.units for layer in model.encoder.dense] == [512, 256]


def test_one_integer_is_one_hidden_layer():
    # what `--network-option hidden=64` gives
    model = QVAE(**{**SMALL, "network_options": {"hidden": 64}})
    assert model.network_options["hidden"] == [64]
    assert [layer.units for layer in model.encoder.dense] == [64]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(network="mlp"), r"unknown network 'mlp'; choose one of 'conv', 'fc'"),
        (dict(network_options={"hidden": (64, 0)}),
         r"network_options\['hidden'\]\[1\] must be a positive integer, got 0"),
        (dict(network_options={"hidden": (-3,)}),
         r"network_options\['hidden'\]\[0\] must be a positive integer, got -3"),
        (dict(network_options={"hidden": (64, 2.5)}), r"network_options\['hidden'\]\[1\] must be a positive integer"),
        (dict(network_options={"hidden": ()}), r"network_options\['hidden'\] must be a non-empty sequence"),
        (dict(network_options={"hidden": True}), r"network_options\['hidden'\] must be a non-empty sequence"),
        (dict(network_options={"hidden": "64"}), r"network_options\['hidden'\] must be a non-empty sequence"),
        (dict(network_options={"activation": "wiggle"}), r"network_options\['activation'\] must be the name of a "
                                                          r"Keras activation"),
        (dict(network_options={"width": 3}), r"unknown option\(s\) \['width'\] for the 'fc' network; accepted: "
                                              r"activation, hidden"),
        (dict(hidden=128), r"hidden size the 'conv' network; size the 'fc' network with network_options"),
        (dict(base_filters=8), r"base_filters size the 'conv' network"),
        (dict(network="conv", network_options={"hidden": (8,)}), r"unknown option\(s\) \['hidden'\] for the 'conv' "
                                                                 r"network; the 'conv' network is sized by"),
    ],
)
def test_bad_fc_options_are_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        QVAE(**{**SMALL, **kwargs})
