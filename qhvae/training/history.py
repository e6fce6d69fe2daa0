"""The run's ``history.csv``: written epoch by epoch, kept in step with its record when a run resumes.

``history.csv`` is a convenience copy of the per-epoch metrics, appended by
:class:`HistoryCSVLogger` (Keras's ``CSVLogger``); the record (``progress.json`` and the
checkpoint's copy of it) is what a run is resumed from. A resumed run keeps the CSV rows of
the epochs its checkpoint holds and drops the rest (they were never checkpointed). A CSV
that is missing, unreadable, or says something else than the record (rows lost or garbled,
columns lost, other values) is written again from the record, and the caller is told why:
otherwise the logger would append to whatever is left and the file would silently lose
epochs and columns.

Example:
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "history.csv"
    >>> record = {"epoch": 2, "history": {"loss": [3.5, 2.25], "iw_k": [1.0, 2.0]}}
    >>> restore_history_csv(path, record)
    'history.csv was missing; rebuilt its 2 epochs from the run record (progress.json)'
    >>> print(path.read_text(), end="")
    epoch,iw_k,loss
    0,1,3.5
    1,2,2.25
    >>> restore_history_csv(path, record) is None
    True
"""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path
from typing import Any

from ..tfutil import import_tensorflow_quietly

import_tensorflow_quietly()  # before Keras: its import prints TensorFlow's notices otherwise

import keras  # noqa: E402

from .rundir import PROGRESS_FILE, fsync_replace  # noqa: E402

__all__ = ["HistoryCSVLogger", "restore_history_csv"]


class HistoryCSVLogger(keras.callbacks.CSVLogger):
    """Keras's CSVLogger, appending, without the empty ``val_*`` columns it adds when there is no validation.

    Args:
        path: the run's ``history.csv``.
    """

    keys: list[str] | None  # CSVLogger's: the columns, once the first epoch (or the header) sets them

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


def _cell(value: Any) -> str:
    """A record value as the logger writes it: whole numbers as integers, a missing value as NA."""
    if value is None or not math.isfinite(float(value)):
        return "NA"
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)


def _agrees(cell: str, value: Any) -> bool:
    try:
        parsed = float(cell)
    except ValueError:  # NA, or a value that was not a number (the record holds None for both)
        return value is None
    if value is None:
        return not math.isfinite(parsed)
    # The logger may have written a float32 metric at float32's shortest precision.
    return math.isclose(parsed, float(value), rel_tol=1e-6, abs_tol=1e-12)


def _problem(rows: list[list[str]], history: dict[str, list], epochs: int) -> str | None:
    """Why the CSV's ``rows`` (header first) do not hold the record's ``epochs`` epochs, or None."""
    if not rows or not rows[0] or rows[0][0] != "epoch":
        return "has no 'epoch' header"
    header = rows[0]
    lost = sorted(set(history) - set(header))
    unknown = sorted(set(header[1:]) - set(history))
    if lost or unknown:
        return f"lacks column(s) {', '.join(lost)}" if lost else f"has column(s) {', '.join(unknown)} the record lacks"
    kept: dict[int, list[str]] = {}
    for row in rows[1:]:
        try:
            epoch = int(row[0])
        except (ValueError, IndexError):
            return "has a garbled row"
        if epoch < epochs:
            if epoch in kept or len(row) != len(header):
                return f"has a garbled row for epoch {epoch}"
            kept[epoch] = row
    missing = [e for e in range(epochs) if e not in kept]
    if missing:
        return f"lacks epoch(s) {', '.join(map(str, missing[:5]))}{' ...' if len(missing) > 5 else ''}"
    for epoch in range(epochs):
        for key, cell in zip(header[1:], kept[epoch][1:], strict=True):
            values = history[key]
            if not _agrees(cell, values[epoch] if epoch < len(values) else None):
                return f"disagrees with the record at epoch {epoch} ({key} {cell})"
    return None


def restore_history_csv(path: str | os.PathLike, record: dict[str, Any]) -> str | None:
    """Make ``history.csv`` hold exactly the record's completed epochs, rebuilding it when it must.

    Args:
        path: the run's ``history.csv``.
        record: the checkpoint record being resumed (``epoch`` completed, ``history``).

    Returns:
        ``None`` when the file agreed with the record (its rows of later epochs, never
        checkpointed, are dropped), else one line saying what was wrong and that the file
        was rebuilt from the record.
    """
    path = Path(path)
    epochs = int(record["epoch"])
    history = {k: list(v) for k, v in (record.get("history") or {}).items()}
    problem: str | None
    if epochs == 0:
        # Nothing checkpointed to keep: the logger starts the file again, header included.
        if path.exists():
            _write(path, [])
        return None
    try:
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
    except FileNotFoundError:
        problem = "was missing"
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        problem = f"could not be read ({type(exc).__name__}: {exc})"
    else:
        problem = _problem(rows, history, epochs)
        if problem is None:
            kept = [row for row in rows[1:] if int(row[0]) < epochs]
            if len(kept) != len(rows) - 1:
                _write(path, [rows[0]] + kept)
            return None
    keys = sorted(history)
    rows = [["epoch"] + keys] + [
        [str(e)] + [_cell(history[k][e] if e < len(history[k]) else None) for k in keys] for e in range(epochs)
    ]
    _write(path, rows if keys else [])
    return f"{path.name} {problem}; rebuilt its {epochs} epochs from the run record ({PROGRESS_FILE})"


def _write(path: Path, rows: list[list[str]]) -> None:
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text.getvalue())
    fsync_replace(tmp, path)
