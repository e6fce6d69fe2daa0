"""Training runs on disk: train, checkpoint, resume, evaluate, plot.

A *run directory* holds everything one training run needs and produces:

- ``config.json``: the :class:`TrainConfig` (resolved: graph options filled in)
- ``checkpoint.keras``: the model with its optimizer state (``keras.models.load_model``)
- ``sampler_state.npz``: the negative phase's state (persistent chains, call counter),
  plus the checkpoint record (epoch, batch, step, history) as JSON under ``__record__``
- ``progress.json``: the same record, readable: ``epoch`` (epochs completed), ``batch``
  (batches done in the epoch in progress, for step checkpoints), ``step`` (optimizer
  steps), ``history`` (per-epoch metrics), ``status`` (``training``, ``finished``,
  ``diverged``, ``stopped``), ``message``
- ``history.csv``: Keras ``CSVLogger`` output, appended on resume (rows of epochs that
  were never checkpointed are dropped when a run resumes)
- ``training_curves.png``: loss, bounds, reconstruction and schedules per epoch
- ``samples.png``: images decoded from prior samples (``model.generate``)
- ``gibbs_chain.png``: one block-Gibbs chain on the prior, one colour class per frame
- ``evaluation.json``: test log-likelihood, ELBO, active units, ``log Z`` (quick settings)

Checkpoints are written at the end of every epoch (and every
``checkpoint_every_steps`` optimizer steps if set), each file to a temporary name and
then ``os.replace``-d into place, so a run killed at any moment leaves the last complete
checkpoint. Every file of a checkpoint carries its optimizer step, so a kill between two
replacements is detected on resume. A checkpoint is never written when the loss or any
weight is non-finite: :class:`~qhvae.vae.callbacks.StopOnNaN` stops training, the run
is marked ``diverged`` and :func:`train_run` raises :class:`TrainingDiverged`.

:func:`resume_run` loads ``checkpoint.keras`` (weights and optimizer), restores the
sampler state and continues ``fit`` at the checkpointed epoch. From a mid-epoch (step)
checkpoint it first trains the rest of that epoch (the batches not yet done, in a fresh
shuffle order), so a resumed run makes the same number of optimizer steps as one that
was never interrupted.

TensorFlow is imported only inside the functions that need it, so importing this module
(e.g. for :class:`TrainConfig`) is cheap.

Example:
    >>> cfg = TrainConfig(epochs=3, sampler="gibbs")
    >>> TrainConfig.from_dict(cfg.to_dict()) == cfg
    True
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import inspect
import json
import math
import os
import sys
import tempfile
import textwrap
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

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
]

DEFAULT_RUN_DIR = "qhvae-run"

CONFIG_FILE = "config.json"
CHECKPOINT_FILE = "checkpoint.keras"
SAMPLER_STATE_FILE = "sampler_state.npz"
PROGRESS_FILE = "progress.json"
HISTORY_FILE = "history.csv"
CURVES_FILE = "training_curves.png"
SAMPLES_FILE = "samples.png"
CHAIN_FILE = "gibbs_chain.png"
EVALUATION_FILE = "evaluation.json"

#: Latent graphs sized for small (<= 16x16) images such as the 8x8 digits: about 32 units
#: instead of the paper's 288 (which the family constructors default to, used for MNIST).
SMALL_GRAPH_OPTIONS: dict[str, dict[str, Any]] = {
    "chimera": {"m": 2},
    "pegasus": {"m": 2, "rows": 1, "cols": 1},
    "zephyr": {"m": 1, "num_units": 32},
    "rbm": {"n_left": 16},
    "full": {"num_nodes": 32},
    "bernoulli": {"num_nodes": 32},
}


class RunError(Exception):
    """A problem with a run (its directory, configuration or data), worded for users."""


class TrainingDiverged(RunError):
    """Training stopped at a non-finite loss; the run keeps its last finite checkpoint.

    Attributes:
        run_dir: the run directory.
    """

    def __init__(self, message: str, run_dir: Path):
        super().__init__(message)
        self.run_dir = Path(run_dir)


def default_graph_options(prior: str, image_size: int) -> dict[str, Any]:
    """Graph options when none are given: ~32 units for small images, the paper's size otherwise.

    Example:
        >>> default_graph_options("chimera", 8), default_graph_options("chimera", 28)
        ({'m': 2}, {})
    """
    if image_size <= 16:
        return dict(SMALL_GRAPH_OPTIONS.get(prior, {}))
    return {}


@dataclass
class TrainConfig:
    """Everything a training run needs; stored as ``config.json`` in the run directory.

    Attributes:
        dataset: a name of :data:`qhvae.data.DATASETS` or a ``.npy``/``.npz`` file of images
            (``.npz``: arrays ``train`` and ``test``, or one array whose last sixth is held
            out for testing; ``.npy``: the same hold-out rule).
        data_dir: where to look for dataset files first.
        train_limit: train on the first ``train_limit`` images only (quick runs).
        prior: latent graph family: chimera, pegasus, zephyr, rbm, full, bernoulli.
        graph_options: arguments of the family (e.g. ``{"m": 4}``); ``None``: ~32 units for
            images up to 16x16, the paper's 288 units for larger ones.
        mapping: hierarchical groups on the graph, ``bipartite`` or ``chains``.
        sampler: negative-phase sampler name (``qhvae samplers`` lists them).
        sampler_options: its configuration.
        epochs, batch_size: the training budget.
        learning_rate, final_learning_rate: Adam's rate, decayed exponentially between
            them over 90% of the epochs (paper: 3e-3 to 1e-4).
        kl_anneal_fraction: fraction of the epochs over which the KL weight rises from 0
            to 1 (paper: 200 of 2000 epochs, 0.1).
        num_negative_samples: model samples per step (paper: 1000).
        k, d: initial importance and gradient samples per image (then the paper's
            ``(K, D)`` schedule, changed every 10% of the epochs).
        tau: relaxation temperature (paper: 1/7).
        base_filters, hidden: network widths (paper: 32 and 512).
        seed: seed of initialisation, data order, binarization and sampler calls.
        prefetch: draw the next step's negative phase while the current one trains.
        checkpoint_every_steps: also checkpoint every this many optimizer steps.
        eval_num_images, eval_num_samples: the evaluation after training (test images,
            importance samples per image); ``eval_num_images=0`` skips it.
        eval_log_z_replicas: population-annealing replicas of the ``log Z`` estimate.
        num_plot_samples: images in ``samples.png``; ``gibbs_chain_steps``: frames in
            ``gibbs_chain.png``.
        track_every_epochs: evaluate ``track_num_images`` test images every this many
            epochs during training (log-likelihood with ``track_num_samples`` importance
            samples and ``log Z`` from ``track_log_z_replicas`` PA replicas, active units),
            logged as ``test_*`` in the history; ``0`` turns it off.
    """

    dataset: str = "digits"
    data_dir: str | None = None
    train_limit: int | None = None
    prior: str = "chimera"
    graph_options: dict[str, Any] | None = None
    mapping: str = "bipartite"
    sampler: str = "gibbs"
    sampler_options: dict[str, Any] = field(default_factory=dict)
    epochs: int = 60
    batch_size: int = 32
    learning_rate: float = 3e-3
    final_learning_rate: float = 1e-4
    kl_anneal_fraction: float = 0.5
    num_negative_samples: int = 500
    k: int = 1
    d: int = 8
    tau: float = 1.0 / 7.0
    base_filters: int = 16
    hidden: int = 128
    seed: int = 0
    prefetch: bool = False
    checkpoint_every_steps: int | None = None
    eval_num_images: int = 500
    eval_num_samples: int = 1000
    eval_log_z_replicas: int = 4000
    num_plot_samples: int = 64
    gibbs_chain_steps: int = 64
    track_every_epochs: int = 0
    track_num_images: int = 200
    track_num_samples: int = 100
    track_log_z_replicas: int = 1000

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        """Build from a dict (e.g. ``config.json``); unknown keys are an error."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise RunError(f"unknown training options {unknown}; known: {', '.join(sorted(names))}")
        return cls(**data)

    def validate(self) -> "TrainConfig":
        """Check names and ranges without touching TensorFlow; raises :class:`RunError`."""
        from .data import DATASETS
        from .registry import default_registry
        from .topology import GRAPH_FAMILIES

        if self.prior not in GRAPH_FAMILIES:
            raise RunError(f"unknown prior {self.prior!r}; known priors (latent graphs): "
                           f"{', '.join(sorted(GRAPH_FAMILIES))}")
        if not _is_file_dataset(self.dataset):
            canon = str(self.dataset).strip().lower().replace("-", "_")
            if canon not in DATASETS:
                raise RunError(f"unknown dataset {self.dataset!r}; known datasets: {', '.join(DATASETS)} "
                               "(or a path to a .npy/.npz file of images)")
        known = default_registry().names()
        if self.sampler not in known:
            raise RunError(f"unknown sampler {self.sampler!r}; known samplers: {', '.join(known)} "
                           "(`qhvae samplers` lists them with any broken plugins)")
        if self.mapping not in ("bipartite", "chains"):
            raise RunError(f"unknown mapping {self.mapping!r}; use 'bipartite' or 'chains'")
        positive = {"epochs": self.epochs, "batch_size": self.batch_size,
                    "num_negative_samples": self.num_negative_samples, "k": self.k, "d": self.d,
                    "base_filters": self.base_filters, "hidden": self.hidden,
                    "eval_num_samples": self.eval_num_samples, "eval_log_z_replicas": self.eval_log_z_replicas,
                    "track_num_images": self.track_num_images, "track_num_samples": self.track_num_samples,
                    "track_log_z_replicas": self.track_log_z_replicas}
        for name, value in positive.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise RunError(f"{name} must be a positive integer, got {value!r}")
        for name in ("train_limit", "checkpoint_every_steps"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise RunError(f"{name} must be a positive integer or None, got {value!r}")
        for name in ("eval_num_images", "num_plot_samples", "gibbs_chain_steps", "track_every_epochs"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise RunError(f"{name} must be a non-negative integer, got {value!r}")
        for name in ("learning_rate", "final_learning_rate", "tau"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise RunError(f"{name} must be a positive number, got {value!r}")
        if not (0 < self.kl_anneal_fraction <= 1):
            raise RunError(f"kl_anneal_fraction must be in (0, 1], got {self.kl_anneal_fraction!r}")
        return self


# --------------------------------------------------------------------------------------
# small file helpers
# --------------------------------------------------------------------------------------


def _fsync_replace(tmp: Path, path: Path) -> None:
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=_json_default) + "\n")
    _fsync_replace(tmp, path)


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


def read_progress(run_dir: str | os.PathLike) -> dict[str, Any]:
    """The run's ``progress.json`` (``{}`` when there is none yet)."""
    path = Path(run_dir) / PROGRESS_FILE
    if not path.exists():
        return {}
    return json.loads(path.read_text())


def _read_config(run_dir: Path) -> TrainConfig:
    path = run_dir / CONFIG_FILE
    if not path.exists():
        if not run_dir.exists():
            raise RunError(f"{run_dir} does not exist")
        raise RunError(f"{run_dir} is not a qhvae run directory (no {CONFIG_FILE})")
    return TrainConfig.from_dict(json.loads(path.read_text()))


def _is_file_dataset(name: str) -> bool:
    return str(name).endswith((".npy", ".npz"))


def _holds_run(path: Path) -> bool:
    return path.is_dir() and any((path / f).exists() for f in (CONFIG_FILE, CHECKPOINT_FILE, PROGRESS_FILE))


def _finite(value) -> bool:
    try:
        return bool(np.all(np.isfinite(np.asarray(value, dtype=np.float64))))
    except (TypeError, ValueError):
        return True  # strings and the like are not metrics


# --------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------


def _load_split(config: TrainConfig, split: str):
    """A :class:`qhvae.data.Dataset` for ``split`` ("train" or "test") of the run's data."""
    from .data import Dataset, load_dataset

    if not _is_file_dataset(config.dataset):
        return load_dataset(config.dataset, split, data_dir=config.data_dir)
    path = Path(config.dataset)
    if not path.exists():
        raise RunError(f"dataset file {path} does not exist")
    try:
        loaded = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise RunError(f"cannot read images from {path}: {exc}") from None
    if isinstance(loaded, np.ndarray):
        arrays = {"images": loaded}
    else:
        with loaded:
            arrays = {k: loaded[k] for k in loaded.files}
    pairs = [("train", "test"), ("x_train", "x_test")]
    for train_key, test_key in pairs:
        if train_key in arrays and test_key in arrays:
            images = arrays[train_key if split == "train" else test_key]
            break
    else:
        if len(arrays) != 1:
            raise RunError(f"{path}: expected arrays 'train' and 'test' (or 'x_train' and 'x_test') or a "
                           f"single array of images, found {sorted(arrays)}")
        images = next(iter(arrays.values()))
        n_test = len(images) // 6
        if n_test < 1:
            raise RunError(f"{path}: {len(images)} images are too few to hold out a test sixth")
        images = images[: len(images) - n_test] if split == "train" else images[len(images) - n_test:]
    try:
        images = np.asarray(images)
        if images.ndim == 3:
            images = images[..., None]
        data = Dataset(images, None, path.stem, split, False, str(path))
    except ValueError as exc:
        raise RunError(f"{path}: {exc}") from None
    binary = bool(np.all((data.images == 0) | (data.images == 1)))
    return Dataset(data.images, None, path.stem, split, binary, str(path))


def _check_image_shape(images: np.ndarray, what: str) -> None:
    shape = tuple(images.shape[1:])
    if len(shape) != 3 or shape[0] != shape[1] or shape[2] != 1 or shape[0] < 4:
        raise RunError(f"{what}: the VAE needs square single-channel images of at least 4x4 pixels, "
                       f"got images of shape {shape}")


def _test_images(config: TrainConfig, num_images: int | None, seed: int = 0) -> np.ndarray:
    """Test images, binarized once with ``seed`` when they are grey levels (as in the paper)."""
    test = _load_split(config, "test")
    if num_images is not None:
        test = test.take(num_images)
    if not test.binarized:
        test = test.binarize(seed=seed)
    return test.images


# --------------------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------------------


def _graph(config: TrainConfig, image_size: int):
    from . import topology

    factory = topology.GRAPH_FAMILIES[config.prior]
    options = dict(default_graph_options(config.prior, image_size) if config.graph_options is None
                   else config.graph_options)
    params = inspect.signature(factory).parameters
    unknown = sorted(set(options) - set(params))
    if unknown:
        raise RunError(f"prior {config.prior!r} has no option {', '.join(map(repr, unknown))}; "
                       f"its options are {', '.join(params)}")
    try:
        return factory(**options)
    except (TypeError, ValueError) as exc:
        raise RunError(f"prior {config.prior!r} with options {options}: {exc}") from None


def build_model(config: TrainConfig, image_shape: Sequence[int]):
    """A compiled :class:`~qhvae.vae.QVAE` for ``config`` (used by :func:`train_run`)."""
    _import_tensorflow_quietly()
    import keras

    from .vae import QVAE

    graph = _graph(config, int(image_shape[0]))
    try:
        model = QVAE(
            image_shape, graph, mapping=config.mapping, sampler=config.sampler,
            sampler_config=dict(config.sampler_options), num_negative_samples=config.num_negative_samples,
            tau=config.tau, base_filters=config.base_filters, hidden=config.hidden, k=config.k, d=config.d,
            prefetch=config.prefetch, seed=config.seed,
        )
    except KeyError as exc:
        raise RunError(exc.args[0] if exc.args else str(exc)) from None
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate))
    return model


