"""Checkpoints (issue #21): each one a folder, published by one atomic rename of ``checkpoints/LATEST``.

A kill between a written folder and the pointer, a full disk, a reader racing the trainer, and a
run written by the layout before (``checkpoint.keras`` + ``sampler_state.npz`` + ``progress.json``)
that resumes and moves to the folders."""

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import qhvae.training.checkpoint as checkpoint  # noqa: E402
from qhvae.cli import main  # noqa: E402
from qhvae.training import RunError, TrainConfig, load_run, read_progress, resume_run, run_status, train_run  # noqa: E402
from qhvae.training.checkpoint import checkpoint_folders, latest_checkpoint, load_checkpoint  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: Written by `qhvae train --dataset digits --limit 64 --batch-size 32 --epochs 2 --network fc
#: --network-option hidden=8 --graph-option m=1 --num-negative-samples 16 --eval-images 0
#: --no-tensorboard` before checkpoints/ existed (plots removed): 2 epochs, 4 steps.
LEGACY_RUN = ROOT / "tests" / "fixtures" / "legacy-run"


@pytest.fixture(scope="module")
def tiny(tiny_run):
    """``tiny(**changes)``: a run of seconds (conftest.py's ``tiny_run``: 2 steps an epoch), not evaluated, no
    TensorBoard logs."""
    return lambda **changes: tiny_run(**{"eval_num_images": 0, "tensorboard": False, **changes})


@pytest.fixture(scope="module")
def tiny_args(tiny_run_args):
    """``tiny_args()``: ``qhvae train``'s options of the same run."""
    return lambda: tiny_run_args("--network-option", "hidden=16", "--eval-images", "0", "--no-tensorboard")


RECORD_KEYS = {
    "epoch",
    "batch",
    "step",
    "epochs",
    "history",
    "status",
    "message",
    "train_seconds",
    "cpu_seconds",
    "updated",
}


