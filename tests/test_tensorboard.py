"""TensorBoard logs: what ``qhvae train`` writes, read back with TensorBoard's own event reader."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
pytest.importorskip("tensorflow")
event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
import keras  # noqa: E402
from tensorboard.util.tensor_util import make_ndarray  # noqa: E402

from qhvae.cli import main  # noqa: E402
from qhvae.training import TrainConfig, train_run  # noqa: E402
from qhvae.training.monitors import SamplerMonitor  # noqa: E402
from qhvae.training.tensorboard import QVAETensorBoard, images_every_for  # noqa: E402
from qhvae.vae import QVAE  # noqa: E402


def read_events(log_dir: Path):
    """TensorBoard's view of a log folder: {run: EventAccumulator} for every folder holding event files."""
    runs = {}
    for events in sorted(log_dir.rglob("events.out.tfevents.*")):
        run = events.parent.relative_to(log_dir).as_posix()
        if run not in runs:
            runs[run] = event_accumulator.EventAccumulator(str(events.parent), size_guidance={"images": 0,
                                                                                               "tensors": 0})
            runs[run].Reload()
    return runs


def scalar_series(acc, tag: str) -> dict[int, float]:
    """A scalar tag's values by step (Keras 3 writes scalars as tensors)."""
    tags = acc.Tags()
    if tag in tags.get("scalars", []):
        return {e.step: e.value for e in acc.Scalars(tag)}
    return {e.step: float(np.asarray(make_ndarray(e.tensor_proto)))
            for e in acc.Tensors(tag)}


@pytest.fixture(scope="module")
def run(tmp_path_factory, tiny_run):
    """A run of seconds (conftest.py's ``tiny_run``), 3 epochs, its test set tracked every 2 epochs."""
    out = tmp_path_factory.mktemp("tb") / "run"
    config = tiny_run(dataset="digits", epochs=3, eval_num_images=8, eval_num_samples=4, eval_log_z_replicas=64,
                      track_every_epochs=2, track_num_images=8, track_num_samples=4, track_log_z_replicas=64)
    train_run(TrainConfig(**config), out)
    return out


@pytest.mark.slow
def test_a_run_writes_the_qhvae_scalars(run):
    runs = read_events(run / "tensorboard")
    assert list(runs) == ["train"]
    acc = runs["train"]
    tags = set(acc.Tags().get("tensors", [])) | set(acc.Tags().get("scalars", []))
    for tag in ("epoch_loss", "epoch_bound_without_log_z", "epoch_kl_weight", "epoch_beta_eff", "epoch_weight_l1",
                "epoch_sampler_ms_per_step", "epoch_learning_rate", "epoch_test_log_likelihood", "epoch_test_log_z",
                "epoch_test_log_z_stderr", "epoch_test_active_units"):
        assert tag in tags, f"{tag} missing; tags: {sorted(tags)}"
    assert sorted(scalar_series(acc, "epoch_loss")) == [0, 1, 2]
    # tracked epochs only: the first, every 2nd, the last
    assert sorted(scalar_series(acc, "epoch_test_log_likelihood")) == [0, 1, 2]
    weight_l1 = scalar_series(acc, "epoch_weight_l1")
    history = (run / "history.csv").read_text().splitlines()
    header = history[0].split(",")
    last = dict(zip(header, history[-1].split(","), strict=True))
    assert weight_l1[2] == pytest.approx(float(last["weight_l1"]), rel=1e-5)
    assert all(v > 0 for v in scalar_series(acc, "epoch_sampler_ms_per_step").values())


@pytest.mark.slow
def test_a_run_writes_prior_samples_and_a_gibbs_chain(run):
    acc = read_events(run / "tensorboard")["train"]
    tags = set(acc.Tags().get("tensors", [])) | set(acc.Tags().get("images", []))
    assert {"prior_samples", "gibbs_chain"} <= tags, sorted(tags)
    # about ten times per run and at the last epoch: every epoch of a 3-epoch run
    steps = [e.step for e in acc.Tensors("prior_samples")]
    assert steps == [0, 1, 2]
    encoded = make_ndarray(acc.Tensors("gibbs_chain")[-1].tensor_proto)
    width, height, png = int(encoded[0]), int(encoded[1]), encoded[2]
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and width > 8 and height > 8


