"""``qhvae train / evaluate / sample / gibbs-chain``, run as users run them."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qhvae.cli import build_parser, main
from qhvae.training.checkpoint import latest_checkpoint

PNG = b"\x89PNG\r\n\x1a\n"
# Not conftest.py's tiny run: the command line with the conv network (and its widths) end to end.
TINY = ["--limit", "96", "--batch-size", "32", "--epochs", "2", "--network", "conv", "--base-filters", "4",
        "--hidden", "16", "--num-negative-samples", "32", "--sampler-option", "num_sweeps=2", "--sampler-option",
        "burn_in=5", "--eval-images", "16", "--eval-samples", "8"]


def _err(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return " ".join(err.split())  # rich wraps long lines


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A tiny run trained through the command line (with the negative phase prefetched)."""
    out = tmp_path_factory.mktemp("cli") / "run"
    assert main(["train", *TINY, "--prefetch", "--graph-option", "m=1", "--out", str(out)]) == 0
    return out


@pytest.mark.slow
def test_train_writes_the_run(run):
    for name in ("config.json", "progress.json", "history.csv", "evaluation.json"):
        assert (run / name).is_file(), name
    published = latest_checkpoint(run)  # checkpoints/step-N/, named by checkpoints/LATEST
    for name in ("checkpoint.keras", "sampler_state.npz", "record.json"):
        assert (published / name).is_file(), name
    assert (run / "checkpoint.keras").resolve() == (published / "checkpoint.keras").resolve()  # the view
    for name in ("training_curves.png", "samples.png", "gibbs_chain.png"):
        assert (run / name).read_bytes()[:8] == PNG, name
    config = json.loads((run / "config.json").read_text())
    assert config["graph_options"] == {"m": 1} and config["prefetch"] is True
    assert config["sampler_options"] == {"num_sweeps": 2, "burn_in": 5}
    assert json.loads((run / "progress.json").read_text())["status"] == "finished"


