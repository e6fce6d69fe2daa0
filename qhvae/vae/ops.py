"""Random draws for the QVAE's layers and training step."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

__all__ = ["uniform_draws"]


def uniform_draws(shape, minval: float = 0.0, maxval: float = 1.0):
    """Uniform draws that neither leak in eager mode nor change the traced training step.

    Under a global seed (``tf.random.set_seed``, which ``keras.utils.set_random_seed`` and
    so every run sets), each eager ``tf.random.uniform`` call gets a new op seed and with it
    a new kernel that TensorFlow caches for the life of the process
    (tensorflow/tensorflow#37252): about 10 MB per call here, 25 GB over one full-MNIST
    evaluation. Eager calls (evaluation, sampling, the test-set tracker) therefore use the
    stateless op, whose seed is an input rather than an attribute, with the very seed pair
    TensorFlow would have used (so ``tf.random.set_seed`` still makes them reproducible);
    traced calls (the training step) keep the graph's own op seed.
    """
    if tf.executing_eagerly():
        global_seed, op_seed = tf.compat.v1.get_seed(None)
        seed: np.ndarray | tuple[int, int]
        if global_seed is None:  # no global seed: TensorFlow's draws would not repeat either
            seed = np.random.randint(0, 2**31 - 1, size=2)
        else:
            seed = (global_seed, op_seed)
        return tf.random.stateless_uniform(shape, seed, minval, maxval)
    return tf.random.uniform(shape, minval, maxval)
