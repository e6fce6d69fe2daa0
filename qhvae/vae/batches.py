"""Checking what a QVAE is fed: every batch of ``fit`` and ``evaluate``, as ``qhvae train`` checks its data.

:class:`CheckedBatches` is a mixin of :class:`~qhvae.vae.QVAE`: the images' shape when the
step is traced, their values (finite, in [0, 1]) and a conditional model's labels with a few
reductions per step, and a refused batch raised as the :class:`~qhvae.exceptions.DataError`
that says what is wrong, not as the TensorFlow error around it. Also the workaround that lets
Keras build a model from ``(images, labels)`` batches under a multi-worker strategy.
"""

from __future__ import annotations

import contextlib

import keras
import numpy as np
import tensorflow as tf

from ..data.arrays import RANGE_ATOL, check_image_batch, image_batch_shape_problem
from ..exceptions import DataError

__all__ = ["CheckedBatches"]


class CheckedBatches:
    """Batch checks for a Keras model with ``image_shape`` and ``num_classes`` (0: no labels).

    ``train_step`` and ``test_step`` call :meth:`_images` and :meth:`_labels` on their data;
    :meth:`fit` and :meth:`evaluate` turn a refused batch into its :class:`DataError`.
    """

    image_shape: tuple[int, ...]
    num_classes: int
    _input_error: DataError | None  # a refused batch's error, set by the checks, read by _input_errors

    def _images(self, data):
        """The batch's images as float32, checked as ``qhvae train`` checks its data.

        The shape is checked when the step is traced (no cost per step); the values (finite,
        in [0, 1]) by three reductions over the batch, and only a batch that fails them is
        handed to Python (:meth:`_refuse_batch`) to say why. The step's outputs depend on
        the check, so a refused batch changes no weight.
        """
        x = data[0] if isinstance(data, (tuple, list)) else data
        problem = image_batch_shape_problem(tuple(x.shape), self.image_shape)
        if problem:
            raise DataError(problem)
        x = tf.convert_to_tensor(x)
        images = tf.cast(x, tf.float32)
        fits = tf.reduce_all(tf.math.is_finite(images))
        fits = tf.logical_and(fits, tf.reduce_min(images) >= -RANGE_ATOL)
        fits = tf.logical_and(fits, tf.reduce_max(images) <= 1.0 + RANGE_ATOL)
        checked = tf.cond(fits, lambda: tf.constant(True),
                          lambda: tf.numpy_function(self._refuse_batch, [x], tf.bool, stateful=False))
        with tf.control_dependencies([checked]):
            return tf.identity(images)

    def _labels(self, data):
        """The batch's labels as int32 (a class-conditional model), checked to be classes of the model;
        ``None`` for an unconditional model (which ignores any labels a dataset yields)."""
        if not self.num_classes:
            return None
        if not isinstance(data, (tuple, list)) or len(data) < 2 or data[1] is None:
            raise DataError(f"this QVAE is class-conditional ({self.num_classes} classes): it trains and is "
                            "evaluated on (images, labels) batches, e.g. Dataset.to_tf(batch_size, "
                            "with_labels=True); this batch has no labels")
        y = tf.convert_to_tensor(data[1])
        if y.dtype.is_floating or y.dtype.is_bool or y.shape.rank != 1:
            raise DataError(f"labels must be a 1-d integer array (one class per image), got {y.dtype.name} of "
                            f"shape {tuple(y.shape)}")
        labels = tf.cast(y, tf.int32)
        fits = tf.logical_and(tf.reduce_all(labels >= 0), tf.reduce_all(labels < self.num_classes))
        checked = tf.cond(fits, lambda: tf.constant(True),
                          lambda: tf.numpy_function(self._refuse_labels, [labels], tf.bool, stateful=False))
        with tf.control_dependencies([checked]):
            return tf.identity(labels)

    def _refuse_labels(self, labels: np.ndarray) -> np.bool_:
        bad = labels[(labels < 0) | (labels >= self.num_classes)]
        self._input_error = DataError(f"labels must be classes 0 to {self.num_classes - 1} of this "
                                      f"{self.num_classes}-class model, got {sorted(set(bad.tolist()))[:5]}")
        raise self._input_error

    def _refuse_batch(self, batch: np.ndarray) -> np.bool_:
        """Raise the :class:`~qhvae.exceptions.DataError` (a ValueError) that says what is wrong
        with ``batch`` (kept for :meth:`fit`)."""
        try:
            check_image_batch(batch, self.image_shape)
        except ValueError as exc:
            self._input_error = DataError(str(exc))
            raise self._input_error from None
        return np.bool_(True)  # within RANGE_ATOL of what the graph's test allowed: fine after all

    @contextlib.contextmanager
    def _input_errors(self):
        """Raise a refused batch's :class:`ValueError` itself rather than the TensorFlow error around it."""
        self._input_error = None
        try:
            yield
        except tf.errors.OpError:
            error, self._input_error = getattr(self, "_input_error", None), None
            if error is None:
                raise
            raise error from None
        except DataError:
            # Refused while the step was traced: that trace is unfinished, and Keras would reuse
            # its function, which may not create variables (the optimizer's) on a later call.
            self.train_function = self.test_function = None
            raise

    def fit(self, *args, **kwargs):
        """Keras's ``fit``; a batch the model cannot take (its shape, NaN, values outside [0, 1])
        is a :class:`ValueError` that says what the model expects."""
        with self._input_errors():
            return super().fit(*args, **kwargs)  # type: ignore[misc]

    def evaluate(self, *args, **kwargs):
        """Keras's ``evaluate``, with :meth:`fit`'s checks of the batches."""
        with self._input_errors():
            return super().evaluate(*args, **kwargs)  # type: ignore[misc]

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Under a distribution strategy Keras (TensorFlow backend) builds what is unbuilt from
        # the first batch after reducing it with strategy.reduce, which takes one tensor, not a
        # nest (keras-team/keras#20329): a conditional model's (images, labels) batches fail
        # there with more than one worker. Only the batch's shapes and dtypes are used, so give
        # Keras every distributed value's first local copy instead.
        strategy = getattr(self, "_distribute_strategy", None)
        if iterator is not None and strategy is not None:
            for _, _, it in iterator:
                data_batch = keras.tree.map_structure(
                    lambda v: strategy.experimental_local_results(v)[0]
                    if isinstance(v, tf.distribute.DistributedValues) else v, next(it))
                break
            iterator = None
        return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)  # type: ignore[misc]