@pytest.mark.slow
def test_evaluate_prints_a_table_and_writes_json(run, capsys):
    assert main(["evaluate", str(run), "--num-samples", "12", "--num-images", "10"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "test log-likelihood" in out and "active units" in out and "log Z" in out
    results = json.loads((run / "evaluation.json").read_text())
    assert results["num_samples"] == 12 and results["num_images"] == 10
    assert np.isfinite(results["log_likelihood"]) and results["units"] == 8


@pytest.mark.slow
def test_sample_writes_a_png_grid(run, tmp_path):
    import matplotlib.image

    png = tmp_path / "grid.png"
    assert main(["sample", str(run), "--num", "9", "--out", str(png)]) == 0
    assert png.read_bytes()[:8] == PNG
    assert matplotlib.image.imread(png).ndim == 3


@pytest.mark.slow
def test_gibbs_chain_updates_one_colour_class_per_frame(run, tmp_path):
    from qhvae.training import gibbs_chain, load_run

    png = tmp_path / "chain.png"
    assert main(["gibbs-chain", str(run), "--steps", "12", "--out", str(png)]) == 0
    assert png.read_bytes()[:8] == PNG

    model, _, _ = load_run(run)
    z, images = gibbs_chain(model, steps=40, seed=3)
    assert z.shape == (40, 8) and images.shape == (40,) + tuple(model.image_shape)
    colors, num_colors = np.asarray(model.graph.colors), model.graph.num_colors
    for t in range(1, len(z)):
        changed = np.flatnonzero(z[t] != z[t - 1])
        assert np.all(colors[changed] == np.unique(colors)[t % num_colors])
    assert np.array_equal(gibbs_chain(model, steps=40, seed=3)[0], z)  # seeded


def test_the_default_run_folder_is_not_overwritten(tmp_path, monkeypatch):
    from qhvae.cli import _free_run_dir

    monkeypatch.chdir(tmp_path)
    assert _free_run_dir("qhvae-run") == Path("qhvae-run")
    (tmp_path / "qhvae-run").mkdir()
    (tmp_path / "qhvae-run" / "config.json").write_text("{}")
    assert _free_run_dir("qhvae-run") == Path("qhvae-run-2")


def test_train_defaults_come_from_the_config():
    from qhvae.training import TrainConfig

    args = build_parser().parse_args(["train"])
    assert args.resume is None and args.out is None and args.epochs is None
    default = TrainConfig()
    assert (default.dataset, default.prior, default.sampler) == ("digits", "chimera", "gibbs")


@pytest.mark.parametrize("argv, message", [
    (["--prior", "nope"], "unknown prior 'nope'; known priors (latent graphs): bernoulli, chimera,"),
    (["--dataset", "nope"], "unknown dataset 'nope'; known datasets: digits, mnist"),
    (["--sampler", "nope"], "unknown sampler 'nope'; known samplers: "),
    (["--graph-option", "q=3"], "prior 'chimera' has no option 'q'; its options are m, n, t"),
    (["--graph-option", "m"], "must look like key=value"),
    (["--epochs", "0"], "epochs must be a positive integer"),
    (["--sampler-option", "colour=3"], "sampler 'gibbs' (from package qhvae) rejected its configuration"),
])
def test_train_errors_are_clear(argv, message, tmp_path, capsys):
    assert main(["train", *argv, "--out", str(tmp_path / "run")]) == 2
    assert message in _err(capsys)
    assert not (tmp_path / "run").exists()


def test_missing_data_lists_where_it_looked(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("QHVAE_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    code = main(["train", "--dataset", "binarized_mnist", "--data-dir", str(tmp_path), "--out", str(tmp_path / "r")])
    if code == 0:
        pytest.skip("binarized MNIST is installed system-wide here")
    assert code == 2
    err = _err(capsys)
    assert "binarized_mnist" in err and str(tmp_path) in err
    assert not (tmp_path / "r").exists()


def test_wrong_image_shapes_are_clear(tmp_path, capsys):
    path = tmp_path / "wide.npy"
    np.save(path, np.zeros((60, 8, 12), np.float32))
    assert main(["train", "--dataset", str(path), "--out", str(tmp_path / "r")]) == 2
    err = _err(capsys)
    assert "square single-channel images" in err and "(8, 12, 1)" in err
    bad = tmp_path / "rgb.npy"
    np.save(bad, np.zeros((60, 8, 8, 3), np.float32))
    assert main(["train", "--dataset", str(bad), "--out", str(tmp_path / "r")]) == 2
    assert str(bad) in _err(capsys)


@pytest.mark.slow
def test_resume_and_run_folder_errors(run, tmp_path, capsys):
    assert main(["train", "--resume", str(run), "--sampler", "pa"]) == 2
    assert "--sampler cannot change when resuming" in _err(capsys)
    assert main(["train", "--resume", str(run), "--epochs", "1"]) == 2
    assert "has already trained 2 epochs; --epochs 1 is fewer" in _err(capsys)
    assert main(["train", "--out", str(run)]) == 2
    assert f"{run} already holds a run" in _err(capsys)
    assert main(["evaluate", str(tmp_path / "nothing")]) == 2
    assert "does not exist" in _err(capsys)
    (tmp_path / "plain").mkdir()
    assert main(["sample", str(tmp_path / "plain")]) == 2
    assert "not a qhvae run directory" in _err(capsys)


@pytest.mark.slow
def test_resume_of_a_finished_run_only_refreshes_its_outputs(run, capsys):
    (run / "samples.png").unlink()
    assert main(["train", "--resume", str(run)]) == 0
    assert "all 2 epochs are trained" in " ".join(capsys.readouterr().out.split())
    assert (run / "samples.png").read_bytes()[:8] == PNG


@pytest.mark.slow
def test_a_diverging_run_exits_with_a_clear_message(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", *TINY, "--learning-rate", "1e30", "--final-learning-rate", "1e30", "--out", str(out)]
    assert main(argv) == 3
    err = _err(capsys)
    assert "training diverged:" in err and "the last checkpoint holds the last finite state" in err
    assert f"--resume {out}" in err
    progress = json.loads((out / "progress.json").read_text())
    assert progress["status"] == "diverged" and progress["step"] == 0  # nothing after the NaN was saved
    assert (latest_checkpoint(out) / "checkpoint.keras").is_file() and not (out / "evaluation.json").exists()
    assert json.loads((latest_checkpoint(out) / "record.json").read_text())["step"] == 0


def test_module_entry_point_help():
    result = subprocess.run([sys.executable, "-m", "qhvae.cli", "train", "--help"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0
    assert "--resume RUN" in result.stdout and "--graph-option" in result.stdout


def test_conv_widths_with_the_fc_network_are_refused(tmp_path, capsys):
    """fc is the default network: --base-filters and --hidden would size nothing, so they are refused."""
    assert main(["train", "--base-filters", "4", "--out", str(tmp_path / "run")]) == 2
    err = _err(capsys)
    assert "--base-filters" in err and "--network conv" in err and "--network-option" in err
    assert not (tmp_path / "run").exists()