def _schedules(config: TrainConfig) -> list:
    """The paper's schedules, then the callbacks that add to the epoch logs (before any logger sees them)."""
    from .vae.callbacks import SamplerMonitor, TestSetTracker, paper_schedules

    callbacks = paper_schedules(config.epochs, initial_lr=config.learning_rate, final_lr=config.final_learning_rate,
                                kl_fraction=config.kl_anneal_fraction) + [SamplerMonitor()]
    if config.track_every_epochs:
        try:
            images = _test_images(config, config.track_num_images, seed=0)
        except (ValueError, FileNotFoundError) as exc:
            raise RunError(f"track_every_epochs needs the test split: {exc}") from None
        callbacks.append(TestSetTracker(images, every=config.track_every_epochs,
                                        num_samples=config.track_num_samples,
                                        log_z_replicas=config.track_log_z_replicas, seed=0))
    return callbacks


# --------------------------------------------------------------------------------------
# checkpoints
# --------------------------------------------------------------------------------------


def _new_record(config: TrainConfig) -> dict[str, Any]:
    return {"epoch": 0, "batch": 0, "step": 0, "epochs": config.epochs, "history": {}, "status": "training",
            "message": None, "train_seconds": 0.0}


def _weights_finite(model) -> bool:
    return all(np.all(np.isfinite(v.numpy())) for v in model.weights)