def _err(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return "".join(err.split())  # rich wraps long lines, even inside a path


def _has(text: str, phrase: str) -> bool:
    return "".join(phrase.split()) in text


def _pointer(run: Path) -> list[str]:
    return (run / "checkpoints" / "LATEST").read_text().split()


def _folders(run: Path) -> list[str]:
    return sorted(p.name for p in (run / "checkpoints").iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny):
    """A finished run of 2 epochs with a step checkpoint every 3 steps: commits at steps 0, 2, 3 and 4."""
    run = tmp_path_factory.mktemp("trained") / "run"
    train_run(TrainConfig(**tiny(epochs=2, checkpoint_every_steps=3)), run)
    return run


def test_each_checkpoint_is_a_folder_and_the_last_two_are_kept(trained):
    assert _pointer(trained) == ["step-00000004", "step-00000003"]  # the published one first
    assert _folders(trained) == ["step-00000003", "step-00000004"]  # older ones removed
    published = latest_checkpoint(trained)
    assert published == trained / "checkpoints" / "step-00000004"
    assert sorted(p.name for p in published.iterdir()) == ["checkpoint.keras", "record.json", "sampler_state.npz"]
    assert os.readlink(trained / "checkpoint.keras") == "checkpoints/step-00000004/checkpoint.keras"  # a view
    assert not (trained / "sampler_state.npz").exists()
    assert not list(trained.rglob("*.tmp*")), "temporary files left behind"

    # progress.json is the published record, with how the run ended: what it held before
    record = json.loads((published / "record.json").read_text())
    progress = read_progress(trained)
    assert set(progress) == RECORD_KEYS and set(record) == RECORD_KEYS
    assert (record["status"], progress["status"]) == ("training", "finished")
    assert {k: v for k, v in progress.items() if k not in ("status", "updated")} == {
        k: v for k, v in record.items() if k not in ("status", "updated")
    }
    assert (progress["epoch"], progress["batch"], progress["step"]) == (2, 0, 4)
    assert len(progress["history"]["loss"]) == 2 and progress["train_seconds"] > 0 and progress["cpu_seconds"] > 0

    previous = json.loads((trained / "checkpoints" / "step-00000003" / "record.json").read_text())
    assert (previous["epoch"], previous["batch"], previous["step"]) == (1, 1, 3)  # the step checkpoint

    model, loaded = load_checkpoint(trained)
    assert loaded == record and int(model.optimizer.iterations.numpy()) == 4
    saved = np.load(published / "sampler_state.npz")
    assert np.array_equal(model.negative_phase.get_state()["sampler/chains"], saved["sampler/chains"])


def test_a_second_checkpoint_at_the_same_step_gets_a_folder_of_its_own(trained, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(trained, run, symlinks=True)
    model, record = load_checkpoint(run)
    checkpoint.commit_checkpoint(model, run, dict(record, message="again"))
    assert _pointer(run) == ["step-00000004-2", "step-00000004"]
    assert load_checkpoint(run)[1]["message"] == "again"
    checkpoint.commit_checkpoint(model, run, record, keep=1)
    assert _pointer(run) == ["step-00000004-3"] and _folders(run) == ["step-00000004-3"]


KILLED_AT_THE_POINTER = """
import os, signal, sys, json
from qhvae.training import TrainConfig, checkpoint, train_run

real = checkpoint.fsync_replace

def killed_before_the_pointer_moves(tmp, path):
    # LATEST.tmp is written and flushed, naming the new folder (whole, flushed): the kill
    # comes before the rename that would publish it.
    if path.name == "LATEST" and tmp.read_text().split()[0] == sys.argv[3]:
        os.kill(os.getpid(), signal.SIGKILL)
    real(tmp, path)

checkpoint.fsync_replace = killed_before_the_pointer_moves
train_run(TrainConfig(**json.loads(sys.argv[2])), sys.argv[1])
"""


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_kill_between_a_written_folder_and_the_pointer_resumes_from_the_previous_checkpoint(tmp_path, tiny):
    run, driver = tmp_path / "run", tmp_path / "driver.py"
    driver.write_text(KILLED_AT_THE_POINTER)
    config = tiny(epochs=3)
    proc = subprocess.run(
        [sys.executable, str(driver), str(run), json.dumps(config), "step-00000004"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]

    # The folder of step 4 is whole, but LATEST still names step 2: that is the checkpoint.
    orphan = run / "checkpoints" / "step-00000004"
    assert sorted(p.name for p in orphan.iterdir()) == ["checkpoint.keras", "record.json", "sampler_state.npz"]
    assert (run / "checkpoints" / "LATEST.tmp").exists()
    assert _pointer(run) == ["step-00000002", "step-00000000"]
    progress = read_progress(run)
    assert (progress["epoch"], progress["step"], progress["status"]) == (1, 2, "training")
    assert run_status(run) == "killed"
    model, _, record = load_run(run)  # the orphan is never read
    assert record["step"] == 2 == int(model.optimizer.iterations.numpy())
    saved = dict(np.load(run / "checkpoints" / "step-00000002" / "sampler_state.npz"))
    assert np.array_equal(model.negative_phase.get_state()["sampler/chains"], saved["sampler/chains"])
    (orphan / "marker").write_text("written before the resume")

    seen = {}

    class Capture(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            if not seen:
                seen.update(self.model.negative_phase.get_state(), step=int(self.model.optimizer.iterations.numpy()))

    resume_run(run, callbacks=[Capture()])
    assert seen["step"] == 2
    for key in ("sampler/chains", "sampler/streams", "calls", "seed"):
        assert np.array_equal(seen[key], saved[key]), key
    progress = read_progress(run)
    assert (progress["status"], progress["epoch"], progress["step"]) == ("finished", 3, 6)
    assert all(len(v) == 3 for v in progress["history"].values())
    # The orphan was removed (step 4 was written again, from the resumed run), and nothing else is left.
    assert not (orphan / "marker").exists()
    assert _pointer(run) == ["step-00000006", "step-00000004"] == sorted(_folders(run), reverse=True)
    assert not (run / "checkpoints" / "LATEST.tmp").exists() or _pointer(run)  # a stale one is harmless


@pytest.mark.parametrize("step", [4, 0], ids=["a-later-checkpoint", "the-first-checkpoint"])
def test_a_full_disk_while_writing_a_checkpoint_keeps_the_previous_one(step, tmp_path, monkeypatch, capsys, tiny_args):
    run = tmp_path / "run"
    real = checkpoint._save_state

    def disk_full(state, path):
        if path.parent.name == f"step-{step:08d}":
            path.write_bytes(b"PK\x03\x04 half a file")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real(state, path)

    monkeypatch.setattr(checkpoint, "_save_state", disk_full)
    assert main(["train", *tiny_args(), "--epochs", "2", "--out", str(run)]) == 1  # a failure while working
    err = _err(capsys)
    assert _has(err, f"cannot write a checkpoint of {run}: the disk is full"), err
    assert _has(err, "the partial checkpoint was removed"), err
    assert not (run / "checkpoints" / f"step-{step:08d}").exists()
    progress = read_progress(run)
    assert progress["status"] == "failed" and "the disk is full" in progress["message"]
    if step:
        assert _has(err, "the run keeps the checkpoint of the end of epoch 1 (step 2)"), err
        assert _has(err, f"once space is freed, `qhvae train --resume {run}` continues from it"), err
        assert _pointer(run) == ["step-00000002", "step-00000000"] == sorted(_folders(run), reverse=True)
        assert (progress["epoch"], progress["step"]) == (1, 2)
        assert load_checkpoint(run)[1]["step"] == 2
    else:
        assert _has(
            err, f"no checkpoint was saved yet: once space is freed, `qhvae train --resume {run}` starts the run again"
        ), err
        assert not (run / "checkpoints" / "LATEST").exists()

    monkeypatch.setattr(checkpoint, "_save_state", real)  # space freed
    assert main(["train", "--resume", str(run)]) == 0
    progress = read_progress(run)
    assert (progress["status"], progress["epoch"], progress["step"]) == ("finished", 2, 4)
    assert len(progress["history"]["loss"]) == 2


def test_a_reader_follows_the_pointer_when_the_trainer_moves_it(trained, tmp_path, monkeypatch):
    run = tmp_path / "run"
    shutil.copytree(trained, run, symlinks=True)
    pointer = run / "checkpoints" / "LATEST"
    # A reader that read LATEST just before the trainer published twice and removed that folder.
    pointer.write_text("step-00000001\nstep-00000004\n")
    real = checkpoint._load_folder

    def trainer_moved_on(folder, run_dir, console):
        try:
            return real(folder, run_dir, console)
        finally:
            pointer.write_text("step-00000004\nstep-00000003\n")

    monkeypatch.setattr(checkpoint, "_load_folder", trainer_moved_on)
    assert load_checkpoint(run)[1]["step"] == 4
    monkeypatch.undo()

    # A pointer that names a folder that is not there, or that was changed by hand, is named in the error.
    pointer.write_text("step-00000001\nstep-00000004\n")
    with pytest.raises(RunError, match=r"step-00000001/checkpoint.keras is missing: .*LATEST names step-00000001"):
        load_checkpoint(run)
    pointer.write_text("latest please\n")
    with pytest.raises(RunError, match="LATEST is damaged"):
        load_run(run)


def test_a_run_of_the_old_layout_resumes_and_moves_to_checkpoint_folders(tmp_path, capsys):
    run = tmp_path / "legacy-run"
    shutil.copytree(LEGACY_RUN, run)
    before = read_progress(run)
    assert (before["epoch"], before["step"], before["status"]) == (2, 4, "finished")
    assert not (run / "checkpoints").exists() and not (run / "checkpoint.keras").is_symlink()
    saved = dict(np.load(run / "sampler_state.npz"))
    model, _, record = load_run(run)  # loads as it is
    assert record["step"] == 4 == int(model.optimizer.iterations.numpy())
    assert np.array_equal(model.negative_phase.get_state()["sampler/chains"], saved["sampler/chains"])

    seen = {}

    class Capture(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            if not seen:
                seen.update(self.model.negative_phase.get_state(), step=int(self.model.optimizer.iterations.numpy()))

    resume_run(run, epochs=3, callbacks=[Capture()])  # what `qhvae train --resume RUN --epochs 3` does
    assert seen["step"] == 4
    for key in ("sampler/chains", "sampler/streams", "calls", "seed"):
        assert np.array_equal(seen[key], saved[key]), key  # the saved chains continue
    progress = read_progress(run)
    assert (progress["status"], progress["epoch"], progress["batch"], progress["step"]) == ("finished", 3, 0, 6)
    for key, values in before["history"].items():
        assert progress["history"][key][:2] == values, key  # the history is kept, one epoch added
        assert len(progress["history"][key]) == 3
    assert progress["train_seconds"] > before["train_seconds"] and progress["cpu_seconds"] > before["cpu_seconds"]
    with open(run / "history.csv") as f:
        assert [line.split(",")[0] for line in f.read().splitlines()[1:]] == ["0", "1", "2"]

    # From then on, the new layout: the old files are gone.
    assert _pointer(run) == ["step-00000006"] and _folders(run) == ["step-00000006"]
    assert os.readlink(run / "checkpoint.keras") == "checkpoints/step-00000006/checkpoint.keras"
    assert not (run / "sampler_state.npz").exists()
    assert json.loads((latest_checkpoint(run) / "record.json").read_text())["step"] == 6
    assert main(["train", "--resume", str(run), "--epochs", "4"]) == 0
    assert read_progress(run)["step"] == 8 and _pointer(run) == ["step-00000008", "step-00000006"]
    assert [p.name for p in checkpoint_folders(run)] == _pointer(run)
