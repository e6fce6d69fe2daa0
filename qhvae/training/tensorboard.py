"""TensorBoard logs of a training run: Keras's scalars, qhvae's own, and pictures of the prior.

:class:`QVAETensorBoard` is Keras's ``TensorBoard`` callback: it writes every entry of the
epoch logs as a scalar, so whatever the monitors of :mod:`qhvae.training.monitors` add before
it (``beta_eff`` and, with the emulator, ``beta_eff_true``; ``weight_l1``; the sampler's
milliseconds per step; ``test_log_likelihood``, ``test_log_z`` with ``test_log_z_stderr`` and
``test_active_units`` on tracked epochs) is plotted beside the loss. It adds what a scalar
cannot show: images decoded from samples of the current prior and one block-Gibbs chain on it,
a few times per run.

The pictures come from fresh block-Gibbs chains on the prior's current parameters, never
from the training sampler: a persistent sampler's chains, or an annealer's beta_eff
estimate, must not move because somebody is watching.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from qhvae.training.monitors import SamplerMonitor
    >>> from qhvae.vae import QVAE
    >>> model = QVAE((8, 8, 1), "chimera", graph_kwargs={"m": 1}, network="fc",
    ...              network_options={"hidden": [16]}, num_negative_samples=16, sampler="gibbs")
    >>> model.compile(optimizer="adam")
    >>> logs = tempfile.mkdtemp()
    >>> _ = model.fit(np.zeros((8, 8, 8, 1), "float32"), epochs=1, batch_size=8, verbose=0,
    ...               callbacks=[SamplerMonitor(), QVAETensorBoard(logs, images_every=1)])
    >>> sorted(p.name for p in Path(logs).iterdir())
    ['train']
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np

from ..tfutil import import_tensorflow_quietly

import_tensorflow_quietly()  # before Keras: its import prints TensorFlow's notices otherwise

import keras  # noqa: E402

from ..plots import image_grid  # noqa: E402
from .monitors import prior_is_finite  # noqa: E402
from .run_evaluation import gibbs_chain, prior_chain_frames  # noqa: E402

__all__ = ["QVAETensorBoard", "TENSORBOARD_DIR", "images_every_for", "tensorboard_installed"]

#: The run directory's TensorBoard folder: ``tensorboard --logdir RUN/tensorboard`` (or the runs' parent).
TENSORBOARD_DIR = "tensorboard"


def tensorboard_installed() -> bool:
    """Whether the ``tensorboard`` package is importable: ``tf.summary``'s writers live in it.

    Example:
        >>> tensorboard_installed() in (True, False)
        True
    """
    return importlib.util.find_spec("tensorboard") is not None


def images_every_for(epochs: int, times: int = 10) -> int:
    """Epochs between two picture logs so that a run of ``epochs`` logs about ``times`` of them.

    Example:
        >>> images_every_for(50), images_every_for(3)
        (5, 1)
    """
    return max(1, int(epochs) // int(times))


class QVAETensorBoard(keras.callbacks.TensorBoard):
    """Keras's TensorBoard callback for a QVAE: epoch scalars plus prior samples and a Gibbs chain.

    Put it after the callbacks that add to the epoch logs (``SamplerMonitor``,
    ``TestSetTracker``) so that their values are logged too.

    Args:
        log_dir: the log folder (a run writes ``RUN/tensorboard``).
        images_every: log the pictures at the end of every this many epochs and of the
            last epoch; ``0`` never.
        num_samples: images in the prior-samples grid.
        burn_in: block-Gibbs sweeps from uniform random states before those images are
            decoded.
        chain_steps: frames of the Gibbs-chain picture (one colour class updated per frame).
        seed: seed of the pictures' chains (epoch ``e`` uses ``seed + e``).
        **kwargs: the rest of ``keras.callbacks.TensorBoard``'s arguments (its graph and
            histograms are off by default here: they cost time and show little for this model).
    """

    def __init__(self, log_dir: str | os.PathLike, images_every: int = 1, num_samples: int = 64,
                 burn_in: int = 100, chain_steps: int = 32, seed: int = 0, **kwargs):
        kwargs.setdefault("write_graph", False)
        kwargs.setdefault("profile_batch", 0)
        super().__init__(log_dir=str(log_dir), **kwargs)
        self.images_every, self.num_samples = int(images_every), int(num_samples)
        self.burn_in, self.chain_steps, self.seed = int(burn_in), int(chain_steps), int(seed)

    def images_due(self, epoch: int) -> bool:
        """Whether the end of (0-based) ``epoch`` logs the pictures."""
        if self.images_every <= 0:
            return False
        last = (self.params or {}).get("epochs")
        return (epoch + 1) % self.images_every == 0 or (last is not None and epoch + 1 >= last)

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        if self.images_due(epoch) and prior_is_finite(self.model):
            self.log_images(epoch)

    def log_images(self, epoch: int) -> None:
        """Write the prior-samples grid and the Gibbs-chain film for ``epoch`` (its step in TensorBoard)."""
        model, seed = self.model, self.seed + int(epoch)
        rng = np.random.default_rng(seed)
        num_classes = getattr(model, "num_classes", 0)
        if self.num_samples > 0 and num_classes:
            # A class-conditional prior: one grid per class, p(z | y).
            per_class = max(4, self.num_samples // num_classes)
            for label in range(num_classes):
                z0 = rng.integers(0, 2, (per_class, model.graph.num_nodes))
                z = prior_chain_frames(model, z0, max(1, self.burn_in), rng, per_sweep=True, label=label)[-1]
                self._image(f"prior_samples/class_{label}", image_grid(model.decode(z)), epoch,
                            f"{per_class} images decoded from block-Gibbs samples of the prior p(z | y={label}) "
                            f"({self.burn_in} sweeps from random states)")
        elif self.num_samples > 0:
            z0 = rng.integers(0, 2, (self.num_samples, model.graph.num_nodes))
            z = prior_chain_frames(model, z0, max(1, self.burn_in), rng, per_sweep=True)[-1]
            self._image("prior_samples", image_grid(model.decode(z)), epoch,
                        f"{self.num_samples} images decoded from block-Gibbs samples of the prior "
                        f"({self.burn_in} sweeps from random states)")
        if self.chain_steps > 0:
            _, frames = gibbs_chain(model, self.chain_steps, seed=seed)
            self._image("gibbs_chain", image_grid(frames, cols=min(8, self.chain_steps)), epoch,
                        "one block-Gibbs chain on the prior, one colour class updated per frame")
        self._train_writer.flush()

    def _image(self, name: str, grid: np.ndarray, epoch: int, description: str) -> None:
        with self._train_writer.as_default():
            self.summary.image(name, np.clip(grid, 0.0, 1.0)[None, :, :, None].astype(np.float32), step=epoch,
                             description=description)
