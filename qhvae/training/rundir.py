"""A run directory on disk: its files, atomic writes and the progress record.

A *run directory* holds everything one training run needs and produces:

- ``config.json``: the :class:`~qhvae.training.config.TrainConfig` (resolved: graph options filled in)
- ``checkpoints/``: the checkpoints, each a folder (``step-00000012/``: ``checkpoint.keras``, the
  model with its optimizer state; ``sampler_state.npz``, the negative phase's state; ``record.json``,
  the progress record), and ``LATEST``, the pointer to the published one, moved by one atomic
  rename (see :mod:`~qhvae.training.checkpoint`)
- ``checkpoint.keras``: a link to the published checkpoint's model (runs written before
  ``checkpoints/`` have the model itself here, and ``sampler_state.npz`` beside it)
- ``progress.json``: the published checkpoint's record, readable, written after each commit:
  ``epoch`` (epochs completed), ``batch`` (batches done in the epoch in progress, for step
  checkpoints), ``step`` (optimizer steps), ``history`` (per-epoch metrics), ``train_seconds``
  and ``cpu_seconds`` (wall and CPU time of training so far), ``status`` and ``message``:
  ``training`` while a process trains it (one at a time: see
  :class:`~qhvae.training.guard.RunLock`), then how it ended: ``finished``, ``interrupted``
  (Ctrl-C or SIGTERM), ``diverged``, ``failed`` (``message`` holds the error) or ``stopped``
  (by a user callback). Only a process killed outright (SIGKILL, a power cut) leaves
  ``training`` behind; :func:`run_status` tells that apart from a live run by the lock
- ``history.csv``: Keras ``CSVLogger`` output, appended on resume (rows of epochs that
  were never checkpointed are dropped when a run resumes, and a file that is missing or
  disagrees with the record is rebuilt from it: :mod:`~qhvae.training.history`)
- ``training_curves.png``: loss, bounds, reconstruction and schedules per epoch
- ``samples.png``: images decoded from prior samples (``model.generate``)
- ``gibbs_chain.png``: one block-Gibbs chain on the prior, one colour class per frame
- ``evaluation.json``: test log-likelihood, ELBO, active units, ``log Z`` (quick settings)

Every file here is written to a temporary name and then ``os.replace``-d into place
(:func:`write_json`), so a reader never sees half a file.

This module keeps the layout alone and imports neither Keras nor TensorFlow: the checkpoints are
:mod:`~qhvae.training.checkpoint`, ``history.csv``'s logger :mod:`~qhvae.training.history`, the
finite-weights check :mod:`~qhvae.training.monitors`, console notes :mod:`~qhvae.training.console`.
"""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .config import LATER_DEFAULTS, RunError, TrainConfig

__all__ = [
    "CONFIG_FILE", "CHECKPOINTS_DIR", "CHECKPOINT_FILE", "SAMPLER_STATE_FILE", "PROGRESS_FILE", "HISTORY_FILE",
    "CURVES_FILE", "SAMPLES_FILE", "CHAIN_FILE", "EVALUATION_FILE",
    "fsync_replace", "write_json", "read_progress", "read_config", "write_progress", "holds_run",
    "new_record", "describe_position", "mark_ended", "run_status", "ENDINGS",
]

#: How a run can end, as ``progress.json``'s ``status`` says.
ENDINGS = ("finished", "interrupted", "diverged", "failed", "stopped")

CONFIG_FILE = "config.json"
#: The folder of the run's checkpoints (:mod:`~qhvae.training.checkpoint`).
CHECKPOINTS_DIR = "checkpoints"
#: A checkpoint's model, in its folder; in the run directory, a link to the published one's.
CHECKPOINT_FILE = "checkpoint.keras"
#: A checkpoint's sampler state, in its folder (in the run directory in runs of the old layout).
SAMPLER_STATE_FILE = "sampler_state.npz"
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
    """Whether ``path`` is a folder holding (part of) a run: a config, checkpoints or a progress file.

    Example:
        >>> import tempfile
        >>> holds_run(tempfile.mkdtemp())
        False
    """
    path = Path(path)
    return path.is_dir() and any((path / f).exists() for f in (CONFIG_FILE, CHECKPOINTS_DIR, CHECKPOINT_FILE,
                                                         PROGRESS_FILE))


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