def _commit(model, run_dir: Path, record: dict[str, Any]) -> dict[str, Any]:
    """Write one checkpoint: model (+optimizer), sampler state, progress; each atomically."""
    if model.negative_phase.prefetch:
        model.negative_phase.reset()  # a background draw must not change the chains mid-save
    record = dict(record, step=int(model.optimizer.iterations.numpy()),
                  updated=datetime.datetime.now().isoformat(timespec="seconds"))
    state = dict(model.negative_phase.get_state())
    state["__record__"] = np.array(json.dumps(record, default=_json_default))
    ckpt, tmp_ckpt = run_dir / CHECKPOINT_FILE, run_dir / ".checkpoint.tmp.keras"
    sstate, tmp_state = run_dir / SAMPLER_STATE_FILE, run_dir / ".sampler_state.tmp.npz"
    with warnings.catch_warnings():
        # Keras's saving converts TF variables with np.array(x), which numpy 2 flags, once per variable.
        warnings.filterwarnings("ignore", message=".*__array__ implementation doesn't accept a copy keyword.*",
                                category=DeprecationWarning)
        model.save(tmp_ckpt)
    with open(tmp_state, "wb") as f:
        np.savez(f, **state)
    _fsync_replace(tmp_ckpt, ckpt)
    _fsync_replace(tmp_state, sstate)
    _write_json(run_dir / PROGRESS_FILE, record)
    return record


