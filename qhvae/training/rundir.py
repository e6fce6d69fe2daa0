"""A run directory on disk: its files, atomic writes, the progress record and checkpoints.

A *run directory* holds everything one training run needs and produces:

- ``config.json``: the :class:`~qhvae.training.config.TrainConfig` (resolved: graph options filled in)
- ``checkpoint.keras``: the model with its optimizer state (``keras.models.load_model``)
- ``sampler_state.npz``: the negative phase's state (persistent chains, call counter),
  plus the checkpoint record (epoch, batch, step, history) as JSON under ``__record__``
- ``progress.json``: the same record, readable: ``epoch`` (epochs completed), ``batch``
  (batches done in the epoch in progress, for step checkpoints), ``step`` (optimizer
  steps), ``history`` (per-epoch metrics), ``train_seconds`` and ``cpu_seconds`` (wall and
  CPU time of training so far), ``status`` and ``message``: ``training`` while
  a process trains it (one at a time: see :class:`~qhvae.training.guard.RunLock`), then how
  it ended: ``finished``, ``interrupted`` (Ctrl-C or SIGTERM), ``diverged``, ``failed``
  (``message`` holds the error) or ``stopped`` (by a user callback). Only a process killed
  outright (SIGKILL, a power cut) leaves ``training`` behind; :func:`run_status` tells that
  apart from a live run by the lock
- ``history.csv``: Keras ``CSVLogger`` output, appended on resume (rows of epochs that
  were never checkpointed are dropped when a run resumes, and a file that is missing or
  disagrees with the record is rebuilt from it: :mod:`~qhvae.training.history`)
- ``training_curves.png``: loss, bounds, reconstruction and schedules per epoch
- ``samples.png``: images decoded from prior samples (``model.generate``)
- ``gibbs_chain.png``: one block-Gibbs chain on the prior, one colour class per frame
- ``evaluation.json``: test log-likelihood, ELBO, active units, ``log Z`` (quick settings)

Checkpoints are written by :class:`RunCheckpoint` at the end of every epoch (and every
``checkpoint_every_steps`` optimizer steps if set), each file to a temporary name and
then ``os.replace``-d into place, so a run killed at any moment leaves the last complete
checkpoint. Every file of a checkpoint carries its optimizer step, so a kill between two
replacements is detected by :func:`load_checkpoint`. A checkpoint is never written when
the loss or any weight is non-finite.

This module imports Keras (its callbacks are Keras callbacks); TensorFlow's start-up
notices are hidden by :func:`qhvae.tfutil.import_tensorflow_quietly`.
"""

from __future__ import annotations

import csv
import datetime
import json
import os
import time
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..tfutil import import_tensorflow_quietly

import_tensorflow_quietly()  # before Keras: its import prints TensorFlow's notices otherwise

import keras  # noqa: E402

from .config import LATER_DEFAULTS, RunError, TrainConfig

__all__ = [
    "CONFIG_FILE", "CHECKPOINT_FILE", "SAMPLER_STATE_FILE", "PROGRESS_FILE", "HISTORY_FILE", "CURVES_FILE",
    "SAMPLES_FILE", "CHAIN_FILE", "EVALUATION_FILE",
    "fsync_replace", "write_json", "read_progress", "read_config", "write_progress", "holds_run", "is_finite",
    "weights_finite", "new_record", "describe_position", "say", "commit_checkpoint", "load_checkpoint",
    "RunCheckpoint", "HistoryCSVLogger", "truncate_history_csv", "mark_ended", "run_status", "ENDINGS",
]

#: How a run can end, as ``progress.json``'s ``status`` says.
ENDINGS = ("finished", "interrupted", "diverged", "failed", "stopped")

CONFIG_FILE = "config.json"
CHECKPOINT_FILE = "checkpoint.keras"
SAMPLER_STATE_FILE = "sampler_state.npz"
#: The sampler state of a checkpoint being committed (see :func:`commit_checkpoint`).
PENDING_SAMPLER_STATE_FILE = ".sampler_state.tmp.npz"
PROGRESS_FILE = "progress.json"
HISTORY_FILE = "history.csv"
CURVES_FILE = "training_curves.png"
SAMPLES_FILE = "samples.png"
CHAIN_FILE = "gibbs_chain.png"
EVALUATION_FILE = "evaluation.json"


# --------------------------------------------------------------------------------------
# files
# --------------------------------------------------------------------------------------


