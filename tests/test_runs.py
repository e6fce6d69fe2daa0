"""Run directories: training, checkpoints, resume after a kill, divergence."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from qhvae.training import (  # noqa: E402
    RunError,
    TrainConfig,
    TrainingDiverged,
    load_run,
    read_progress,
    resume_run,
    train_run,
)
from qhvae.training.checkpoint import latest_checkpoint  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"

# 128 digits in batches of 32: 4 steps per epoch; a model small enough for seconds per run. Not
# conftest.py's tiny run (2 steps an epoch): a kill mid-epoch and the step counts need 4, and the
# pictures and the evaluation checked here need more samples.
TINY = dict(train_limit=128, batch_size=32, network="fc", network_options={"hidden": [16]}, num_negative_samples=32,
            sampler="gibbs", sampler_options={"num_sweeps": 2, "burn_in": 5}, eval_num_images=20, eval_num_samples=10,
            eval_log_z_replicas=200, num_plot_samples=9, gibbs_chain_steps=8)
STEPS_PER_EPOCH = 4


def _csv_epochs(run: Path) -> list[int]:
    with open(run / "history.csv") as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


def test_config_round_trip_and_validation():
    cfg = TrainConfig(**TINY)
    assert TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(RunError, match="unknown training options"):
        TrainConfig.from_dict({"epochz": 3})
    with pytest.raises(RunError, match="unknown prior 'nope'; known priors"):
        TrainConfig(prior="nope").validate()
    with pytest.raises(RunError, match="epochs must be a positive integer"):
        TrainConfig(epochs=0).validate()


@pytest.mark.slow
def test_train_writes_a_complete_run_and_resume_extends_it(tmp_path, monkeypatch):
    run = tmp_path / "run"
    assert train_run(TrainConfig(epochs=2, **TINY), run) == run
    for name in ("config.json", "progress.json", "history.csv",
                 "training_curves.png", "samples.png", "gibbs_chain.png", "evaluation.json"):
        assert (run / name).is_file(), name
    published = latest_checkpoint(run)  # the checkpoint: a folder, published by checkpoints/LATEST
    for name in ("checkpoint.keras", "sampler_state.npz", "record.json"):
        assert (published / name).is_file(), name
    assert (run / "checkpoint.keras").resolve() == (published / "checkpoint.keras").resolve()  # the view
    assert not (run / "sampler_state.npz").exists()
    for name in ("training_curves.png", "samples.png", "gibbs_chain.png"):
        assert (run / name).read_bytes()[:8] == PNG
    assert not list(run.glob(".*tmp*")), "temporary files left behind"
    assert not list(run.glob("checkpoints/**/*tmp*")), "temporary files left behind"

    progress = read_progress(run)
    assert progress["status"] == "finished"
    assert (progress["epoch"], progress["batch"], progress["step"]) == (2, 0, 2 * STEPS_PER_EPOCH)
    assert len(progress["history"]["loss"]) == 2 and all(np.isfinite(progress["history"]["loss"]))
    assert _csv_epochs(run) == [0, 1]
    # wall and CPU time of training are both kept (the CPU time does not count a paused run)
    assert progress["train_seconds"] > 0 and progress["cpu_seconds"] > 0
    trained_cpu_seconds = progress["cpu_seconds"]
    config = json.loads((run / "config.json").read_text())
    assert config["graph_options"] == {"m": 2}  # resolved: 32 units for 8x8 digits
    evaluation = json.loads((run / "evaluation.json").read_text())
    assert evaluation["num_images"] == 20 and evaluation["num_samples"] == 10
    assert np.isfinite(evaluation["log_likelihood"]) and 0 <= evaluation["active_units"] <= 32

    model, cfg, record = load_run(run)
    assert int(model.optimizer.iterations.numpy()) == 2 * STEPS_PER_EPOCH == record["step"]
    assert cfg.epochs == 2 and model.graph.num_nodes == 32
    saved = np.load(latest_checkpoint(run) / "sampler_state.npz")
    assert np.array_equal(model.negative_phase.get_state()["sampler/chains"], saved["sampler/chains"])

    with pytest.raises(RunError, match="already holds a run"):
        train_run(TrainConfig(epochs=2, **TINY), run)

    # with the CPU clock stopped, a resumed run's count stays the one it had: added to, not restarted
    monkeypatch.setattr(time, "process_time", lambda: 0.0)
    resume_run(run, epochs=3)  # one more epoch, from the epoch-end checkpoint
    progress = read_progress(run)
    assert (progress["epoch"], progress["step"]) == (3, 3 * STEPS_PER_EPOCH)
    assert len(progress["history"]["loss"]) == 3
    assert progress["cpu_seconds"] == trained_cpu_seconds
    assert _csv_epochs(run) == [0, 1, 2]


class _StopAtFirstStep(keras.callbacks.Callback):
    def on_train_batch_begin(self, batch, logs=None):
        raise KeyboardInterrupt


def test_a_run_stopped_before_its_first_step_resumes_with_the_whole_optimizer(tmp_path):
    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train_run(TrainConfig(epochs=1, **TINY), run, callbacks=[_StopAtFirstStep()])
    assert read_progress(run)["step"] == 0
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model, _, record = load_run(run)
    skipped = [str(w.message) for w in caught if "Skipping variable loading" in str(w.message)]
    assert not skipped, skipped
    # Adam's two slots per trainable variable, plus its iteration counter and learning rate
    assert len(model.optimizer.variables) == 2 * len(model.trainable_variables) + 2
    assert record["step"] == 0


DRIVER = """
import json, sys, time
import keras
from qhvae.training import TrainConfig, train_run