def _load_checkpoint(run_dir: Path, console=None):
    """``(model, record)`` from the run's last checkpoint, with the sampler state restored."""
    _import_tensorflow_quietly()
    import keras

    import qhvae.vae  # noqa: F401  (registers the serializable classes)

    ckpt = run_dir / CHECKPOINT_FILE
    if not ckpt.exists():
        raise RunError(f"{run_dir} has no {CHECKPOINT_FILE} (was the run started?)")
    try:
        model = keras.models.load_model(ckpt)
    except Exception as exc:
        raise RunError(f"cannot load {ckpt}: {type(exc).__name__}: {exc}") from None
    step = int(model.optimizer.iterations.numpy())
    state, record = {}, None
    state_path = run_dir / SAMPLER_STATE_FILE
    if state_path.exists():
        with np.load(state_path, allow_pickle=False) as f:
            state = {k: f[k] for k in f.files}
        record = json.loads(state.pop("__record__").item()) if "__record__" in state else None
    if record is not None and int(record["step"]) == step:
        model.negative_phase.set_state(state)
        return model, record
    progress = read_progress(run_dir)
    if progress and int(progress.get("step", -1)) == step:
        _say(console, f"[yellow]note:[/yellow] {SAMPLER_STATE_FILE} does not belong to the checkpoint at step "
                      f"{step} (the run was killed while saving); the sampler starts fresh chains")
        return model, progress
    raise RunError(f"{run_dir}: {CHECKPOINT_FILE} (step {step}) matches neither {SAMPLER_STATE_FILE} nor "
                   f"{PROGRESS_FILE}; the run directory is inconsistent")


