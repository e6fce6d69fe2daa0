"""Deprecated: training runs moved to :mod:`qhvae.training`, figures to :mod:`qhvae.plots`.

This module re-exports the public names of its former self for one release and warns
(``DeprecationWarning``) when imported. New code imports, for example,
``from qhvae.training import TrainConfig, train_run`` and
``from qhvae.plots import plot_training_curves``.
"""

from __future__ import annotations

import warnings

import numpy as np

from .plots import finish_epoch_axis, image_grid, plot_training_curves, save_figure
from .training.config import (DEFAULT_RUN_DIR, RESUME_OPTIONS, RunError, TrainConfig, TrainingDiverged,
                              default_graph_options)
from .training.evaluation import (evaluate_run, gibbs_chain, load_run, prior_chain_frames, write_gibbs_chain,
                                  write_samples)
from .training.fit import build_model, resume_run, train_run
from .training.rundir import (CHAIN_FILE, CHECKPOINT_FILE, CONFIG_FILE, CURVES_FILE, EVALUATION_FILE, HISTORY_FILE,
                              PROGRESS_FILE, SAMPLER_STATE_FILE, SAMPLES_FILE, read_progress)

__all__ = [
    "TrainConfig",
    "RunError",
    "TrainingDiverged",
    "train_run",
    "resume_run",
    "load_run",
    "read_progress",
    "evaluate_run",
    "write_samples",
    "gibbs_chain",
    "block_gibbs_frames",
    "write_gibbs_chain",
    "plot_training_curves",
    "save_figure",
    "finish_epoch_axis",
    "image_grid",
    "default_graph_options",
    "build_model",
    "DEFAULT_RUN_DIR",
    "RESUME_OPTIONS",
    "CONFIG_FILE",
    "CHECKPOINT_FILE",
    "SAMPLER_STATE_FILE",
    "PROGRESS_FILE",
    "HISTORY_FILE",
    "CURVES_FILE",
    "SAMPLES_FILE",
    "CHAIN_FILE",
    "EVALUATION_FILE",
]

warnings.warn("qhvae.runs is deprecated and goes in the next release: import from qhvae.training "
              "(and qhvae.plots for the figures)", DeprecationWarning, stacklevel=2)


def block_gibbs_frames(model, z: np.ndarray, steps: int, rng: np.random.Generator) -> np.ndarray:
    """Deprecated: :func:`qhvae.training.prior_chain_frames` (one colour class per frame), same shapes.

    Returns:
        ``(steps, C, L)`` states after each block update of the ``(C, L)`` start states ``z``.
    """
    return prior_chain_frames(model, z, steps, rng)
