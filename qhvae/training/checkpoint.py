"""A run's checkpoints: each written whole into a folder of its own, published by one atomic rename.

In the run directory (:mod:`~qhvae.training.rundir` names its other files)::

    checkpoints/
        LATEST                 the published checkpoint's folder name (first line), then the
                               earlier ones kept, newest first
        step-00000012/         one checkpoint, written whole before it is published:
            checkpoint.keras       the model with its optimizer state (keras.models.load_model)
            sampler_state.npz      the negative phase's state (persistent chains, call counter)
            record.json            the progress record: epoch, batch, step, history, times, status
        step-00000008/         the previous one (the last KEEP_CHECKPOINTS are kept)
    checkpoint.keras       a link to the published checkpoint's model (a view, never read here)
    progress.json          the record, with how the run ended (a view, written after the commit)

:func:`commit_checkpoint` writes the three files into a new folder, flushes them and the folder
to disk, then writes ``LATEST.tmp``, flushes it and ``os.replace``-s it onto ``LATEST``: that
rename is the commit (the pattern of Keras's ``BackupAndRestore`` and of Orbax). Only then are
the views written (``progress.json``, the ``checkpoint.keras`` link) and the folders beyond
the last :data:`KEEP_CHECKPOINTS` deleted. A process killed at any moment leaves ``LATEST``
naming a whole checkpoint, the old one or the new one; a folder that ``LATEST`` does not name
(a write cut short) is never read, and the next commit removes it. A write that fails (a full
disk) removes its folder and raises :class:`~qhvae.training.config.TrainingFailed`: the previous
checkpoint stays published.

:func:`load_checkpoint` reads ``LATEST`` and loads the folder it names. A run written before
this layout (``checkpoint.keras``, ``sampler_state.npz`` and ``progress.json`` side by side in
the run directory, no ``checkpoints/``) still loads, and its first new checkpoint moves it to
this layout.

Only the process that holds the run's lock (:class:`~qhvae.training.guard.RunLock`) commits;
any process may load, even while the run trains.
"""

from __future__ import annotations

import datetime
import errno
import itertools
import json
import os
import re
import shutil
import time
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..tfutil import import_tensorflow_quietly

import_tensorflow_quietly()  # before Keras: its import prints TensorFlow's notices otherwise

import keras  # noqa: E402

from .config import RunError, TrainingFailed  # noqa: E402
from .console import say  # noqa: E402
from .monitors import is_finite, weights_finite  # noqa: E402
from .rundir import (  # noqa: E402
    CHECKPOINTS_DIR,
    CHECKPOINT_FILE,
    CONFIG_FILE,
    PROGRESS_FILE,
    SAMPLER_STATE_FILE,
    describe_position,
    fsync_replace,
    read_progress,
    write_json,
    write_progress,
)

__all__ = [
    "POINTER_FILE",
    "RECORD_FILE",
    "KEEP_CHECKPOINTS",
    "checkpoint_folders",
    "latest_checkpoint",
    "has_checkpoint",
    "commit_checkpoint",
    "load_checkpoint",
    "RunCheckpoint",
]

#: In ``checkpoints/``: the published checkpoint's folder name, then the earlier ones kept.
POINTER_FILE = "LATEST"
#: In a checkpoint's folder: its progress record.
RECORD_FILE = "record.json"
#: How many checkpoints a run keeps (the published one and the ones before it).
KEEP_CHECKPOINTS = 2

_FOLDER = re.compile(r"^step-\d+(-\d+)?$")
# Runs written before checkpoints/ existed: the sampler state being committed, and the model's.
_LEGACY_PENDING_STATE = ".sampler_state.tmp.npz"
_LEGACY_PENDING_MODEL = ".checkpoint.tmp.keras"


def checkpoint_folders(run_dir: str | os.PathLike) -> list[Path]:
    """The folders of the run's kept checkpoints, the published one first (``[]``: none yet).

    Example:
        >>> import tempfile
        >>> checkpoint_folders(tempfile.mkdtemp())
        []
    """
    root = Path(run_dir) / CHECKPOINTS_DIR
    return [root / name for name in _pointer_names(root)]


