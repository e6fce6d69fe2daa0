"""Keras callbacks that watch a training run: divergence, progress, the sampler, the test set.

They add to the epoch logs (so ``history.csv``, ``progress.json`` and the plots show what
they measure) or stop training; none of them changes the model. The schedules that do
(KL annealing, ``(K, D)``, learning rate) are :mod:`qhvae.vae.training_schedules`. They live here,
above the model, because watching the test set needs :mod:`qhvae.evaluate`, which the
model itself never imports. The finite checks they and the checkpoints share
(:func:`is_finite`, :func:`weights_finite`, :func:`prior_is_finite`) are here too.

Example:
    >>> import keras
    >>> from qhvae.vae.training_schedules import paper_schedules
    >>> callbacks = paper_schedules(20) + [SamplerMonitor(), StopOnNaN()]
    >>> all(isinstance(c, keras.callbacks.Callback) for c in callbacks)
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..tfutil import import_tensorflow_quietly

import_tensorflow_quietly()  # before Keras: its import prints TensorFlow's notices otherwise

import keras  # noqa: E402

from ..evaluate import evaluate_model

__all__ = ["StopOnNaN", "RichProgress", "SamplerMonitor", "TestSetTracker", "is_finite", "weights_finite",
           "prior_is_finite"]


def is_finite(value) -> bool:
    """Whether a metric value is finite everywhere; non-numbers (strings and the like) count as finite.

    Example:
        >>> is_finite(1.0), is_finite([1.0, float("nan")]), is_finite("adam")
        (True, False, True)
    """
    try:
        return bool(np.all(np.isfinite(np.asarray(value, dtype=np.float64))))
    except (TypeError, ValueError):
        return True  # strings and the like are not metrics


def weights_finite(model) -> bool:
    """Whether every weight of a Keras model is finite."""
    return all(np.all(np.isfinite(v.numpy())) for v in model.weights)


def prior_is_finite(model) -> bool:
    """Whether the prior's biases and (masked) couplings are all finite: nothing to evaluate or draw otherwise."""
    b, _ = model.prior.numpy_parameters()
    return bool(np.all(np.isfinite(b)) and np.all(np.isfinite(model.prior.masked_weights().numpy())))


class StopOnNaN(keras.callbacks.Callback):
    """Stop training at the first non-finite loss and say so; checkpoints keep the last good state.

    Attributes:
        message: why training stopped, or ``None``.
    """

    def __init__(self):
        super().__init__()
        self.message: str | None = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.message = (f"the loss became {float(loss)} at epoch {self._epoch + 1}, batch {batch + 1}; "
                            "training stopped (lower the learning rate, or check the data); the last "
                            "checkpoint holds the last finite state")
            self.model.stop_training = True


class RichProgress(keras.callbacks.Callback):
    """A rich progress bar over the whole run, with the latest metrics in its description."""

    def __init__(self, console=None, keys: Sequence[str] = ("loss", "bound", "bound_without_log_z", "recon")):
        super().__init__()
        self.console, self.keys = console, tuple(keys)
        self._progress: Any = None  # a rich Progress from on_train_begin (rich loads there)

    def on_train_begin(self, logs=None):
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        epochs, steps = self.params.get("epochs", 1), self.params.get("steps") or 1
        self._steps = steps
        self._progress = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                                  TimeRemainingColumn(), console=self.console, transient=False)
        self._progress.start()
        self._task = self._progress.add_task("training", total=epochs * steps)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._progress.update(self._task, completed=epoch * self._steps)

    def on_train_batch_end(self, batch, logs=None):
        shown = " ".join(f"{k}={float(logs[k]):.3f}" for k in self.keys if logs and k in logs)
        self._progress.update(self._task, completed=self._epoch * self._steps + batch + 1,
                              description=f"epoch {self._epoch + 1} {shown}")

    def on_train_end(self, logs=None):
        if self._progress is not None:
            self._progress.stop()