class Hang(keras.callbacks.Callback):
    # after the step checkpoint at epoch 2, batch 2: wait to be killed
    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == 1 and batch == 1:
            time.sleep(600)

train_run(TrainConfig(**json.loads(sys.argv[2])), sys.argv[1], callbacks=[Hang()])
"""


@pytest.mark.slow
def test_resume_after_sigkill_mid_epoch(tmp_path):
    run = tmp_path / "run"
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    config = dict(TINY, epochs=4, checkpoint_every_steps=3)
    proc = subprocess.Popen([sys.executable, str(driver), str(run), json.dumps(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while True:  # the step checkpoint at step 6 = epoch 1 (0-based), batch 2
            try:
                progress = read_progress(run)
            except (json.JSONDecodeError, OSError):
                progress = {}
            if progress.get("step", 0) >= 6:
                break
            if proc.poll() is not None:
                pytest.fail(f"the training process ended early:\n{proc.stdout.read().decode()}")
            assert time.monotonic() < deadline, "no checkpoint within 180 s"
            time.sleep(0.05)
        time.sleep(0.2)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    progress = read_progress(run)
    assert (progress["epoch"], progress["batch"], progress["step"]) == (1, 2, 6)
    assert progress["status"] == "training"
    assert not (run / "evaluation.json").exists()
    saved = dict(np.load(latest_checkpoint(run) / "sampler_state.npz"))

    seen = {}

    class Capture(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            if not seen:
                seen.update(self.model.negative_phase.get_state())
                seen["step"] = int(self.model.optimizer.iterations.numpy())

    resume_run(run, callbacks=[Capture()])
    # the sampler continued exactly the saved chains and random streams
    assert seen["step"] == 6
    for key in ("sampler/chains", "sampler/streams", "calls", "seed"):
        assert np.array_equal(seen[key], saved[key]), key
    progress = read_progress(run)
    assert progress["status"] == "finished"
    assert (progress["epoch"], progress["batch"]) == (4, 0)
    assert progress["step"] == 4 * STEPS_PER_EPOCH  # no step lost, none repeated
    assert all(len(v) == 4 for v in progress["history"].values())
    assert _csv_epochs(run) == [0, 1, 2, 3]
    model, _, _ = load_run(run)
    assert int(model.optimizer.iterations.numpy()) == 4 * STEPS_PER_EPOCH
    assert (run / "evaluation.json").exists() and (run / "samples.png").read_bytes()[:8] == PNG


class PoisonDecoder(keras.callbacks.Callback):
    """Make the loss NaN in the second epoch's second batch (the decoder's output kernel set to NaN)."""

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if self.epoch == 1 and batch == 1:
            var = self.model.decoder.out.kernel
            var.assign(np.full(var.shape, np.nan, np.float32))


@pytest.mark.slow
def test_nan_stops_training_and_keeps_the_last_finite_checkpoint(tmp_path):
    run = tmp_path / "run"
    config = TrainConfig(epochs=3, checkpoint_every_steps=1, **TINY)
    with pytest.raises(TrainingDiverged, match="the loss became nan at epoch 2, batch 2") as info:
        train_run(config, run, callbacks=[PoisonDecoder()])
    assert info.value.run_dir == run
    progress = read_progress(run)
    assert progress["status"] == "diverged" and "nan" in progress["message"]
    # step 5 (epoch 2, batch 1) was the last finite state; the NaN step 6 was never saved
    assert (progress["epoch"], progress["batch"], progress["step"]) == (1, 1, STEPS_PER_EPOCH + 1)
    model, _, record = load_run(run)
    assert record["step"] == STEPS_PER_EPOCH + 1 == int(model.optimizer.iterations.numpy())
    assert all(np.isfinite(w.numpy()).all() for w in model.weights)
    assert (run / "training_curves.png").read_bytes()[:8] == PNG
    assert not (run / "evaluation.json").exists()

    # the last finite checkpoint is a working one: resume it (a lower rate may be given)
    resume_run(run, overrides={"learning_rate": 1e-3})
    progress = read_progress(run)
    assert progress["status"] == "finished" and progress["step"] == 3 * STEPS_PER_EPOCH
    assert json.loads((run / "config.json").read_text())["learning_rate"] == 1e-3
    assert _csv_epochs(run) == [0, 1, 2]
    with pytest.raises(RunError, match="sampler cannot change"):
        resume_run(run, overrides={"sampler": "pa"})