def latest_checkpoint(run_dir: str | os.PathLike) -> Path | None:
    """The folder of the run's published checkpoint, or ``None`` (no checkpoint, or one of the old layout)."""
    folders = checkpoint_folders(run_dir)
    return folders[0] if folders else None


def has_checkpoint(run_dir: str | os.PathLike) -> bool:
    """Whether the run has a checkpoint to load: a published one, or a model in the old layout.

    Example:
        >>> import tempfile
        >>> has_checkpoint(tempfile.mkdtemp())
        False
    """
    run_dir = Path(run_dir)
    return latest_checkpoint(run_dir) is not None or (run_dir / CHECKPOINT_FILE).is_file()


def _pointer_names(root: Path) -> list[str]:
    """The folder names ``root/LATEST`` lists (``[]`` when there is no pointer)."""
    pointer = root / POINTER_FILE
    try:
        text = pointer.read_text()
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise RunError(f"cannot read {pointer}: {getattr(exc, 'strerror', None) or exc}") from None
    names = text.split()
    if not names or not all(_FOLDER.match(name) for name in names):
        raise RunError(
            f"{pointer} is damaged: it should name checkpoint folders (step-N), one a line, and holds "
            f"{text[:80]!r}; qhvae writes it whole or not at all, so it was changed by hand"
        )
    return names


def _fsync_path(path: Path) -> None:
    """Flush a file, or a folder's entries, to disk (Windows cannot open a folder: its entries are left)."""
    if os.name == "nt" and path.is_dir():
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _new_folder_name(root: Path, step: int) -> str:
    """``step-0000000N``, or ``step-0000000N-K`` when the step already has a folder (a second commit at it)."""
    name = base = f"step-{step:08d}"
    for suffix in itertools.count(2):
        if not (root / name).exists():
            return name
        name = f"{base}-{suffix}"
    raise AssertionError("unreachable")  # pragma: no cover


def _remove_unlisted(root: Path, keep: list[str]) -> None:
    """Delete the checkpoint folders that ``keep`` does not name: old ones, and writes that were cut short."""
    if not root.exists():
        return
    for path in root.iterdir():
        if _FOLDER.match(path.name) and path.name not in keep and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)


def _link_view(run_dir: Path, folder: str) -> None:
    """Make ``RUN/checkpoint.keras`` a link to the published model, for the readers that open that name
    (none where the file system has no symbolic links: a stale model under that name would mislead)."""
    view, tmp = run_dir / CHECKPOINT_FILE, run_dir / f".{CHECKPOINT_FILE}.link.tmp"
    tmp.unlink(missing_ok=True)
    try:
        os.symlink(Path(CHECKPOINTS_DIR) / folder / CHECKPOINT_FILE, tmp)
    except (OSError, NotImplementedError):
        view.unlink(missing_ok=True)
        return
    os.replace(tmp, view)


def _retire_legacy_files(run_dir: Path) -> None:
    """Remove the old layout's sampler state and half-written files once a new checkpoint is published."""
    for name in (SAMPLER_STATE_FILE, _LEGACY_PENDING_STATE, _LEGACY_PENDING_MODEL):
        (run_dir / name).unlink(missing_ok=True)


def _save_model(model, path: Path) -> None:
    with warnings.catch_warnings():
        # Keras's saving converts TF variables with np.array(x), which numpy 2 flags, once per variable.
        warnings.filterwarnings(
            "ignore", message=".*__array__ implementation doesn't accept a copy keyword.*", category=DeprecationWarning
        )
        model.save(path)
    _fsync_path(path)


def _save_state(state: dict[str, np.ndarray], path: Path) -> None:
    with open(path, "wb") as f:
        np.savez(f, **state)  # type: ignore[arg-type]  # numpy's stub matches **kwds against allow_pickle: bool
        f.flush()
        os.fsync(f.fileno())