class SamplerMonitor(keras.callbacks.Callback):
    """Log the sampler's effective inverse temperature, the prior's weight norm, clipping and sampler time.

    Adds to the epoch logs, so CSV logs, TensorBoard and plots (the paper's Figs. 11 and 13)
    can show them:

    - ``beta_eff``: annealers: the current estimate; classical samplers: 1;
    - ``beta_eff_true``: with the QPU emulator (a device that records the true beta_eff of
      its last call), the value the estimate is after;
    - ``weight_l1``: L1 norm of the prior's couplings;
    - ``sampler_ms_per_step``: wall milliseconds inside the negative-phase sampler per
      training step this epoch (with ``prefetch`` this time overlaps the step's own);
    - ``clipped_h``/``clipped_j`` (QPU samplers, cumulative).
    """

    def on_epoch_begin(self, epoch, logs=None):
        negative = self.model.negative_phase
        self._start = (negative.calls, negative.sampler_seconds)

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        negative = self.model.negative_phase
        sampler = self.model.sampler
        logs["beta_eff"] = float(getattr(sampler, "effective_beta", 1.0))
        device_call = getattr(getattr(sampler, "device", None), "last_call", None)
        if device_call is not None and getattr(device_call, "beta_eff", None) is not None:
            logs["beta_eff_true"] = float(device_call.beta_eff)
        logs["weight_l1"] = float(np.abs(self.model.prior.masked_weights().numpy()).sum())
        calls, seconds = getattr(self, "_start", (0, 0.0))
        if negative.calls > calls:
            logs["sampler_ms_per_step"] = 1e3 * (negative.sampler_seconds - seconds) / (negative.calls - calls)
        counts = getattr(sampler, "clip_counts", None)
        if counts:
            logs["clipped_h"], logs["clipped_j"] = counts["h"], counts["J"]


class TestSetTracker(keras.callbacks.Callback):
    """Evaluate held-out images every few epochs, so curves over training can be drawn (Figs. 5, 6, 8, 9, 11).

    At the end of the first epoch it sees, of every ``every``-th epoch and of the last
    epoch, it adds to the epoch logs:

    - ``test_log_likelihood``: the importance-weighted log-likelihood with
      ``num_samples`` discrete samples per image, ``log Z`` exact when feasible, else
      from population annealing with ``log_z_replicas`` replicas;
    - ``test_active_units``: units whose posterior mean varies by more than 0.01;
    - ``test_log_z``: the ``log Z`` estimate used, and ``test_log_z_stderr`` its standard
      error (0 when exact).

    Other epochs carry no such keys (CSV logs show ``NA``). Evaluating the first epoch
    of every ``fit`` call keeps the CSV columns the same when a run resumes. The
    estimates are cheaper than the final evaluation's (fewer images and samples): they
    show trends, the final ``evaluation.json`` gives the number to quote.

    Args:
        images: ``(N, H, W, 1)`` binary test images.
        every: evaluate every this many epochs.
        num_samples: importance samples per image.
        log_z_replicas: PA replicas of the ``log Z`` estimate.
        seed: seed of the ``log Z`` estimate.
        labels: the images' classes, for a class-conditional model (the log-likelihood is
            then ``log p(x | y)`` and ``test_log_z`` the mean ``log Z(y)`` over the images).

    Example:
        >>> import numpy as np
        >>> TestSetTracker(np.zeros((4, 8, 8, 1), np.float32), every=5).tracks(9, total=20)
        True
    """

    KEYS = ("test_log_likelihood", "test_active_units", "test_log_z", "test_log_z_stderr")

    def __init__(self, images, every: int = 1, num_samples: int = 100, log_z_replicas: int = 1000,
                 seed: int | None = 0, labels=None):
        super().__init__()
        images = np.asarray(images, np.float32)
        if images.ndim != 4 or not len(images):
            raise ValueError(f"need a non-empty (N, H, W, 1) array of test images, got shape {images.shape}")
        if every < 1 or num_samples < 1 or log_z_replicas < 1:
            raise ValueError("every, num_samples and log_z_replicas must be positive")
        self.images, self.every = images, int(every)
        self.num_samples, self.log_z_replicas, self.seed = int(num_samples), int(log_z_replicas), seed
        self.labels = None if labels is None else np.asarray(labels)
        self._first = True

    def tracks(self, epoch: int, total: int | None = None) -> bool:
        """Whether the end of (0-based) ``epoch`` is evaluated (the first epoch of a fit aside)."""
        return (epoch + 1) % self.every == 0 or (total is not None and epoch + 1 >= total)

    def on_train_begin(self, logs=None):
        self._first = True

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        if not (self._first or self.tracks(epoch, (self.params or {}).get("epochs"))):
            return
        self._first = False
        if not prior_is_finite(self.model):
            return  # StopOnNaN and the checkpoint callback report a diverged run
        results = evaluate_model(self.model, self.images, num_samples=self.num_samples, seed=self.seed,
                                 log_z_replicas=self.log_z_replicas, labels=self.labels, elbo_samples=0)
        logs["test_log_likelihood"] = results["log_likelihood"]
        logs["test_active_units"] = float(results["active_units"])
        logs["test_log_z"] = results["log_z"]
        logs["test_log_z_stderr"] = results["log_z_stderr"]
