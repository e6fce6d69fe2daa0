"""Training runs on disk: train, checkpoint, resume, watch, evaluate.

- :mod:`~qhvae.training.config`: :class:`TrainConfig`, what a run is, and the run errors
- :mod:`~qhvae.training.inputs`: the images a run trains and is evaluated on
- :mod:`~qhvae.training.rundir`: the run directory's files, atomic writes, the progress record
- :mod:`~qhvae.training.checkpoint`: checkpoints, each a folder published by one atomic rename
- :mod:`~qhvae.training.history`: ``history.csv``, its logger, checked against the run's record on resume
- :mod:`~qhvae.training.guard`: the run's lock, the output-folder check, prompt interrupts
- :mod:`~qhvae.training.fit`: :func:`train_run`, :func:`resume_run`, the fit loop
- :mod:`~qhvae.training.monitors`: callbacks that watch training (NaN, progress, sampler, test set), finite checks
- :mod:`~qhvae.training.run_evaluation`: :func:`evaluate_run`, samples and Gibbs-chain pictures
- :mod:`~qhvae.training.tensorboard`: :class:`QVAETensorBoard`, the run's TensorBoard logs
- :mod:`~qhvae.training.console`: ``say``, the notes printed on a ``rich`` console (or not at all)

The names below are imported on first use: ``from qhvae.training import TrainConfig``
stays cheap (no TensorFlow), which the command line relies on to check options quickly.

Example:
    >>> from qhvae.training import TrainConfig
    >>> TrainConfig(prior="pegasus").prior
    'pegasus'
"""

from __future__ import annotations

from ..lazy import lazy_exports

__all__ = [
    "TrainConfig",
    "RunError",
    "TrainingDiverged",
    "TrainingFailed",
    "default_graph_options",
    "DEFAULT_RUN_DIR",
    "RESUME_OPTIONS",
    "build_model",
    "train_run",
    "resume_run",
    "read_progress",
    "run_status",
    "RunLock",
    "load_run",
    "evaluate_run",
    "write_samples",
    "prior_chain_frames",
    "gibbs_chain",
    "write_gibbs_chain",
    "RunCheckpoint",
    "StopOnNaN",
    "RichProgress",
    "SamplerMonitor",
    "TestSetTracker",
    "QVAETensorBoard",
]

_HOME = {
    "TrainConfig": "config", "RunError": "config", "TrainingDiverged": "config", "TrainingFailed": "config",
    "default_graph_options": "config",
    "DEFAULT_RUN_DIR": "config", "RESUME_OPTIONS": "config",
    "build_model": "fit", "train_run": "fit", "resume_run": "fit",
    "read_progress": "rundir", "run_status": "rundir", "RunCheckpoint": "checkpoint", "RunLock": "guard",
    "load_run": "run_evaluation", "evaluate_run": "run_evaluation", "write_samples": "run_evaluation",
    "prior_chain_frames": "run_evaluation", "gibbs_chain": "run_evaluation", "write_gibbs_chain": "run_evaluation",
    "StopOnNaN": "monitors", "RichProgress": "monitors", "SamplerMonitor": "monitors", "TestSetTracker": "monitors",
    "QVAETensorBoard": "tensorboard",
}


__getattr__, __dir__ = lazy_exports(__name__, _HOME, __all__)