def fsync_replace(tmp: Path, path: Path) -> None:
    """Flush ``tmp`` to disk, then rename it to ``path`` (atomic on POSIX): readers see old or new, never half.

    Args:
        tmp: the fully written temporary file (same folder as ``path``).
        path: its final name.
    """
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


def write_json(path: str | os.PathLike, data: Any) -> None:
    """Write ``data`` as indented JSON atomically; numpy scalars and arrays become numbers and lists.

    Args:
        path: the file to (re)write.
        data: anything JSON can hold, plus numpy values (other objects are written as ``str``).

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.json"
        >>> write_json(path, {"step": np.int64(3), "w": np.zeros(2)})
        >>> json.loads(path.read_text())
        {'step': 3, 'w': [0.0, 0.0]}
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=_json_default) + "\n")
    fsync_replace(tmp, path)


def read_progress(run_dir: str | os.PathLike) -> dict[str, Any]:
    """The run's ``progress.json`` (``{}`` when there is none yet).

    Example:
        >>> import tempfile
        >>> read_progress(tempfile.mkdtemp())
        {}
    """
    path = Path(run_dir) / PROGRESS_FILE
    if not path.exists():
        return {}
    data = _read_json(path)
    if not isinstance(data, dict):
        raise RunError(f"{path} is damaged: it holds a JSON {type(data).__name__}, not the progress record")
    return data


def _read_json(path: Path) -> Any:
    """``path``'s JSON; a damaged file is a :class:`RunError` that names it."""
    try:
        return json.loads(path.read_text())
    except UnicodeDecodeError as exc:
        raise RunError(f"{path} is damaged: not a text file ({exc})") from None
    except json.JSONDecodeError as exc:
        raise RunError(f"{path} is damaged: not valid JSON ({exc}); qhvae writes it whole or not at all, so it "
                       "was changed by hand or by a copy that was cut short") from None
    except OSError as exc:
        raise RunError(f"cannot read {path}: {exc.strerror or exc}") from None


def write_progress(run_dir: str | os.PathLike, record: dict[str, Any]) -> None:
    """Write ``record`` as the run's ``progress.json``, stamped with the time (``updated``)."""
    write_json(Path(run_dir) / PROGRESS_FILE,
               dict(record, updated=datetime.datetime.now().isoformat(timespec="seconds")))


def read_config(run_dir: str | os.PathLike) -> TrainConfig:
    """The run's :class:`~qhvae.training.config.TrainConfig` from its ``config.json``.

    Raises:
        RunError: the folder does not exist or is not a run directory.
    """
    run_dir = Path(run_dir)
    path = run_dir / CONFIG_FILE
    if not path.exists():
        if not run_dir.exists():
            raise RunError(f"{run_dir} does not exist")
        raise RunError(f"{run_dir} is not a qhvae run directory (no {CONFIG_FILE})")
    data = _read_json(path)
    if not isinstance(data, dict):
        raise RunError(f"{path} is damaged: it holds a JSON {type(data).__name__}, not the run's settings")
    # A run written before an option existed was trained with that option's value of then
    # (``network`` was ``conv``), whatever today's default is.
    data = {**LATER_DEFAULTS, **data}
    try:
        return TrainConfig.from_dict(data)
    except RunError as exc:
        raise RunError(f"{path}: {exc}") from None


def mark_ended(run_dir: str | os.PathLike, status: str, message: str | None = None) -> None:
    """Record in ``progress.json`` how the run ended (the last checkpoint's record, with ``status``).

    Only a run still marked ``training`` is changed: a ``finished`` or ``diverged`` run keeps
    what it says. Never raises: it runs while another error is on its way to the user.

    Args:
        run_dir: the run directory.
        status: one of :data:`ENDINGS`.
        message: why (the error of a ``failed`` run).
    """
    try:
        progress = read_progress(run_dir)
        if progress.get("status", "training") == "training" and (Path(run_dir) / CONFIG_FILE).exists():
            write_progress(run_dir, dict(progress or {"epoch": 0, "batch": 0, "step": 0, "history": {}},
                                         status=status, message=message))
    except Exception:  # the disk that failed the run may fail this too; the original error matters more
        pass


def run_status(run_dir: str | os.PathLike) -> str:
    """The run's status: ``progress.json``'s, except that a run marked ``training`` that no process
    holds (see :class:`~qhvae.training.guard.RunLock`) is ``killed`` (SIGKILL, a power cut), and
    a folder without progress is ``new``.

    Example:
        >>> import tempfile
        >>> run_status(tempfile.mkdtemp())
        'new'
    """
    from .guard import lock_holder

    status = read_progress(run_dir).get("status", "new")
    if status == "training" and lock_holder(run_dir) is None:
        return "killed"
    return status


