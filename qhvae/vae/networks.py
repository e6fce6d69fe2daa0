"""Encoder and decoder networks of the paper's convolutional VAE (App. A, Fig. 12)."""

from __future__ import annotations

import math

import keras

__all__ = ["GatedConv2D", "ConvEncoder", "ConvDecoder", "conv_plan"]


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
