"""Keras callbacks for the paper's training schedules (App. A).

The callbacks that watch a run without changing it (:class:`~qhvae.training.monitors.StopOnNaN`,
``RichProgress``, ``SamplerMonitor``, ``TestSetTracker``) live in :mod:`qhvae.training.monitors`.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

__all__ = [
    "KLAnnealing",
    "ImportanceSampleAnnealing",
    "ExponentialLearningRate",
    "paper_schedules",
    "PAPER_KD_SCHEDULE",
]

PAPER_KD_SCHEDULE = ((1, 8), (2, 4), (2, 4), (4, 2), (4, 2), (8, 1))


class KLAnnealing(keras.callbacks.Callback):
    """Raise the KL weight linearly from ``start`` to 1 over ``epochs`` epochs, batch by batch.

    Paper: from 0 to its full value within 200 of 2000 epochs.

    Example:
        >>> KLAnnealing(epochs=200).weight_at(100.0)
        0.5
    """

    def __init__(self, epochs: float = 200, start: float = 0.0):
        super().__init__()
        if epochs <= 0 or not 0 <= start <= 1:
            raise ValueError(f"need epochs > 0 and 0 <= start <= 1, got {epochs} and {start}")
        self.epochs, self.start = float(epochs), float(start)
        self._epoch = 0

    def weight_at(self, epoch: float) -> float:
        return float(min(1.0, self.start + (1.0 - self.start) * epoch / self.epochs))

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        steps = (self.params or {}).get("steps") or 1
        self.model.kl_weight.assign(self.weight_at(self._epoch + batch / steps))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["kl_weight"] = float(self.model.kl_weight.numpy())


class ImportanceSampleAnnealing(keras.callbacks.Callback):
    """Change ``(K, D)`` every ``every`` epochs along ``schedule`` (paper: every 200 epochs).

    Example:
        >>> ImportanceSampleAnnealing(every=200).kd_at(450)
        (2, 4)
    """

    def __init__(self, schedule: Sequence[tuple[int, int]] = PAPER_KD_SCHEDULE, every: int = 200):
        super().__init__()
        if every < 1 or not schedule or any(k < 1 or d < 1 for k, d in schedule):
            raise ValueError("need every >= 1 and a non-empty schedule of positive (K, D) pairs")
        self.schedule, self.every = [(int(k), int(d)) for k, d in schedule], int(every)

    def kd_at(self, epoch: int) -> tuple[int, int]:
        return self.schedule[min(epoch // self.every, len(self.schedule) - 1)]

    def on_epoch_begin(self, epoch, logs=None):
        k, d = self.kd_at(epoch)
        self.model.iw_k.assign(k)
        self.model.iw_d.assign(d)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["iw_k"], logs["iw_d"] = self.kd_at(epoch)


class ExponentialLearningRate(keras.callbacks.Callback):
    """Decay the learning rate exponentially from ``initial`` to ``final`` over ``epochs``, then hold.

    Paper: Adam from 3e-3 to 1e-4 after 1800 epochs.

    Example:
        >>> round(ExponentialLearningRate(3e-3, 1e-4, 1800).rate_at(1800), 6)
        0.0001
    """

    def __init__(self, initial: float = 3e-3, final: float = 1e-4, epochs: float = 1800):
        super().__init__()
        if not (initial > 0 and final > 0 and epochs > 0):
            raise ValueError("learning rates and the decay length must be positive")
        self.initial, self.final, self.epochs = float(initial), float(final), float(epochs)

    def rate_at(self, epoch: float) -> float:
        return self.initial * (self.final / self.initial) ** min(1.0, epoch / self.epochs)

    def on_epoch_begin(self, epoch, logs=None):
        self.model.optimizer.learning_rate.assign(self.rate_at(epoch))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(np.asarray(self.model.optimizer.learning_rate))


def paper_schedules(epochs: int, *, paper_epochs: int = 2000, initial_lr: float = 3e-3,
                    final_lr: float = 1e-4, kl_fraction: float = 0.1) -> list[keras.callbacks.Callback]:
    """The paper's three schedules scaled to an ``epochs`` budget.

    The paper trains 2000 epochs: KL annealed over the first 200, ``(K, D)`` changed
    every 200, learning rate decayed until epoch 1800. A shorter run keeps the same
    fractions (KL over 10%, ``(K, D)`` every 10%, decay over 90%).

    Example:
        >>> [type(c).__name__ for c in paper_schedules(20)]
        ['KLAnnealing', 'ImportanceSampleAnnealing', 'ExponentialLearningRate']
    """
    scale = epochs / paper_epochs
    return [
        KLAnnealing(epochs=max(kl_fraction * epochs, 1e-9)),
        ImportanceSampleAnnealing(every=max(1, round(200 * scale))),
        ExponentialLearningRate(initial_lr, final_lr, epochs=max(1800 * scale, 1e-9)),
    ]