def holds_run(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a folder holding (part of) a run: a config, checkpoint or progress file.

    Example:
        >>> import tempfile
        >>> holds_run(tempfile.mkdtemp())
        False
    """
    path = Path(path)
    return path.is_dir() and any((path / f).exists() for f in (CONFIG_FILE, CHECKPOINT_FILE, PROGRESS_FILE))


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


def new_record(config: TrainConfig) -> dict[str, Any]:
    """The progress record of a run that has not trained yet.

    Example:
        >>> new_record(TrainConfig(epochs=5))["epochs"]
        5
    """
    return {"epoch": 0, "batch": 0, "step": 0, "epochs": config.epochs, "history": {}, "status": "training",
            "message": None, "train_seconds": 0.0, "cpu_seconds": 0.0}


def describe_position(record: dict[str, Any]) -> str:
    """Where a checkpoint record stands, in words (1-based epochs).

    Example:
        >>> describe_position({"epoch": 1, "batch": 2}), describe_position({"epoch": 3, "batch": 0})
        ('epoch 2, batch 2', 'the end of epoch 3')
    """
    if record["batch"]:
        return f"epoch {record['epoch'] + 1}, batch {record['batch']}"
    return f"the end of epoch {record['epoch']}" if record["epoch"] else "the start (no epoch completed)"


def say(console, message: str) -> None:
    """Print ``message`` on a ``rich`` console; runs without a console are quiet."""
    if console is not None:
        console.print(message)


def truncate_history_csv(path: str | os.PathLike, epochs_done: int) -> None:
    """Keep the header and the rows of epochs below ``epochs_done`` (what the checkpoint holds).

    Args:
        path: the run's ``history.csv`` (nothing happens when it does not exist).
        epochs_done: the number of epochs the checkpoint being resumed completed.
    """
    path = Path(path)
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
    fsync_replace(tmp, path)


# --------------------------------------------------------------------------------------
# checkpoints
# --------------------------------------------------------------------------------------


def commit_checkpoint(model, run_dir: str | os.PathLike, record: dict[str, Any]) -> dict[str, Any]:
    """Write one checkpoint: model (+optimizer), sampler state, progress; each atomically.

    Args:
        model: the :class:`~qhvae.vae.QVAE` being trained.
        run_dir: the run directory.
        record: the progress record to save with it (its ``step`` is set from the optimizer).

    Returns:
        The record as saved.
    """
    run_dir = Path(run_dir)
    if model.negative_phase.prefetch:
        model.negative_phase.reset()  # a background draw must not change the chains mid-save
    record = dict(record, step=int(model.optimizer.iterations.numpy()),
                  updated=datetime.datetime.now().isoformat(timespec="seconds"))
    state = dict(model.negative_phase.get_state())
    state["__record__"] = np.array(json.dumps(record, default=_json_default))
    ckpt, tmp_ckpt = run_dir / CHECKPOINT_FILE, run_dir / ".checkpoint.tmp.keras"
    sstate, tmp_state = run_dir / SAMPLER_STATE_FILE, run_dir / PENDING_SAMPLER_STATE_FILE
    with warnings.catch_warnings():
        # Keras's saving converts TF variables with np.array(x), which numpy 2 flags, once per variable.
        warnings.filterwarnings("ignore", message=".*__array__ implementation doesn't accept a copy keyword.*",
                                category=DeprecationWarning)
        model.save(tmp_ckpt)
    with open(tmp_state, "wb") as f:
        np.savez(f, **state)
        f.flush()
        os.fsync(f.fileno())
    # From the next line until the sampler state's own replacement, the pending state file is
    # the only one that describes the new checkpoint: load_checkpoint finishes the commit from it
    # if the process dies in between.
    fsync_replace(tmp_ckpt, ckpt)
    fsync_replace(tmp_state, sstate)
    write_json(run_dir / PROGRESS_FILE, record)
    return record


def load_checkpoint(run_dir: str | os.PathLike, console=None):
    """``(model, record)`` from the run's last checkpoint, with the sampler state restored.

    A run killed between the model's replacement and the sampler state's left the new
    checkpoint's sampler state in the pending file: the commit is finished from it (same
    chains). When the sampler state is damaged but ``progress.json`` describes the model, the
    model is kept with that record and the sampler starts fresh chains. A note on ``console``
    says which happened.

    Raises:
        RunError: no checkpoint, an unreadable one, or files of different checkpoints.
    """
    from .. import vae  # noqa: F401  (registers the serializable classes)

    run_dir = Path(run_dir)
    ckpt = run_dir / CHECKPOINT_FILE
    if not ckpt.exists():
        raise RunError(f"{run_dir} has no {CHECKPOINT_FILE} (was the run started?)")
    model = _load_model(ckpt, run_dir)
    step = int(model.optimizer.iterations.numpy())
    state_path = run_dir / SAMPLER_STATE_FILE
    state, record, damage = _read_sampler_state(state_path)
    if record is not None and int(record.get("step", -1)) == step:
        model.negative_phase.set_state(state)
        return model, record
    pending = run_dir / PENDING_SAMPLER_STATE_FILE
    pending_state, pending_record, _ = _read_sampler_state(pending)
    if pending_record is not None and int(pending_record.get("step", -1)) == step:
        # Killed between the model's replacement and the sampler state's: the pending file was
        # flushed before the model was replaced, so it is whole; finish the commit from it.
        model.negative_phase.set_state(pending_state)
        try:
            fsync_replace(pending, state_path)
            write_json(run_dir / PROGRESS_FILE, pending_record)
        except OSError:  # a read-only copy of a run: use it as it is
            pass
        say(console, f"[yellow]note:[/yellow] the checkpoint at step {step} was saved while the run was killed; "
                     f"its sampler state was completed from {pending.name}")
        return model, pending_record
    progress = read_progress(run_dir)
    if progress and int(progress.get("step", -1)) == step:
        why = (f"{damage}; the model and {PROGRESS_FILE} are whole, so" if damage else
               f"{SAMPLER_STATE_FILE} does not belong to the checkpoint at step {step} (the run was killed while "
               "saving);")
        say(console, f"[yellow]note:[/yellow] {why} the sampler starts fresh chains")
        return model, progress
    if damage:
        raise RunError(f"{damage}, and {PROGRESS_FILE} does not describe the checkpoint at step {step} either: the "
                       f"run cannot continue; train again (`qhvae train --out NEW`, with the settings of "
                       f"{run_dir / CONFIG_FILE})")
    raise RunError(f"{run_dir}: {CHECKPOINT_FILE} (step {step}) matches neither {SAMPLER_STATE_FILE} nor "
                   f"{PROGRESS_FILE}; the run directory is inconsistent")


def _read_sampler_state(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any] | None, str | None]:
    """``(state, record, damage)`` from a sampler-state file: empty with no record if it is missing."""
    if not path.exists():
        return {}, None, None
    try:
        with np.load(path, allow_pickle=False) as f:
            state = {k: f[k] for k in f.files}
        record = json.loads(state.pop("__record__").item()) if "__record__" in state else None
        return state, record, None
    except Exception as exc:
        return {}, None, f"{path} is damaged ({type(exc).__name__}: {exc})"


def _load_model(ckpt: Path, run_dir: Path):
    """``keras.models.load_model(ckpt)``, with a message that says what is wrong and what to do."""
    advice = (f"restore it from a copy of the run if you have one, or train again (`qhvae train --out NEW`, with "
              f"the settings of {run_dir / CONFIG_FILE})")
    if not zipfile.is_zipfile(ckpt):
        size = ckpt.stat().st_size
        raise RunError(f"{ckpt} is damaged: it is not a complete Keras archive ({size} bytes; cut short by a full "
                       f"disk or an interrupted copy?); {advice}")
    try:
        return keras.models.load_model(ckpt)
    except Exception as exc:
        try:
            with zipfile.ZipFile(ckpt) as archive:
                bad = archive.testzip()
        except Exception as zip_exc:
            bad = f"({type(zip_exc).__name__}: {zip_exc})"
        if bad is not None:
            raise RunError(f"{ckpt} is damaged: its member {bad} is corrupt; {advice}") from None
        raise RunError(f"cannot load {ckpt} ({type(exc).__name__}: {exc}); was it written by another version of "
                       f"qhvae or Keras? Otherwise {advice}") from None


class RunCheckpoint(keras.callbacks.Callback):
    """Commit checkpoints while everything is finite: at epoch ends and every ``every_steps`` steps.

    A step checkpoint is skipped at the last batch of an epoch (the epoch end commits it
    with the epoch's metrics). An epoch whose loss, metrics or weights are non-finite is
    not committed and sets :attr:`diverged`; the last committed checkpoint stays.

    Args:
        run_dir: the run directory.
        record: the last committed record (the one training continues from).
        every_steps: also commit every this many optimizer steps (``None``: epoch ends only).
        batch_offset: batches of the first epoch of this ``fit`` done before (a resumed
            mid-epoch checkpoint).
        steps_per_epoch: batches in a full epoch (``None``: the steps of the ``fit`` call,
            right unless ``fit`` starts mid-epoch).

    Attributes:
        record: the last committed record.
        diverged: whether a non-finite loss, metric or weight was seen.
    """

    def __init__(self, run_dir: str | os.PathLike, record: dict[str, Any], every_steps: int | None = None,
                 batch_offset: int = 0, steps_per_epoch: int | None = None):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.record = dict(record)
        self.every_steps, self.batch_offset, self.steps_per_epoch = every_steps, int(batch_offset), steps_per_epoch
        self.diverged = False
        self._base_seconds = float(record.get("train_seconds", 0.0))
        # Wall time also counts a run paused (SIGSTOP) or starved by other jobs; the process's
        # CPU time (all its threads) does not, so both are kept.
        # A run that trained before CPU time was kept has no count to add to: NaN, not a low figure.
        trained = record.get("step", 0) or record.get("train_seconds", 0.0)
        self._base_cpu_seconds = float(record.get("cpu_seconds", float("nan") if trained else 0.0))
        self._clock, self._cpu_clock = time.perf_counter(), time.process_time()
        self._first_epoch = None

    def _elapsed(self) -> float:
        return self._base_seconds + time.perf_counter() - self._clock

    def _done(self, epoch: int) -> int:
        return self._batches + (self.batch_offset if epoch == self._first_epoch else 0)

    def _commit(self, **changes) -> None:
        cpu_seconds = self._base_cpu_seconds + time.process_time() - self._cpu_clock
        self.record = commit_checkpoint(self.model, self.run_dir, dict(self.record, train_seconds=self._elapsed(),
                                                                       cpu_seconds=cpu_seconds, **changes))

    def on_train_begin(self, logs=None):
        if self.steps_per_epoch is None:
            self.steps_per_epoch = int((self.params or {}).get("steps") or 1)

    def on_epoch_begin(self, epoch, logs=None):
        if self._first_epoch is None:
            self._first_epoch = epoch
        self._epoch, self._batches, self._finite = epoch, 0, True

    def on_train_batch_end(self, batch, logs=None):
        self._batches = batch + 1
        if not is_finite((logs or {}).get("loss", 0.0)):
            self._finite = False
            self.diverged = True
        steps = self.every_steps
        if steps and self._finite and int(self.model.optimizer.iterations.numpy()) % steps == 0:
            done = self._done(self._epoch)
            if done < self.steps_per_epoch and weights_finite(self.model):  # the epoch end commits the last one
                self._commit(epoch=self._epoch, batch=done)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if not self._finite or not all(is_finite(v) for v in logs.values()) or not weights_finite(self.model):
            self.diverged = True
            return
        done = self._done(epoch)
        if done < self.steps_per_epoch:  # stopped early by another callback: a mid-epoch checkpoint
            self._commit(epoch=epoch, batch=done)
            return
        history = {}
        for key in set(self.record["history"]) | set(logs):
            values = list(self.record["history"].get(key, []))[:epoch]
            values += [None] * (epoch - len(values))
            value = logs.get(key)
            values.append(float(value) if value is not None and np.ndim(value) == 0 and is_finite(value) else None)
            history[key] = values
        self._commit(epoch=epoch + 1, batch=0, history=history)


class HistoryCSVLogger(keras.callbacks.CSVLogger):
    """Keras's CSVLogger, appending, without the empty ``val_*`` columns it adds when there is no validation.

    Args:
        path: the run's ``history.csv``.
    """

    def __init__(self, path: str | os.PathLike):
        super().__init__(str(path), append=True)
        self.path = Path(path)

    def on_epoch_end(self, epoch, logs=None):
        if self.keys is None:
            # A resumed run appends under the header already written: its columns, in its order
            # (a column the new logs lack reads NA; a new key is left out rather than misaligned).
            header = _csv_header(self.path)
            self.keys = [k for k in header if k != "epoch"] if header else sorted((logs or {}).keys())
        super().on_epoch_end(epoch, logs)


def _csv_header(path: Path) -> list[str]:
    """The column names of an existing CSV file, or ``[]``."""
    try:
        with open(path, newline="") as f:
            return next(csv.reader(f), [])
    except FileNotFoundError:
        return []