def _checkpoint_callback(run_dir: Path, record: dict[str, Any], every_steps: int | None, batch_offset: int,
                         steps_per_epoch: int):
    """A callback committing checkpoints while everything is finite.

    ``record`` is the last committed record; ``batch_offset`` batches of the segment's
    first epoch were done before (a resumed mid-epoch checkpoint).
    """
    import keras

    class RunCheckpoint(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.record = dict(record)
            self.diverged = False
            self._base_seconds = float(record.get("train_seconds", 0.0))
            self._clock = time.perf_counter()
            self._first_epoch = None

        def _elapsed(self) -> float:
            return self._base_seconds + time.perf_counter() - self._clock

        def _done(self, epoch: int) -> int:
            return self._batches + (batch_offset if epoch == self._first_epoch else 0)

        def on_epoch_begin(self, epoch, logs=None):
            if self._first_epoch is None:
                self._first_epoch = epoch
            self._epoch, self._batches, self._finite = epoch, 0, True

        def on_train_batch_end(self, batch, logs=None):
            self._batches = batch + 1
            if not _finite((logs or {}).get("loss", 0.0)):
                self._finite = False
                self.diverged = True
            if every_steps and self._finite and int(self.model.optimizer.iterations.numpy()) % every_steps == 0:
                done = self._done(self._epoch)
                if done < steps_per_epoch and _weights_finite(self.model):  # the epoch end commits the last one
                    self.record = _commit(self.model, run_dir, dict(self.record, epoch=self._epoch, batch=done,
                                                                    train_seconds=self._elapsed()))

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            if not self._finite or not all(_finite(v) for v in logs.values()) or not _weights_finite(self.model):
                self.diverged = True
                return
            done = self._done(epoch)
            if done < steps_per_epoch:  # stopped early by another callback: a mid-epoch checkpoint
                self.record = _commit(self.model, run_dir, dict(self.record, epoch=epoch, batch=done,
                                                                train_seconds=self._elapsed()))
                return
            history = {}
            for key in set(self.record["history"]) | set(logs):
                values = list(self.record["history"].get(key, []))[:epoch]
                values += [None] * (epoch - len(values))
                value = logs.get(key)
                values.append(float(value) if value is not None and np.ndim(value) == 0 and _finite(value)
                              else None)
                history[key] = values
            self.record = _commit(self.model, run_dir, dict(self.record, epoch=epoch + 1, batch=0, history=history,
                                                            train_seconds=self._elapsed()))

    return RunCheckpoint()


def _truncate_history_csv(path: Path, epochs_done: int) -> None:
    """Keep the header and the rows of epochs below ``epochs_done`` (what the checkpoint holds)."""
    if not path.exists():
        return
    lines = path.read_text().splitlines(keepends=True)
    if not lines:
        return
    kept = [lines[0]]
    for line in lines[1:]:
        try:
            epoch = int(next(csv.reader([line]))[0])
        except (ValueError, IndexError, StopIteration):
            continue
        if epoch < epochs_done:
            kept.append(line)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("".join(kept))
    _fsync_replace(tmp, path)


# --------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow and Keras with the C++ notices they print before logging starts hidden.

    TensorFlow writes oneDNN/CUDA notices to the stderr file descriptor before its log
    level applies (``TF_CPP_MIN_LOG_LEVEL`` cannot silence them); they are captured and
    shown only if the import fails.
    """
    if "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        saved = os.dup(2)
    except OSError:  # no stderr descriptor (embedded interpreters): import as is
        import keras  # noqa: F401
        return
    with tempfile.TemporaryFile() as captured:
        sys.stderr.flush()
        os.dup2(captured.fileno(), 2)
        try:
            import keras  # noqa: F401
            import tensorflow  # noqa: F401
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _say(console, message: str) -> None:
    if console is not None:
        console.print(message)


def _fit(model, config: TrainConfig, run_dir: Path, train, record: dict[str, Any], console,
         extra_callbacks: Iterable = ()) -> dict[str, Any]:
    """Train from ``record`` (epoch, batch) to ``config.epochs``; returns the final record."""
    import keras
    import tensorflow as tf

    from .vae.callbacks import RichProgress, StopOnNaN

    steps_per_epoch = math.ceil(len(train) / config.batch_size)
    start_epoch, start_batch = int(record["epoch"]), int(record["batch"])
    if start_batch >= steps_per_epoch:
        start_epoch, start_batch = start_epoch + 1, 0
    keras.utils.set_random_seed(config.seed + int(record["step"]))
    # A new pipeline seed after a resume: the first iteration of a fresh pipeline would
    # otherwise replay epoch 0's order and binarization draws.
    data_seed = config.seed + 7919 * int(record["step"])
    segments = []
    if start_batch:
        segments.append((start_epoch, start_batch))
    if start_epoch + (1 if start_batch else 0) < config.epochs:
        segments.append((start_epoch + (1 if start_batch else 0), 0))
    extra_callbacks = list(extra_callbacks)
    for first_epoch, skip in segments:
        ds = train.to_tf(config.batch_size, shuffle=True, seed=data_seed + first_epoch)
        last_epoch = first_epoch + 1 if skip else config.epochs
        if skip:
            ds = ds.skip(skip)
        stop = StopOnNaN()
        checkpoint = _checkpoint_callback(run_dir, record, config.checkpoint_every_steps, skip, steps_per_epoch)
        callbacks = _schedules(config) + [
            stop,
            RichProgress(console=console) if console is not None else keras.callbacks.Callback(),
            _csv_logger(run_dir / HISTORY_FILE),
            checkpoint,
        ] + extra_callbacks
        failure = None
        try:
            with warnings.catch_warnings():
                # Keras warns that fit's shuffle=True is ignored for a tf.data input (ours shuffles itself).
                warnings.filterwarnings("ignore", message=".*shuffle=True.*")
                model.fit(ds, epochs=last_epoch, initial_epoch=first_epoch, callbacks=callbacks, verbose=0)
        except tf.errors.OpError as exc:
            failure = _op_error_message(exc)
            if _weights_finite(model):
                raise RunError(f"training failed: {failure}") from None
        record = checkpoint.record
        if stop.message or checkpoint.diverged or failure:
            if stop.message:
                message = stop.message
            elif failure:  # a step with a finite loss left non-finite weights; the next sampler call refused them
                message = (f"the weights became non-finite and training stopped ({failure}); the last checkpoint "
                           "holds the last finite state")
            else:
                message = ("the loss or a weight became non-finite; training stopped and the last checkpoint holds "
                           "the last finite state")
            record = dict(record, status="diverged", message=message)
            _write_json(run_dir / PROGRESS_FILE, dict(record, updated=datetime.datetime.now().isoformat(
                timespec="seconds")))
            _save_plots(model, config, run_dir, record, console, samples=False)
            raise TrainingDiverged(
                f"{message}. {run_dir} keeps the checkpoint of {_position(record)} (step {record['step']}); "
                f"`qhvae train --resume {run_dir}` continues from it (add a lower --learning-rate if the loss "
                "diverged again)", run_dir)
        if model.stop_training:
            break  # some user callback stopped training; the checkpoint callback saved where
    return record


def _position(record: dict[str, Any]) -> str:
    """Where a checkpoint record stands, in words (1-based epochs)."""
    if record["batch"]:
        return f"epoch {record['epoch'] + 1}, batch {record['batch']}"
    return f"the end of epoch {record['epoch']}" if record["epoch"] else "the start (no epoch completed)"


def _csv_logger(path: Path):
    """Keras's CSVLogger, appending, without the empty ``val_*`` columns it adds when there is no validation."""
    import keras

    class CSVLogger(keras.callbacks.CSVLogger):
        def on_epoch_end(self, epoch, logs=None):
            if self.keys is None:
                self.keys = sorted((logs or {}).keys())
            super().on_epoch_end(epoch, logs)

    return CSVLogger(str(path), append=True)


def _op_error_message(exc) -> str:
    """The Python error inside a TensorFlow op error (e.g. a sampler's), without TF's traceback."""
    text = str(getattr(exc, "message", exc))
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for line in reversed(lines):
        head = line.split(":", 1)[0]
        if head.endswith(("Error", "Exception")) and " " not in head:
            return line
    return lines[0] if lines else type(exc).__name__


def _prepare_train_data(config: TrainConfig, console):
    try:
        train = _load_split(config, "train")
    except (ValueError, FileNotFoundError) as exc:
        raise RunError(str(exc)) from None
    if config.train_limit is not None:
        train = train.take(config.train_limit)
    _check_image_shape(train.images, f"dataset {config.dataset!r}")
    return train


def train_run(config: TrainConfig, out: str | os.PathLike = DEFAULT_RUN_DIR, console=None,
              callbacks: Iterable = ()) -> Path:
    """Train a QVAE as described by ``config`` into the run directory ``out``.

    Writes the checkpoint files during training and, at the end, the plots and
    ``evaluation.json``. ``console`` (a ``rich.console.Console``) shows progress;
    ``callbacks`` are extra Keras callbacks.

    Returns:
        The run directory.

    Raises:
        RunError: bad configuration, missing data, ``out`` already holds a run.
        TrainingDiverged: the loss became non-finite (the last good checkpoint stays).
    """
    config = TrainConfig.from_dict(config.to_dict()).validate()
    run_dir = Path(out)
    if _holds_run(run_dir):
        progress = read_progress(run_dir)
        where = f" (epoch {progress.get('epoch', 0)} of {progress.get('epochs', '?')})" if progress else ""
        raise RunError(f"{run_dir} already holds a run{where}; resume it with `qhvae train --resume {run_dir}` "
                       "or choose another folder with --out")
    return _train_fresh(config, run_dir, console, callbacks)


def _train_fresh(config: TrainConfig, run_dir: Path, console, callbacks: Iterable) -> Path:
    train = _prepare_train_data(config, console)
    if config.graph_options is None:
        config.graph_options = default_graph_options(config.prior, train.images.shape[1])
    model = build_model(config, train.image_shape)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / HISTORY_FILE).unlink(missing_ok=True)
    _write_json(run_dir / CONFIG_FILE, config.to_dict())
    _say(console, f"[bold]qhvae train[/bold] -> {run_dir.resolve()}\n"
                  f"  data {config.dataset} ({len(train)} training images {train.image_shape[0]}x"
                  f"{train.image_shape[1]}), prior {model.graph.name} ({model.graph.num_nodes} units, "
                  f"{model.graph.num_edges} couplings), sampler {config.sampler}, {config.epochs} epochs of batch "
                  f"{config.batch_size}, {int(model.count_params()):,} parameters")
    record = _new_record(config)
    record = _commit(model, run_dir, record)  # epoch 0: a run killed in its first epoch restarts from here
    record = _fit(model, config, run_dir, train, record, console, callbacks)
    return _finish(model, config, run_dir, record, console)