def test_no_tensorboard_writes_no_logs(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--dataset", "digits", "--limit", "32", "--batch-size", "32", "--epochs", "1",
                 "--network", "fc", "--network-option", "hidden=16", "--graph-option", "m=1",
                 "--num-negative-samples", "16", "--eval-images", "0", "--no-tensorboard", "--out", str(out)]) == 0
    assert (out / "checkpoints" / "LATEST").is_file() and (out / "checkpoint.keras").is_file()
    assert not (out / "tensorboard").exists()


def test_images_are_logged_about_ten_times_per_run():
    assert [images_every_for(e) for e in (1, 9, 10, 50, 2000)] == [1, 1, 1, 5, 200]


def test_the_monitors_feed_a_plain_keras_tensorboard_in_user_code(tmp_path):
    # The emulator knows the beta_eff it really sampled at: the log carries the estimate and the truth.
    model = QVAE((8, 8, 1), "chimera", graph_kwargs={"m": 1}, network="fc", network_options={"hidden": [16]},
                 num_negative_samples=16, sampler="emulator",
                 sampler_config={"noise_profile": "low", "num_sweeps": 8, "device_seed": 0}, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    x = (np.random.default_rng(0).random((16, 8, 8, 1)) > 0.5).astype(np.float32)
    history = model.fit(x, epochs=2, batch_size=8, verbose=0,
                        callbacks=[SamplerMonitor(), keras.callbacks.TensorBoard(str(tmp_path), write_graph=False)])
    true_beta = model.sampler.device.last_call.beta_eff
    assert history.history["beta_eff_true"][-1] == pytest.approx(true_beta)
    assert history.history["beta_eff"][-1] != history.history["beta_eff_true"][-1]
    acc = read_events(tmp_path)["train"]
    assert scalar_series(acc, "epoch_beta_eff_true")[1] == pytest.approx(true_beta, rel=1e-6)


def test_pictures_leave_the_training_sampler_alone(tmp_path):
    model = QVAE((8, 8, 1), "chimera", graph_kwargs={"m": 1}, network="fc", network_options={"hidden": [16]},
                 num_negative_samples=16, sampler="gibbs", seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    x = (np.random.default_rng(0).random((16, 8, 8, 1)) > 0.5).astype(np.float32)
    model.fit(x, epochs=1, batch_size=16, verbose=0)
    before = {k: np.copy(v) for k, v in model.negative_phase.get_state().items()}
    board = QVAETensorBoard(tmp_path, num_samples=8, chain_steps=4)
    board.set_model(model)
    board.log_images(0)
    after = model.negative_phase.get_state()
    assert before.keys() == after.keys()
    for key in before:
        np.testing.assert_array_equal(before[key], after[key], err_msg=key)


@pytest.mark.slow
def test_a_conditional_run_with_hidden_units_logs_one_grid_per_class_and_tracks_its_test_set(tmp_path, tiny_run):
    """The conditional QVAE with coupled hidden units through the whole run: training with its test set
    tracked, one TensorBoard grid per class, the Gibbs chain, and the final evaluation."""
    config = tiny_run(dataset="digits", epochs=1, conditional=True, num_negative_samples=20,
                      graph_options={"m": 1, "hidden": 0.5, "hidden_from": "random"}, eval_num_images=10,
                      eval_num_samples=4, eval_log_z_replicas=64, track_every_epochs=1, track_num_images=8,
                      track_num_samples=4, track_log_z_replicas=64)
    out = tmp_path / "run"
    train_run(TrainConfig(**config), out)
    runs = read_events(out / "tensorboard")
    tags = set().union(*(set(acc.Tags().get("tensors", [])) | set(acc.Tags().get("images", []))
                         for acc in runs.values()))
    assert {f"prior_samples/class_{y}" for y in range(10)} | {"gibbs_chain"} <= tags, sorted(tags)
    assert "test_log_likelihood" in (out / "history.csv").read_text().splitlines()[0]
    evaluation = json.loads((out / "evaluation.json").read_text())
    assert evaluation["conditional"] and evaluation["hidden_units"] == 4 and evaluation["hidden_coupled"]
    assert evaluation["units"] == 4 and np.isfinite(evaluation["log_likelihood"])