def commit_checkpoint(
    model, run_dir: str | os.PathLike, record: dict[str, Any], keep: int = KEEP_CHECKPOINTS
) -> dict[str, Any]:
    """Write one checkpoint into a new folder and publish it (see the module's notes); returns the record.

    Then ``progress.json`` and the ``checkpoint.keras`` link show it, and only the last ``keep``
    checkpoints stay. The caller holds the run's lock.

    Args:
        model: the :class:`~qhvae.vae.QVAE` being trained.
        run_dir: the run directory.
        record: the progress record to save with it (its ``step`` is set from the optimizer).
        keep: how many checkpoints to keep, this one included (at least 1).

    Returns:
        The record as saved.

    Raises:
        TrainingFailed: the disk refused a write (full, read-only, failing): the new folder is
            removed, the previous checkpoint stays published, and the message says how to go on.
    """
    run_dir = Path(run_dir)
    if model.negative_phase.prefetch:
        model.negative_phase.reset()  # a background draw must not change the chains mid-save
    record = dict(
        record,
        step=int(model.optimizer.iterations.numpy()),
        updated=datetime.datetime.now().isoformat(timespec="seconds"),
    )
    state = dict(model.negative_phase.get_state())
    root = run_dir / CHECKPOINTS_DIR
    previous, folder, published = [], None, False
    try:
        root.mkdir(parents=True, exist_ok=True)
        previous = _pointer_names(root)
        _remove_unlisted(root, previous)  # writes cut short: their space first
        folder = root / _new_folder_name(root, record["step"])
        folder.mkdir()
        _save_model(model, folder / CHECKPOINT_FILE)
        _save_state(state, folder / SAMPLER_STATE_FILE)
        write_json(folder / RECORD_FILE, record)
        _fsync_path(folder)
        _fsync_path(root)  # the folder's own entry, before the pointer names it
        names = [folder.name] + previous[: max(int(keep), 1) - 1]
        pointer = root / f"{POINTER_FILE}.tmp"
        pointer.write_text("".join(f"{name}\n" for name in names))
        fsync_replace(pointer, root / POINTER_FILE)  # the commit
        published = True
        _fsync_path(root)
        write_progress(run_dir, record)
        _link_view(run_dir, folder.name)
        _remove_unlisted(root, names)
        _retire_legacy_files(run_dir)
    except Exception as exc:  # a kill (or a second Ctrl-C) leaves the folder to the next commit
        if not published and folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        if isinstance(exc, OSError):
            raise _write_failed(run_dir, exc, record, previous, published) from None
        raise
    return record