#: Options that may change when a run resumes (they leave the model and its data alone).
RESUME_OPTIONS = ("epochs", "learning_rate", "final_learning_rate", "checkpoint_every_steps", "eval_num_images",
                  "eval_num_samples", "eval_log_z_replicas", "num_plot_samples", "gibbs_chain_steps",
                  "track_every_epochs", "track_num_images", "track_num_samples", "track_log_z_replicas")


def resume_run(run_dir: str | os.PathLike, console=None, callbacks: Iterable = (), epochs: int | None = None,
               overrides: dict[str, Any] | None = None) -> Path:
    """Continue an interrupted run from its last checkpoint; finish it (plots, evaluation).

    Args:
        run_dir: the run directory.
        console: a ``rich.console.Console`` for progress, or ``None``.
        callbacks: extra Keras callbacks.
        epochs: a new total number of epochs (the schedules are rescaled to it).
        overrides: new values of :data:`RESUME_OPTIONS` (e.g. a lower ``learning_rate``
            after a divergence); saved to ``config.json``.

    Returns:
        The run directory.
    """
    run_dir = Path(run_dir)
    config = _read_config(run_dir).validate()
    changes = dict(overrides or {})
    if epochs is not None:
        changes["epochs"] = epochs
    refused = sorted(set(changes) - set(RESUME_OPTIONS))
    if refused:
        raise RunError(f"{', '.join(refused)} cannot change when a run resumes (only {', '.join(RESUME_OPTIONS)})")
    updated = TrainConfig.from_dict({**config.to_dict(), **changes}).validate()
    if not (run_dir / CHECKPOINT_FILE).exists():
        # killed before its first checkpoint: start again with the saved configuration
        _say(console, f"[yellow]note:[/yellow] {run_dir} has no checkpoint yet; training starts from the beginning")
        return _train_fresh(updated, run_dir, console, callbacks)
    train = _prepare_train_data(updated, console)
    model, record = _load_checkpoint(run_dir, console)
    if updated.epochs < record["epoch"]:
        raise RunError(f"{run_dir} has already trained {record['epoch']} epochs; --epochs {updated.epochs} is fewer")
    for key in sorted(changes):
        if getattr(config, key) != getattr(updated, key):
            _say(console, f"[yellow]note:[/yellow] {key} {getattr(config, key)} -> {getattr(updated, key)}"
                          + ("; the schedules are rescaled" if key == "epochs" else ""))
    if updated != config:
        _write_json(run_dir / CONFIG_FILE, updated.to_dict())
    config = updated
    record = dict(record, epochs=config.epochs, status="training", message=None)
    if record["epoch"] >= config.epochs:
        _say(console, f"{run_dir}: all {config.epochs} epochs are trained; writing plots and evaluation")
        return _finish(model, config, run_dir, record, console)
    _truncate_history_csv(run_dir / HISTORY_FILE, int(record["epoch"]))
    _say(console, f"[bold]resuming[/bold] {run_dir.resolve()} from {_position(record)} (step {record['step']}) "
                  f"of {config.epochs} epochs")
    record = _fit(model, config, run_dir, train, record, console, callbacks)
    return _finish(model, config, run_dir, record, console)


def _finish(model, config: TrainConfig, run_dir: Path, record: dict[str, Any], console) -> Path:
    # "stopped": a user callback ended training early; --resume continues it
    record = dict(record, status="finished" if record["epoch"] >= config.epochs else "stopped")
    _write_json(run_dir / PROGRESS_FILE, dict(record, updated=datetime.datetime.now().isoformat(timespec="seconds")))
    _save_plots(model, config, run_dir, record, console)
    if config.eval_num_images:
        results = _evaluate(model, config, run_dir, config.eval_num_images, config.eval_num_samples, 0, console,
                            record)
        _say(console, _evaluation_line(results))
    minutes = record.get("train_seconds", 0.0) / 60
    _say(console, f"[green]done[/green]: {record['epoch']} epochs in {minutes:.1f} min of training; results in "
                  f"{run_dir.resolve()}")
    return run_dir


# --------------------------------------------------------------------------------------
# loading, evaluation
# --------------------------------------------------------------------------------------


def load_run(run_dir: str | os.PathLike, console=None):
    """``(model, config, record)`` of a run's last checkpoint (sampler state restored)."""
    run_dir = Path(run_dir)
    config = _read_config(run_dir)
    model, record = _load_checkpoint(run_dir, console)
    return model, config, record


