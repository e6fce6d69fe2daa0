"""Usage errors the command line refuses before any work, naming what the user typed
(issue #22's unclear messages): each test failed before its fix."""

from __future__ import annotations

import json

import pytest

from qhvae.cli import build_parser, main
from qhvae.training.config import RunError, TrainConfig


def _err(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return " ".join(err.split())  # rich wraps long lines


def test_an_option_given_twice_with_different_values_is_refused(capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["train", "--epochs", "1", "--epochs", "2"])
    assert exc.value.code == 2
    assert "--epochs is given twice (1 and 2); give it once" in _err(capsys)
    # the same value twice is no contradiction (docs/getting-started.md)
    assert build_parser().parse_args(["train", "--epochs", "2", "--epochs", "2"]).epochs == 2


def test_a_sampler_option_without_a_key_is_refused(capsys, tmp_path):
    assert main(["train", "--sampler-option", "=5", "--out", str(tmp_path / "r")]) == 2
    assert "--sampler-option '=5' has no key before '='" in _err(capsys)


@pytest.mark.parametrize("command", ["evaluate", "sample", "gibbs-chain"])
def test_a_negative_seed_names_the_option(command, capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main([command, str(tmp_path), "--seed", "-3"])
    assert exc.value.code == 2
    assert "argument --seed: must be a non-negative integer, got -3" in _err(capsys)


@pytest.mark.parametrize("command", ["sample", "gibbs-chain"])
def test_an_out_under_a_file_is_a_usage_error(command, capsys, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("")
    assert main([command, str(tmp_path / "no-run"), "--out", str(afile / "x.png")]) == 2
    assert f"{afile} is a file, not a folder" in _err(capsys)


@pytest.mark.slow
def test_ctrl_c_before_the_run_folder_exists_gives_no_resume_hint(monkeypatch, capsys, tmp_path):
    import qhvae.training.fit as fit

    def interrupted_while_building(config, out, console=None):
        raise KeyboardInterrupt  # e.g. a sampler that hangs while it is being built

    monkeypatch.setattr(fit, "train_run", interrupted_while_building)
    out = tmp_path / "never-made"
    assert main(["train", "--out", str(out)]) == 130
    err = _err(capsys)
    assert "--resume" not in err and "nothing to resume" in err


def test_evaluating_a_run_being_trained_names_the_training_process(monkeypatch, tmp_path):
    import qhvae.training.run_evaluation as run_evaluation
    from qhvae.training.guard import RunLock

    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(TrainConfig().to_dict()))

    def caught_mid_write(run_dir, console=None):
        raise RunError(f"{run_dir}: the run directory is inconsistent")

    monkeypatch.setattr(run_evaluation, "load_checkpoint", caught_mid_write)
    with pytest.raises(RunError, match="inconsistent"):
        run_evaluation.load_run(run)  # nobody trains it: the damage is real and said as it is
    with RunLock(run):
        with pytest.raises(RunError, match=r"is being trained by another qhvae process \(.*pid"):
            run_evaluation.load_run(run)


@pytest.mark.timeout(300)
def test_the_exact_sampler_on_a_prior_it_cannot_enumerate_is_refused_before_any_work(capsys, tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--sampler", "exact", "--epochs", "1", "--limit", "32", "--out", str(out)]) == 2
    err = _err(capsys)
    assert "sampler 'exact' cannot train prior chimera(2)" in err and "component of 32 units" in err
    assert not out.exists()


def test_a_dataset_file_numpy_cannot_read_says_what_to_save(capsys, tmp_path):
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not numpy at all")
    assert main(["train", "--dataset", str(garbage), "--out", str(tmp_path / "run")]) == 2
    err = _err(capsys)
    assert "neither a .npy nor a .npz file" in err and "numpy.save" in err
    assert "allow_pickle" not in err  # numpy's advice, which a command-line user cannot follow
