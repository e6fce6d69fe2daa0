"""Encoder and decoder networks of the QVAE.

Two families, chosen by ``QVAE(network=...)``:

* ``"conv"``: the paper's gated convolutional encoder and decoder (App. A, Fig. 12), sized by
  ``base_filters`` and ``hidden``. The default.
* ``"fc"``: fully connected networks of the kind the DVAE papers used on MNIST (784-512-256
  and back, tanh), sized by ``network_options={"hidden": (512, 256), "activation": "tanh"}``.
  A training step takes about 1/90 of the conv one on 2 CPU cores (``benchmarks/bench_fc_step.py``).

Both produce features ``h`` for the model's two hierarchical posterior heads and Bernoulli
logits ``(N, H, W, 1)`` for ``p(x|z)``; :func:`make_networks` builds either pair.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import keras
import numpy as np

from ..validation import check_int

__all__ = [
    "GatedConv2D",
    "ConvEncoder",
    "ConvDecoder",
    "conv_plan",
    "DenseEncoder",
    "DenseDecoder",
    "NETWORKS",
    "CONV_DEFAULTS",
    "FC_DEFAULTS",
    "Networks",
    "resolve_network_options",
    "make_networks",
]

#: Accepted values of ``QVAE(network=...)``.
NETWORKS = ("conv", "fc")

#: Sizes of the ``"conv"`` network when ``base_filters`` / ``hidden`` are not given (the paper's).
CONV_DEFAULTS = {"base_filters": 32, "hidden": 512}

#: Default ``network_options`` of the ``"fc"`` network (the DVAE papers' MNIST networks).
FC_DEFAULTS: dict[str, Any] = {"hidden": (512, 256), "activation": "tanh"}


def conv_plan(image_size: int, base_filters: int) -> list[tuple[int, int]]:
    """``(filters, stride)`` of the five gated convolutions: two halve the resolution.

    Example:
        >>> conv_plan(28, 32)
        [(32, 1), (32, 2), (64, 1), (64, 2), (64, 1)]
    """
    if image_size < 4:
        raise ValueError(f"images must be at least 4x4 pixels, got {image_size}x{image_size}")
    f = base_filters
    return [(f, 1), (f, 2), (2 * f, 1), (2 * f, 2), (2 * f, 1)]


@keras.saving.register_keras_serializable(package="qhvae")
class GatedConv2D(keras.layers.Layer):
    """``BN(conv_a(x) * sigmoid(conv_g(x)))`` with optional dropout; transposed for upsampling.

    Example:
        >>> import numpy as np
        >>> GatedConv2D(4, 2)(np.zeros((1, 8, 8, 1), "float32")).shape
        TensorShape([1, 4, 4, 4])
    """

    def __init__(self, filters: int, strides: int = 1, kernel_size: int = 3, transpose: bool = False,
                 dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.strides, self.kernel_size = filters, strides, kernel_size
        self.transpose, self.dropout_rate = transpose, dropout
        conv = keras.layers.Conv2DTranspose if transpose else keras.layers.Conv2D
        self.conv = conv(2 * filters, kernel_size, strides=strides, padding="same")
        self.norm = keras.layers.BatchNormalization()
        self.dropout = keras.layers.Dropout(dropout) if dropout else None

    def call(self, x, training=None):
        a, g = keras.ops.split(self.conv(x), 2, axis=-1)
        y = self.norm(a * keras.ops.sigmoid(g), training=training)
        return self.dropout(y, training=training) if self.dropout is not None else y

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, strides=self.strides, kernel_size=self.kernel_size,
                      transpose=self.transpose, dropout=self.dropout_rate)
        return config


@keras.saving.register_keras_serializable(package="qhvae")
class ConvEncoder(keras.layers.Layer):
    """Five gated strided convolutions and a dense layer: ``x -> h`` (features for the posterior heads)."""

    def __init__(self, image_size: int, base_filters: int = 32, hidden: int = 512, **kwargs):
        super().__init__(**kwargs)
        self.image_size, self.base_filters, self.hidden = image_size, base_filters, hidden
        self.convs = [GatedConv2D(f, s) for f, s in conv_plan(image_size, base_filters)]
        self.flatten = keras.layers.Flatten()
        self.dense = keras.layers.Dense(hidden, activation="relu")

    def call(self, x, training=None):
        for conv in self.convs:
            x = conv(x, training=training)
        return self.dense(self.flatten(x))

    def get_config(self):
        config = super().get_config()
        config.update(image_size=self.image_size, base_filters=self.base_filters, hidden=self.hidden)
        return config


@keras.saving.register_keras_serializable(package="qhvae")
class ConvDecoder(keras.layers.Layer):
    """A dense layer, five gated transposed convolutions (dropout 0.2) and a 1-channel logit map."""

    def __init__(self, image_size: int, base_filters: int = 32, hidden: int = 512, dropout: float = 0.2,
                 **kwargs):
        super().__init__(**kwargs)
        self.image_size, self.base_filters, self.hidden, self.dropout_rate = image_size, base_filters, hidden, dropout
        plan = conv_plan(image_size, base_filters)
        self.start = math.ceil(image_size / 4)
        self.dense = keras.layers.Dense(hidden, activation="relu")
        self.project = keras.layers.Dense(self.start * self.start * plan[-1][0], activation="relu")
        self.reshape = keras.layers.Reshape((self.start, self.start, plan[-1][0]))
        self.deconvs = [GatedConv2D(f, s, transpose=True, dropout=dropout) for f, s in reversed(plan)]
        self.out = keras.layers.Conv2D(1, 3, padding="same")

    def call(self, z, training=None):
        x = self.reshape(self.project(self.dense(z)))
        for deconv in self.deconvs:
            x = deconv(x, training=training)
        x = self.out(x)
        # 28 -> 7 -> 28 is exact; odd sizes (e.g. 7x7 crops) are cut back to the image size.
        return x[:, : self.image_size, : self.image_size, :]

    def get_config(self):
        config = super().get_config()
        config.update(image_size=self.image_size, base_filters=self.base_filters, hidden=self.hidden,
                      dropout=self.dropout_rate)
        return config


def _check_activation(name: str, value: Any) -> str:
    # Only names are accepted: a name is what get_config can store and load_model rebuild.
    if not isinstance(value, str):
        raise ValueError(f"{name} must be the name of a Keras activation (e.g. 'tanh'), got {value!r}")
    try:
        keras.activations.get(value)
    except ValueError:
        raise ValueError(f"{name} must be the name of a Keras activation (e.g. 'tanh', 'relu'), "
                         f"got {value!r}") from None
    return value


def _check_hidden(name: str, value: Any) -> tuple[int, ...]:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = [value]  # one hidden layer: `--network-option hidden=16` reads as the integer 16
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) == 0:
        raise ValueError(f"{name} must be a non-empty sequence of positive integers, got {value!r}")
    return tuple(check_int(f"{name}[{i}]", size) for i, size in enumerate(value))


@keras.saving.register_keras_serializable(package="qhvae")
class DenseEncoder(keras.layers.Layer):
    """Flatten, then fully connected layers: ``x -> h`` (features for the posterior heads).

    Args:
        image_size: ``H`` of the ``(H, H, 1)`` images.
        hidden: widths of the hidden layers, input side first; ``h`` has ``hidden[-1]`` features.
        activation: name of the hidden layers' activation.

    Example:
        >>> import numpy as np
        >>> DenseEncoder(8, hidden=(32, 16))(np.zeros((2, 8, 8, 1), "float32")).shape
        TensorShape([2, 16])
    """

    def __init__(self, image_size: int, hidden: Sequence[int] = FC_DEFAULTS["hidden"],
                 activation: str = FC_DEFAULTS["activation"], **kwargs):
        super().__init__(**kwargs)
        self.image_size = check_int("image_size", image_size)
        self.hidden = _check_hidden("hidden", hidden)
        self.activation = _check_activation("activation", activation)
        self.flatten = keras.layers.Flatten()
        self.dense = [keras.layers.Dense(width, activation=activation) for width in self.hidden]

    def call(self, x, training=None):
        x = self.flatten(x)
        for layer in self.dense:
            x = layer(x)
        return x

    def get_config(self):
        config = super().get_config()
        config.update(image_size=self.image_size, hidden=list(self.hidden), activation=self.activation)
        return config


@keras.saving.register_keras_serializable(package="qhvae")
class DenseDecoder(keras.layers.Layer):
    """Fully connected layers (the encoder's widths reversed), then one logit per pixel.

    ``z -> hidden[-1] -> ... -> hidden[0] -> H*H`` logits, reshaped to ``(H, H, 1)``.

    Args:
        image_size: ``H`` of the ``(H, H, 1)`` images.
        hidden: widths of the hidden layers as the encoder lists them (input side first);
            the decoder uses them in reverse order.
        activation: name of the hidden layers' activation.

    Example:
        >>> import numpy as np
        >>> DenseDecoder(8, hidden=(32, 16))(np.zeros((2, 12), "float32")).shape
        TensorShape([2, 8, 8, 1])
    """

    def __init__(self, image_size: int, hidden: Sequence[int] = FC_DEFAULTS["hidden"],
                 activation: str = FC_DEFAULTS["activation"], **kwargs):
        super().__init__(**kwargs)
        self.image_size = check_int("image_size", image_size)
        self.hidden = _check_hidden("hidden", hidden)
        self.activation = _check_activation("activation", activation)
        self.dense = [keras.layers.Dense(width, activation=activation) for width in reversed(self.hidden)]
        self.out = keras.layers.Dense(self.image_size * self.image_size)
        self.reshape = keras.layers.Reshape((self.image_size, self.image_size, 1))

    def call(self, z, training=None):
        for layer in self.dense:
            z = layer(z)
        return self.reshape(self.out(z))

    def get_config(self):
        config = super().get_config()
        config.update(image_size=self.image_size, hidden=list(self.hidden), activation=self.activation)
        return config


def resolve_network_options(network: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Check ``network`` and its ``options``; return the options completed with the defaults.

    The ``"conv"`` network takes no options (``QVAE``'s ``base_filters`` and ``hidden`` size
    it); the ``"fc"`` network takes ``hidden`` (widths, input side first) and ``activation``
    (a Keras activation name). The result is JSON-friendly (lists, not tuples), as stored
    by ``QVAE.get_config``.

    Args:
        network: one of :data:`NETWORKS`.
        options: the options given by the user, or ``None``.

    Returns:
        The complete options of the network.

    Raises:
        ValueError: unknown network, unknown option, or a bad option value.

    Example:
        >>> resolve_network_options("fc", {"hidden": (64, 32)})
        {'hidden': [64, 32], 'activation': 'tanh'}
        >>> resolve_network_options("mlp")
        Traceback (most recent call last):
        ...
        ValueError: unknown network 'mlp'; choose one of 'conv', 'fc'
    """
    if network not in NETWORKS:
        raise ValueError(f"unknown network {network!r}; choose one of {', '.join(map(repr, NETWORKS))}")
    options = dict(options or {})
    accepted = FC_DEFAULTS if network == "fc" else {}
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        hint = (f"accepted: {', '.join(sorted(accepted))}" if accepted
                else "the 'conv' network is sized by QVAE's base_filters and hidden")
        raise ValueError(f"unknown option(s) {unknown} for the {network!r} network; {hint}")
    if network == "conv":
        return {}
    complete = {**FC_DEFAULTS, **options}
    return {
        "hidden": list(_check_hidden("network_options['hidden']", complete["hidden"])),
        "activation": _check_activation("network_options['activation']", complete["activation"]),
    }


class Networks(NamedTuple):
    """What :func:`make_networks` builds: the encoder and decoder, and how to size the heads.

    Attributes:
        encoder: layer ``x (N, H, H, 1) -> h (N, F)``.
        decoder: layer ``z (N, L) -> logits (N, H, H, 1)``.
        head_width: width of the hidden layer of each posterior head.
        head_activation: activation of that layer.
    """

    encoder: keras.layers.Layer
    decoder: keras.layers.Layer
    head_width: int
    head_activation: str


def make_networks(network: str, image_size: int, base_filters: int | None = None, hidden: int | None = None,
                  options: Mapping[str, Any] | None = None) -> Networks:
    """Build the encoder and decoder of a QVAE (layers named ``"encoder"`` and ``"decoder"``).

    Args:
        network: one of :data:`NETWORKS`.
        image_size: ``H`` of the ``(H, H, 1)`` images.
        base_filters, hidden: sizes of the ``"conv"`` network (``None``: the paper's 32 and
            512); the ``"fc"`` network refuses them (its sizes are ``options``).
        options: network options, see :func:`resolve_network_options`.

    Returns:
        A :class:`Networks`. The heads of the ``"conv"`` network are ``hidden`` wide with ReLU
        (as in the paper); those of ``"fc"`` are as wide as its last hidden layer, with its
        activation.

    Raises:
        ValueError: bad network, options or sizes.

    Example:
        >>> nets = make_networks("fc", 8, options={"hidden": (32, 16)})
        >>> type(nets.encoder).__name__, nets.head_width, nets.head_activation
        ('DenseEncoder', 16, 'tanh')
    """
    options = resolve_network_options(network, options)
    if network == "fc":
        given = [name for name, value in (("base_filters", base_filters), ("hidden", hidden)) if value is not None]
        if given:
            raise ValueError(f"{' and '.join(given)} size the 'conv' network; size the 'fc' network with "
                             f"network_options={{'hidden': (512, 256)}}")
        encoder = DenseEncoder(image_size, **options, name="encoder")
        decoder = DenseDecoder(image_size, **options, name="decoder")
        return Networks(encoder, decoder, options["hidden"][-1], options["activation"])
    # int(), not check_int: the conv sizes were always taken as given (e.g. 32.0 from a JSON config).
    base_filters = int(CONV_DEFAULTS["base_filters"] if base_filters is None else base_filters)
    hidden = int(CONV_DEFAULTS["hidden"] if hidden is None else hidden)
    return Networks(ConvEncoder(image_size, base_filters, hidden, name="encoder"),
                    ConvDecoder(image_size, base_filters, hidden, name="decoder"), hidden, "relu")