def _evaluation_line(results: dict[str, Any]) -> str:
    return (f"test log-likelihood {results['log_likelihood']:.3f} ± {results['log_likelihood_stderr']:.3f} nats "
            f"(K={results['num_samples']}, {results['num_images']} images), ELBO {results['elbo']:.3f}, "
            f"active units {results['active_units']}/{results['units']}, log Z {results['log_z']:.3f} "
            f"± {results['log_z_stderr']:.3f} ({results['log_z_method']})")


def _evaluate(model, config: TrainConfig, run_dir: Path, num_images: int | None, num_samples: int, seed: int,
              console, record: dict[str, Any]) -> dict[str, Any]:
    from .evaluate import evaluate_model

    try:
        images = _test_images(config, num_images, seed=seed)
    except (ValueError, FileNotFoundError) as exc:
        raise RunError(str(exc)) from None
    if tuple(images.shape[1:]) != tuple(model.image_shape):
        raise RunError(f"the test images have shape {tuple(images.shape[1:])} but the model was trained on "
                       f"{tuple(model.image_shape)}")
    start = time.perf_counter()
    what = f"evaluating on {len(images)} test images x {num_samples} importance samples"
    if console is not None:
        with console.status(what + " ..."):
            results = evaluate_model(model, images, num_samples=num_samples, seed=seed,
                                     log_z_replicas=config.eval_log_z_replicas)
    else:
        results = evaluate_model(model, images, num_samples=num_samples, seed=seed,
                                 log_z_replicas=config.eval_log_z_replicas)
    results = dict(results, dataset=config.dataset, split="test", binarization_seed=seed,
                   units=int(model.graph.num_nodes), prior=model.graph.name, sampler=config.sampler,
                   epoch=int(record.get("epoch", 0)), step=int(record.get("step", 0)),
                   seconds=round(time.perf_counter() - start, 2))
    _write_json(run_dir / EVALUATION_FILE, results)
    return results


def evaluate_run(run_dir: str | os.PathLike, num_samples: int = 1000, num_images: int | None = None, seed: int = 0,
                 console=None) -> dict[str, Any]:
    """Evaluate a run's last checkpoint on its test split; writes ``evaluation.json``.

    Args:
        num_samples: importance samples per image (paper: 1000).
        num_images: the first ``num_images`` test images (default: all).
        seed: the seed of the test set's fixed binarization and of the ``log Z`` estimate.
    """
    if num_samples < 1 or (num_images is not None and num_images < 1):
        raise RunError("need num_samples >= 1 and num_images >= 1")
    run_dir = Path(run_dir)
    model, config, record = load_run(run_dir, console)
    return _evaluate(model, config, run_dir, num_images, num_samples, seed, console, record)


# --------------------------------------------------------------------------------------
# pictures
# --------------------------------------------------------------------------------------


def image_grid(images: np.ndarray, cols: int | None = None, pad: int = 1, pad_value: float = 0.3) -> np.ndarray:
    """Tile ``(N, H, W[, 1])`` images into one 2-d array, ``cols`` per row (default: square-ish).

    Example:
        >>> image_grid(np.zeros((6, 2, 2, 1)), cols=3).shape
        (7, 10)
    """
    images = np.asarray(images, np.float64)
    if images.ndim == 4:
        images = images[..., 0]
    n, h, w = images.shape
    cols = cols or max(1, math.ceil(math.sqrt(n)))
    rows = max(1, math.ceil(n / cols))
    grid = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad), pad_value)
    for i in range(n):
        r, c = divmod(i, cols)
        grid[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = images[i]
    return grid


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save_grid(images: np.ndarray, path: Path, title: str, cols: int | None = None) -> Path:
    plt = _pyplot()
    grid = image_grid(images, cols=cols)
    height = max(3.0, 8.0 * grid.shape[0] / grid.shape[1])
    fig, ax = plt.subplots(figsize=(8, height + 0.6))
    ax.imshow(grid, cmap="gray_r", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title("\n".join(textwrap.wrap(title, 90)), fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path)


def save_figure(fig, path: str | os.PathLike) -> Path:
    """Write a matplotlib figure as PNG atomically (temporary file, then ``os.replace``) and close it."""
    plt = _pyplot()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)
    return path


def finish_epoch_axis(ax, ylabel: str, title: str, drawn: bool, empty: str = "no completed epoch") -> None:
    """Label an axis of per-epoch curves; say ``empty`` on it when nothing was drawn."""
    from matplotlib.ticker import MaxNLocator

    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    if drawn:
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, empty, ha="center", va="center", transform=ax.transAxes)


def write_samples(model, path: str | os.PathLike, num: int = 64, seed: int | None = 0) -> Path:
    """A PNG grid of ``num`` images decoded from prior samples (pixel probabilities)."""
    if num < 1:
        raise RunError(f"need at least one sample, got {num}")
    images, _ = model.generate(num, seed=seed)
    title = (f"{num} images decoded from samples of the prior {model.graph.name} "
             f"(sampler {model.sampler.name}); grey level = pixel probability")
    return _save_grid(images, Path(path), title)


def gibbs_chain(model, steps: int = 64, seed: int | None = 0, z0: np.ndarray | None = None):
    """One block-Gibbs chain on the model's prior, one colour class updated per frame.

    With ``E(z) = b.z + sum W_ij z_i z_j``, a unit's conditional is
    ``P(z_i = 1 | rest) = sigmoid(-(b_i + sum_j W_ij z_j))``; the units of one colour
    class of ``model.graph.colors`` are conditionally independent and updated together.

    Args:
        steps: frames (block updates).
        seed: seed of the start state (uniform random unless ``z0``) and the updates.
        z0: start state ``(L,)``.

    Returns:
        ``(z, images)``: ``(steps, L)`` states after each update and their decoded
        ``(steps, H, W, 1)`` pixel probabilities.
    """
    if steps < 1:
        raise RunError(f"need at least one step, got {steps}")
    rng = np.random.default_rng(seed)
    n = int(model.graph.num_nodes)
    z = rng.integers(0, 2, n).astype(np.float64) if z0 is None else np.asarray(z0, np.float64).copy()
    frames = block_gibbs_frames(model, z[None, :], steps, rng)[:, 0, :]
    return frames, model.decode(frames)