def _write_failed(run_dir: Path, exc: OSError, record: dict, previous: list[str], published: bool) -> TrainingFailed:
    """The error of a checkpoint the disk refused, saying what is kept and how to continue."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        why, fix = "the disk is full", "once space is freed"
    elif exc.errno == errno.EROFS:
        why, fix = "the file system is read-only", "once it is writable again"
    else:
        why, fix = exc.strerror or str(exc), "once the disk is fixed"
    where = f" ({exc.filename})" if exc.filename else ""
    kept = _describe_kept(run_dir, previous)
    if published:
        what = f"the checkpoint at step {record['step']} was saved, but {PROGRESS_FILE} may lag behind it"
    else:
        what = "the partial checkpoint was removed and " + (
            f"the run keeps {kept}" if kept else "no checkpoint was saved yet"
        )
    then = "continues from it" if published or kept else "starts the run again"
    return TrainingFailed(
        f"cannot write a checkpoint of {run_dir}: {why}{where}; {what}: {fix}, `qhvae train --resume {run_dir}` {then}"
    )


def _describe_kept(run_dir: Path, previous: list[str]) -> str | None:
    """The checkpoint a run keeps after a failed write, in words (``None``: it has none)."""
    if previous:
        try:
            kept = json.loads((run_dir / CHECKPOINTS_DIR / previous[0] / RECORD_FILE).read_text())
            return f"the checkpoint of {describe_position(kept)} (step {kept['step']})"
        except (OSError, ValueError, KeyError, TypeError):
            return f"its last checkpoint ({CHECKPOINTS_DIR}/{previous[0]})"
    if (run_dir / CHECKPOINT_FILE).is_file():
        return f"its last checkpoint ({CHECKPOINT_FILE})"
    return None


def load_checkpoint(run_dir: str | os.PathLike, console=None):
    """``(model, record)`` from the run's published checkpoint, with the sampler state restored.

    A sampler state that is damaged while the model and the record are whole is replaced by
    fresh chains, with a note on ``console``. A run of the old layout loads as it did.

    Raises:
        RunError: no checkpoint, or a damaged one (the message names the file and what to do).
    """
    from .. import vae  # noqa: F401  (registers the serializable classes)

    run_dir = Path(run_dir)
    for attempt in range(3):
        folder = latest_checkpoint(run_dir)
        if folder is None:
            return _load_legacy(run_dir, console)
        try:
            return _load_folder(folder, run_dir, console)
        except (RunError, OSError) as exc:
            # A reader of a run in training: the trainer published twice meanwhile and removed
            # this folder. The newer checkpoint is the one to read.
            if attempt == 2 or latest_checkpoint(run_dir) == folder:
                if isinstance(exc, RunError):
                    raise
                raise RunError(f"cannot read the checkpoint in {folder}: {exc.strerror or exc}") from None
            time.sleep(0.1)
    raise AssertionError("unreachable")  # pragma: no cover


def _advice(run_dir: Path) -> str:
    older = checkpoint_folders(run_dir)[1:]
    back = (
        f"go back to the checkpoint before it (write {older[0].name} as the first line of "
        f"{run_dir / CHECKPOINTS_DIR / POINTER_FILE}), "
        if older
        else ""
    )
    return (
        f"{back}restore the run from a copy if you have one, or train again (`qhvae train --out NEW`, with the "
        f"settings of {run_dir / CONFIG_FILE})"
    )


def _load_folder(folder: Path, run_dir: Path, console):
    """``(model, record)`` of one checkpoint folder."""
    ckpt, record_path = folder / CHECKPOINT_FILE, folder / RECORD_FILE
    if not ckpt.exists():
        raise RunError(
            f"{ckpt} is missing: {folder.parent / POINTER_FILE} names {folder.name} but it holds no "
            f"model; {_advice(run_dir)}"
        )
    model = _load_model(ckpt, _advice(run_dir))
    try:
        record = json.loads(record_path.read_text())
        if not isinstance(record, dict) or not isinstance(record.get("step"), int):
            raise ValueError("not a checkpoint record")
    except FileNotFoundError:
        raise RunError(f"{record_path} is missing; {_advice(run_dir)}") from None
    except (OSError, ValueError) as exc:
        raise RunError(f"{record_path} is damaged ({exc}); {_advice(run_dir)}") from None
    step = int(model.optimizer.iterations.numpy())
    if record["step"] != step:
        raise RunError(
            f"{folder} is inconsistent: its model is at step {step}, {RECORD_FILE} says "
            f"{record['step']}; {_advice(run_dir)}"
        )
    state_path = folder / SAMPLER_STATE_FILE
    state, _, damage = _read_sampler_state(state_path)
    if damage is None and not state_path.exists():
        damage = f"{state_path} is missing"
    if damage:
        say(
            console,
            f"[yellow]note:[/yellow] {damage}; the model and {RECORD_FILE} are whole, so the sampler "
            "starts fresh chains",
        )
    else:
        model.negative_phase.set_state(state)
    return model, record


def _read_sampler_state(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any] | None, str | None]:
    """``(state, record, damage)`` from a sampler-state file: empty with no record if it is missing.

    ``record`` is the old layout's copy of the progress record (``__record__``), if any.
    """
    if not path.exists():
        return {}, None, None
    try:
        with np.load(path, allow_pickle=False) as f:
            state = {k: f[k] for k in f.files}
        record = json.loads(state.pop("__record__").item()) if "__record__" in state else None
        return state, record, None
    except Exception as exc:
        return {}, None, f"{path} is damaged ({type(exc).__name__}: {exc})"


def _load_model(ckpt: Path, advice: str):
    """``keras.models.load_model(ckpt)``, with a message that says what is wrong and what to do."""
    if not zipfile.is_zipfile(ckpt):
        size = ckpt.stat().st_size
        raise RunError(
            f"{ckpt} is damaged: it is not a complete Keras archive ({size} bytes; cut short by a full "
            f"disk or an interrupted copy?); {advice}"
        )
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
        raise RunError(
            f"cannot load {ckpt} ({type(exc).__name__}: {exc}); was it written by another version of "
            f"qhvae or Keras? Otherwise {advice}"
        ) from None


def _load_legacy(run_dir: Path, console):
    """``(model, record)`` of a run written before ``checkpoints/``: ``checkpoint.keras``,
    ``sampler_state.npz`` (with the record under ``__record__``) and ``progress.json`` in the run directory.

    Those were replaced one after the other, so a kill could leave them of two checkpoints:
    killed between the model's replacement and the sampler state's, the new sampler state
    waits, whole, in the pending file and the commit is finished from it (same chains); a
    damaged sampler state with ``progress.json`` describing the model gives fresh chains. A
    note on ``console`` says which happened.
    """
    ckpt = run_dir / CHECKPOINT_FILE
    if not ckpt.is_file():
        raise RunError(f"{run_dir} has no checkpoint (no {CHECKPOINTS_DIR}/{POINTER_FILE}): was the run started?")
    model = _load_model(ckpt, _advice(run_dir))
    step = int(model.optimizer.iterations.numpy())
    state_path = run_dir / SAMPLER_STATE_FILE
    state, record, damage = _read_sampler_state(state_path)
    if record is not None and int(record.get("step", -1)) == step:
        model.negative_phase.set_state(state)
        return model, record
    pending = run_dir / _LEGACY_PENDING_STATE
    pending_state, pending_record, _ = _read_sampler_state(pending)
    if pending_record is not None and int(pending_record.get("step", -1)) == step:
        # The pending file was flushed before the model was replaced, so it is whole.
        model.negative_phase.set_state(pending_state)
        try:
            fsync_replace(pending, state_path)
            write_json(run_dir / PROGRESS_FILE, pending_record)
        except OSError:  # a read-only copy of a run: use it as it is
            pass
        say(
            console,
            f"[yellow]note:[/yellow] the checkpoint at step {step} was saved while the run was killed; "
            f"its sampler state was completed from {pending.name}",
        )
        return model, pending_record
    progress = read_progress(run_dir)
    if progress and int(progress.get("step", -1)) == step:
        why = (
            f"{damage}; the model and {PROGRESS_FILE} are whole, so"
            if damage
            else f"{SAMPLER_STATE_FILE} does not belong to the checkpoint at step {step} (the run was killed while "
            "saving);"
        )
        say(console, f"[yellow]note:[/yellow] {why} the sampler starts fresh chains")
        return model, progress
    if damage:
        raise RunError(
            f"{damage}, and {PROGRESS_FILE} does not describe the checkpoint at step {step} either: the "
            f"run cannot continue; train again (`qhvae train --out NEW`, with the settings of "
            f"{run_dir / CONFIG_FILE})"
        )
    raise RunError(
        f"{run_dir}: {CHECKPOINT_FILE} (step {step}) matches neither {SAMPLER_STATE_FILE} nor "
        f"{PROGRESS_FILE}; the run directory is inconsistent"
    )


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

    def __init__(
        self,
        run_dir: str | os.PathLike,
        record: dict[str, Any],
        every_steps: int | None = None,
        batch_offset: int = 0,
        steps_per_epoch: int | None = None,
    ):
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
        self.record = commit_checkpoint(
            self.model,
            self.run_dir,
            dict(self.record, train_seconds=self._elapsed(), cpu_seconds=cpu_seconds, **changes),
        )

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
            assert self.steps_per_epoch is not None  # set by on_train_begin
            if done < self.steps_per_epoch and weights_finite(self.model):  # the epoch end commits the last one
                self._commit(epoch=self._epoch, batch=done)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if not self._finite or not all(is_finite(v) for v in logs.values()) or not weights_finite(self.model):
            self.diverged = True
            return
        done = self._done(epoch)
        assert self.steps_per_epoch is not None  # set by on_train_begin
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