def block_gibbs_frames(model, z: np.ndarray, steps: int, rng: np.random.Generator) -> np.ndarray:
    """Block-Gibbs updates of ``C`` chains on the model's prior, one colour class per update.

    With ``E(z) = b.z + sum W_ij z_i z_j``, a unit's conditional is
    ``P(z_i = 1 | rest) = sigmoid(-(b_i + sum_j W_ij z_j))``; the units of one colour
    class are conditionally independent and updated together. Dense numpy on purpose:
    it serves pictures and chain statistics of a few dozen chains, not training.

    Args:
        model: a :class:`~qhvae.vae.QVAE`.
        z: ``(C, L)`` start states (not modified).
        steps: block updates.
        rng: the random stream.

    Returns:
        ``(steps, C, L)`` states after each update.
    """
    b, (edges, w) = model.prior.numpy_parameters()
    n = len(b)
    coupling = np.zeros((n, n))
    if len(edges):
        edges = np.asarray(edges, np.int64).reshape(-1, 2)
        np.add.at(coupling, (edges[:, 0], edges[:, 1]), w)
        np.add.at(coupling, (edges[:, 1], edges[:, 0]), w)
    colors = np.asarray(model.graph.colors)
    classes = [np.flatnonzero(colors == c) for c in np.unique(colors)]
    z = np.array(z, np.float64, ndmin=2)
    frames = np.empty((steps, len(z), n), np.float64)
    for t in range(steps):
        idx = classes[t % len(classes)]
        field_ = b[idx] + z @ coupling[:, idx]
        p = 0.5 * (1.0 + np.tanh(-0.5 * field_))  # sigmoid(-field), without overflow
        z[:, idx] = (rng.random(field_.shape) < p).astype(np.float64)
        frames[t] = z
    return frames


def write_gibbs_chain(model, path: str | os.PathLike, steps: int = 64, seed: int | None = 0) -> Path:
    """The paper's Fig. 10: a PNG of one block-Gibbs chain's states, decoded, frame by frame."""
    _, images = gibbs_chain(model, steps, seed)
    title = (f"one block-Gibbs chain on the prior {model.graph.name} from a random state: "
             f"{model.graph.num_colors} colour classes, one class updated per frame (left to right, top to bottom)")
    cols = 8 if steps >= 8 else steps
    return _save_grid(images, Path(path), title, cols=cols)


def plot_training_curves(history: dict[str, list], path: str | os.PathLike, title: str = "") -> Path:
    """``training_curves.png``: objective, bounds, reconstruction and schedules per epoch."""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    ax_loss, ax_bound, ax_recon, ax_sched = axes.ravel()

    def series(key):
        values = history.get(key) or []
        xs = [i + 1 for i, v in enumerate(values) if v is not None]
        ys = [v for v in values if v is not None]
        return xs, ys

    def draw(ax, keys, ylabel, heading):
        drawn = False
        for key, label in keys:
            xs, ys = series(key)
            if xs:
                ax.plot(xs, ys, marker="." if len(xs) < 30 else None, label=label)
                drawn = True
        finish_epoch_axis(ax, ylabel, heading, drawn)

    draw(ax_loss, [("loss", "loss (surrogate: -bound - negative phase)")], "nats", "training objective")
    draw(ax_bound, [("bound", "bound L_{K,D} (exact log Z)"),
                    ("bound_without_log_z", "bound without log Z (L_{K,D} + log Z)"),
                    ("test_log_likelihood", "test log-likelihood (tracked, fewer samples)")],
         "nats per image", "importance-weighted bound")
    draw(ax_recon, [("recon", "-log p(x|zeta)")], "nats per image", "reconstruction")
    xs, kl = series("kl_weight")
    if xs:
        ax_sched.plot(xs, kl, label="KL weight", color="C0")
    _, k = series("iw_k")
    if k:
        ax_sched.plot(xs[: len(k)], np.asarray(k) / max(k), label="K / max K", color="C2", ls="--")
    ax_sched.set_xlabel("epoch")
    ax_sched.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_sched.set_ylabel("weight")
    ax_sched.set_title("schedules", fontsize=10)
    xs_lr, lr = series("learning_rate")
    if xs_lr:
        twin = ax_sched.twinx()
        twin.semilogy(xs_lr, lr, color="C3", label="learning rate")
        twin.set_ylabel("learning rate", color="C3")
    if xs or xs_lr:
        ax_sched.legend(fontsize=8, loc="center right")
    if title:
        fig.suptitle("\n".join(textwrap.wrap(title, 110)), fontsize=11)
    fig.tight_layout()
    return save_figure(fig, path)


def _save_plots(model, config: TrainConfig, run_dir: Path, record: dict[str, Any], console,
                samples: bool = True) -> None:
    title = (f"{config.dataset}, prior {model.graph.name}, sampler {config.sampler}: "
             f"{record['epoch']} of {config.epochs} epochs ({record.get('status', '')})")
    written = [plot_training_curves(record.get("history", {}), run_dir / CURVES_FILE, title)]
    if samples and _weights_finite(model):
        if config.num_plot_samples:
            written.append(write_samples(model, run_dir / SAMPLES_FILE, config.num_plot_samples, seed=config.seed))
        if config.gibbs_chain_steps:
            written.append(write_gibbs_chain(model, run_dir / CHAIN_FILE, config.gibbs_chain_steps, seed=config.seed))
    _say(console, "wrote " + ", ".join(str(p) for p in written))
