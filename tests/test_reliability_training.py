"""Issue #12 for training and the command line: interrupts, locks, how a run ended, models that
outlive their sampler, options that are refused rather than misread, messages that name the
file, exit codes, and the same seed giving the same run."""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import types
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import qhvae  # noqa: E402
from qhvae import CONTRACT_VERSION, SamplerEntry, hookimpl  # noqa: E402
from qhvae.cli import main  # noqa: E402
from qhvae.registry import configure_plugins, default_registry  # noqa: E402
from qhvae.samplers.gibbs import GibbsSampler  # noqa: E402
from qhvae.training import RunError, TrainConfig, load_run, read_progress, resume_run, train_run  # noqa: E402
from qhvae.training.checkpoint import latest_checkpoint  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"
ROOT = Path(__file__).resolve().parents[1]
#: A run written by the layout before checkpoints/ (checkpoint.keras, sampler_state.npz, progress.json).
LEGACY_RUN = ROOT / "tests" / "fixtures" / "legacy-run"

#: This file's runs evaluate on 8 test images x 4 importance samples (conftest.py's tiny run otherwise).
EVALUATED = dict(eval_num_images=8, eval_num_samples=4, eval_log_z_replicas=100)


@pytest.fixture(scope="module")
def tiny(tiny_run):
    """``tiny(**changes)``: the fields of a run of seconds (``tiny_run``), evaluated as :data:`EVALUATED`."""
    return lambda **changes: tiny_run(**{**EVALUATED, **changes})


@pytest.fixture(scope="module")
def tiny_args(tiny_run_args):
    """``tiny_args()``: ``qhvae train``'s options of a run of seconds, with networks of 16 and 8 units."""
    return lambda: tiny_run_args("--network-option", "hidden=16,8", "--eval-images", "8", "--eval-samples", "4")


class Text(str):
    """Console output: ``in`` ignores whitespace (rich wraps long lines, even inside a path)."""

    def __contains__(self, phrase) -> bool:
        return "".join(phrase.split()) in "".join(self.split())


def _err(capsys) -> Text:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return Text(" ".join(err.split()))


def _out(capsys) -> Text:
    return Text(" ".join(capsys.readouterr().out.split()))


def _plugin(name: str, factory) -> types.SimpleNamespace:
    mod = types.SimpleNamespace()
    mod.qhvae_samplers = hookimpl(lambda: [SamplerEntry(name, factory, f"test sampler {name}", CONTRACT_VERSION)])
    return mod


@pytest.fixture
def fresh_registry():
    """The process-wide registry rebuilt before and after a test that registers local plugins."""
    configure_plugins()
    yield default_registry()
    configure_plugins()


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny):
    """One finished tiny run (copied by the tests that damage it)."""
    run = tmp_path_factory.mktemp("trained") / "run"
    train_run(TrainConfig(**tiny(epochs=1, sampler="gibbs")), run)
    return run


def _copy(run: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    return copy


# ================================================================ hangs and interrupts

HANGING_DRIVER = """
import os, sys, threading, types
from qhvae import CONTRACT_VERSION, SamplerEntry, hookimpl
from qhvae.registry import default_registry
from qhvae.samplers.gibbs import GibbsSampler

MARKER = sys.argv[1]

class Hanging(GibbsSampler):
    calls = 0

    def _sample(self, bm, num_samples, seed, **params):
        Hanging.calls += 1
        if Hanging.calls > 3:  # after the epoch-0 checkpoint and a few steps: hang for good
            open(MARKER, "w").close()
            threading.Event().wait()
        return super()._sample(bm, num_samples, seed, **params)

mod = types.SimpleNamespace(qhvae_samplers=hookimpl(lambda: [
    SamplerEntry("hanging", lambda **kw: Hanging(**kw), "hangs on its fourth call", CONTRACT_VERSION)]))
default_registry().register(mod, name="hanging")
from qhvae.cli import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.timeout(300)
@pytest.mark.parametrize("signum, prefetch", [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGINT, True)],
                         ids=["SIGINT", "SIGTERM", "SIGINT-prefetch"])
@pytest.mark.slow
def test_ctrl_c_stops_a_run_whose_sampler_hangs(signum, prefetch, tmp_path, tiny_args):
    driver, marker, run = tmp_path / "driver.py", tmp_path / "hanging", tmp_path / "run"
    driver.write_text(HANGING_DRIVER)
    argv = [sys.executable, str(driver), str(marker), "train", *tiny_args(), "--epochs", "3", "--sampler", "hanging",
            "--sampler-option", "num_sweeps=2", "--sampler-option", "burn_in=5", "--out", str(run)]
    if prefetch:
        argv.append("--prefetch")  # the hung call is a background draw that the next step waits for
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    # As from a terminal: a test runner started in the background (`cmd &` in a script) ignores
    # SIGINT, and an ignored signal stays ignored in its children (and, rightly, in qhvae).
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 200
        while not marker.exists():
            if proc.poll() is not None:
                pytest.fail(f"training ended before its sampler hung:\n{proc.stdout.read()}\n{proc.stderr.read()}")
            assert time.monotonic() < deadline, "the sampler never hung"
            time.sleep(0.1)
        time.sleep(0.5)
        proc.send_signal(signum)
        try:
            # Only a hang: the sampler never returns, so a run that waited for it would never end.
            out, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            pytest.fail("Ctrl-C did not stop a run whose sampler hangs (still running 120 s later)")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    err = Text(" ".join(err.split()))
    assert proc.returncode == 130, err
    assert "interrupted" in err and f"qhvae train --resume {run}" in err
    assert "Traceback" not in err
    progress = read_progress(run)
    assert progress["status"] == "interrupted"
    assert (latest_checkpoint(run) / "checkpoint.keras").is_file()
    model, _, record = load_run(run)  # the last checkpoint is whole (a plugin-free load, see below)
    assert record["step"] == int(model.optimizer.iterations.numpy())


@pytest.mark.slow
def test_a_killed_run_is_told_apart_from_a_live_one(trained, tmp_path):
    from qhvae.training import RunLock, run_status

    run = _copy(trained, tmp_path)
    assert run_status(run) == "finished"
    progress = json.loads((run / "progress.json").read_text())
    (run / "progress.json").write_text(json.dumps(dict(progress, status="training")))  # what SIGKILL leaves
    assert run_status(run) == "killed"
    with RunLock(run):
        assert run_status(run) == "training"


@pytest.mark.slow
def test_an_interrupt_marks_the_run_interrupted_and_it_resumes(tmp_path, tiny):
    class CtrlC(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if int(self.model.optimizer.iterations.numpy()) == 3:
                raise KeyboardInterrupt

    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train_run(TrainConfig(**tiny(epochs=2, sampler="gibbs")), run, callbacks=[CtrlC()])
    progress = read_progress(run)
    assert progress["status"] == "interrupted" and progress["epoch"] == 1
    resume_run(run)
    assert read_progress(run)["status"] == "finished"


def test_a_failing_sampler_marks_the_run_failed_with_its_error(tmp_path, capsys, fresh_registry, tiny_args):
    class Failing(GibbsSampler):
        calls = 0

        def _sample(self, bm, num_samples, seed, **params):
            Failing.calls += 1
            if Failing.calls > 3:
                raise RuntimeError("the device went away")
            return super()._sample(bm, num_samples, seed, **params)

    fresh_registry.register(_plugin("failing", lambda **kw: Failing(**kw)), name="failing")
    run = tmp_path / "run"
    code = main(["train", *tiny_args(), "--epochs", "3", "--sampler", "failing", "--out", str(run)])
    err = _err(capsys)
    assert code == 1, err  # a failure while working, not a usage error
    assert "the device went away" in err
    progress = read_progress(run)
    assert progress["status"] == "failed" and "the device went away" in progress["message"]
    assert progress["epoch"] == 1  # the last checkpoint (end of epoch 1) is kept


def test_a_second_process_on_the_same_run_is_refused(trained, tmp_path, capsys):
    from qhvae.training.guard import RunLock

    run = _copy(trained, tmp_path)
    progress = (run / "progress.json").read_text()
    with RunLock(run):
        assert main(["train", "--resume", str(run), "--epochs", "2"]) == 2
        err = _err(capsys)
        assert f"{run} is in use by another qhvae process (pid {os.getpid()}, since " in err
        with pytest.raises(RunError, match="in use by another qhvae process"):
            resume_run(run, epochs=2)
        with pytest.raises(RunError, match="in use by another qhvae process"):
            RunLock(run).acquire()
    assert (run / "progress.json").read_text() == progress  # the refused process wrote nothing


def test_a_lock_left_by_a_dead_process_does_not_block(trained, tmp_path):
    from qhvae.training.guard import LOCK_FILE, RunLock

    run = _copy(trained, tmp_path)
    (run / LOCK_FILE).write_text("pid 999999999, since long ago\n")  # a SIGKILLed process leaves its file
    with RunLock(run) as lock:
        assert lock.held
    assert (run / LOCK_FILE).exists()  # left in place: removing it would race another process


def test_a_second_lock_in_a_subprocess_is_refused(trained, tmp_path):
    from qhvae.training.guard import RunLock

    run = _copy(trained, tmp_path)
    with RunLock(run):
        proc = subprocess.run([sys.executable, "-m", "qhvae.cli", "train", "--resume", str(run)],
                              capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "in use by another qhvae process" in Text(proc.stderr)


# ================================================================ models outlive their sampler


@pytest.mark.slow
def test_a_run_outlives_its_plugin_sampler(tmp_path, capsys, fresh_registry, tiny):
    fresh_registry.register(_plugin("mine", lambda **kw: GibbsSampler(**kw)), name="mine")
    run = tmp_path / "run"
    train_run(TrainConfig(**tiny(epochs=1, sampler="mine")), run)
    configure_plugins()  # the plugin is uninstalled
    assert "mine" not in default_registry().names()

    model, config, _ = load_run(run)  # loading never builds the training sampler
    assert config.sampler == "mine" and model.sampler_name == "mine"
    assert main(["evaluate", str(run), "--num-samples", "4", "--num-images", "8"]) == 0
    out = _out(capsys)
    assert "trained with sampler 'mine'" in out
    png = tmp_path / "grid.png"
    assert main(["sample", str(run), "--num", "4", "--out", str(png)]) == 0
    out = _out(capsys)
    assert "trained with sampler 'mine'" in out and "'pa'" in out
    assert png.read_bytes()[:8] == PNG
    assert main(["sample", str(run), "--num", "4", "--out", str(png), "--sampler", "gibbs",
                 "--sampler-option", "num_sweeps=3"]) == 0
    assert main(["gibbs-chain", str(run), "--steps", "4", "--out", str(tmp_path / "chain.png")]) == 0

    # resuming needs the sampler: a clear refusal that names it
    assert main(["train", "--resume", str(run), "--epochs", "2"]) == 2
    err = _err(capsys)
    assert "trained with sampler 'mine'" in err and "unknown sampler 'mine'" in err


def test_a_qpu_model_loads_without_qpu_credentials(trained, monkeypatch):
    """The model's configuration names the qpu sampler; loading it must not connect to a device."""
    from qhvae.vae import QVAE

    monkeypatch.delenv("DWAVE_API_TOKEN", raising=False)
    model, _, _ = load_run(trained)
    config = dict(model.get_config(), sampler="qpu", sampler_config={})
    clone = QVAE.from_config(config)
    clone.set_weights(model.get_weights())
    assert clone.sampler_name == "qpu"
    images, z = clone.generate(3, seed=0, sampler=qhvae.get_sampler("pa"))
    assert images.shape == (3, 8, 8, 1) and z.shape == (3, 8)
    assert clone.get_config() == config  # the round trip is exact


def test_the_lazy_sampler_keeps_its_checkpointed_state(trained):
    model, _, _ = load_run(trained)
    saved = dict(np.load(latest_checkpoint(trained) / "sampler_state.npz"))
    state = model.negative_phase.get_state()  # before the sampler is built: the saved state, untouched
    for key in ("sampler/chains", "sampler/streams", "calls", "seed"):
        assert np.array_equal(state[key], saved[key]), key
    assert model.sampler.name == "gibbs"  # built on first use, with the state restored
    assert np.array_equal(model.sampler.get_state()["chains"], saved["sampler/chains"])


def test_evaluate_takes_a_log_z_sampler(trained, tmp_path, capsys):
    run = _copy(trained, tmp_path)
    assert main(["evaluate", str(run), "--num-samples", "4", "--num-images", "8", "--sampler", "pa"]) == 0
    results = json.loads((run / "evaluation.json").read_text())
    assert results["log_z_method"] == "pa" and np.isfinite(results["log_z"])
    capsys.readouterr()
    assert main(["evaluate", str(run), "--num-samples", "4", "--sampler", "gibbs"]) == 2
    assert "gives no log Z" in _err(capsys)
    for command in ("evaluate", "sample"):  # options of no sampler are refused, not dropped
        assert main([command, str(run), "--sampler-option", "num_sweeps=3"]) == 2
        assert "--sampler-option configures --sampler" in _err(capsys)


# ================================================================ nothing silently misread


@pytest.mark.parametrize("name, options", [
    ("gibbs", {"num_sweeps": 2.5}), ("gibbs", {"burn_in": 1.5}), ("gibbs", {"num_sweeps": True}),
    ("pa", {"num_sweeps": 2.5}), ("pa", {"num_populations": 1.5}), ("sa", {"num_sweeps": 10.5}),
])
def test_samplers_refuse_non_integer_counts(name, options):
    key = next(iter(options))
    with pytest.raises(ValueError, match=rf"{key} must be a (positive|non-negative) integer"):
        qhvae.get_sampler(name, **options)


@pytest.mark.parametrize("name", ["gibbs", "pa", "sa"])
def test_sample_calls_refuse_non_integer_sweeps(name):
    sampler = qhvae.get_sampler(name)
    with pytest.raises(ValueError, match="num_sweeps must be a (positive|non-negative) integer, got 2.5"):
        sampler.sample_arrays(np.zeros(3), None, 4, seed=0, num_sweeps=2.5)


def test_train_refuses_a_fractional_sweep_count(tmp_path, capsys, tiny_args):
    out = tmp_path / "run"
    assert main(["train", *tiny_args(), "--epochs", "1", "--sampler-option", "num_sweeps=2.5", "--out", str(out)]) == 2
    assert "num_sweeps must be a positive integer, got 2.5" in _err(capsys)
    assert not out.exists()


def test_a_data_dir_that_does_not_exist_is_refused(tmp_path, capsys, monkeypatch, tiny_args):
    missing = tmp_path / "nowhere"
    monkeypatch.setenv("QHVAE_DATA_DIR", "/work/shared/data")  # would hold MNIST: must not be used instead
    with pytest.raises(RunError, match=f"data_dir {missing} does not exist"):
        TrainConfig(dataset="mnist", data_dir=str(missing)).validate()
    out = tmp_path / "run"
    assert main(["train", *tiny_args(), "--epochs", "1", "--dataset", "mnist", "--data-dir", str(missing),
                 "--out", str(out)]) == 2
    err = _err(capsys)
    assert f"--data-dir {missing} does not exist" in err
    assert not out.exists()
    a_file = tmp_path / "file"
    a_file.write_text("")
    assert main(["train", *tiny_args(), "--epochs", "1", "--data-dir", str(a_file), "--out", str(out)]) == 2
    assert "is not a folder" in _err(capsys)


def test_conflicting_noise_profiles_are_refused(tmp_path, capsys, tiny_args):
    out = tmp_path / "run"
    assert main(["train", *tiny_args(), "--epochs", "1", "--sampler", "emulator", "--noise-profile", "low",
                 "--sampler-option", "noise_profile=high", "--out", str(out)]) == 2
    err = _err(capsys)
    assert "--noise-profile low" in err and "noise_profile=high" in err and "conflict" in err
    assert not out.exists()


def test_an_option_given_twice_with_different_values_is_refused(tmp_path, capsys, tiny_args):
    out = tmp_path / "run"
    assert main(["train", *tiny_args(), "--epochs", "1", "--sampler-option", "num_sweeps=2", "--sampler-option",
                 "num_sweeps=3", "--out", str(out)]) == 2
    assert "--sampler-option num_sweeps is given twice (2 and 3)" in _err(capsys)
    assert not out.exists()


# ================================================================ messages that name the thing


def test_a_truncated_checkpoint_is_called_damaged(trained, tmp_path, capsys):
    run = _copy(trained, tmp_path)
    ckpt = latest_checkpoint(run) / "checkpoint.keras"
    ckpt.write_bytes(ckpt.read_bytes()[: ckpt.stat().st_size // 2])
    for argv in (["evaluate", str(run)], ["sample", str(run)], ["train", "--resume", str(run)]):
        assert main(argv) == 2, argv
        err = _err(capsys)
        assert f"{ckpt} is damaged" in err, err
        assert "File not found" not in err
        assert "train again" in err  # says what to do


def test_a_broken_config_names_the_file(trained, tmp_path, capsys):
    run = _copy(trained, tmp_path)
    (run / "config.json").write_text('{"epochs": 1, "sampler": ')
    assert main(["evaluate", str(run)]) == 2
    err = _err(capsys)
    assert f"{run / 'config.json'} is damaged" in err and "not valid JSON" in err
    (run / "config.json").write_text("[1, 2]")
    assert main(["train", "--resume", str(run)]) == 2
    assert f"{run / 'config.json'}" in _err(capsys)


def test_a_broken_sampler_state_names_the_file(trained, tmp_path, capsys):
    run = _copy(trained, tmp_path)
    published = latest_checkpoint(run)
    (published / "sampler_state.npz").write_bytes(b"PK\x03\x04 not really")
    # the model is whole and its record matches it: go on with fresh chains, and say why
    assert main(["sample", str(run), "--num", "4", "--out", str(tmp_path / "s.png")]) == 0
    out = _out(capsys)
    assert f"{published / 'sampler_state.npz'} is damaged" in out and "fresh chains" in out
    (published / "record.json").unlink()
    assert main(["sample", str(run), "--num", "4", "--out", str(tmp_path / "s.png")]) == 2
    assert f"{published / 'record.json'} is missing" in _err(capsys)


def test_a_broken_sampler_state_of_a_run_of_the_old_layout_names_the_file(tmp_path, capsys):
    run = _copy(LEGACY_RUN, tmp_path)
    (run / "sampler_state.npz").write_bytes(b"PK\x03\x04 not really")
    # the model is whole and progress.json matches it: go on with fresh chains, and say why
    assert main(["sample", str(run), "--num", "4", "--out", str(tmp_path / "s.png")]) == 0
    out = _out(capsys)
    assert f"{run / 'sampler_state.npz'} is damaged" in out and "fresh chains" in out
    (run / "progress.json").unlink()
    assert main(["sample", str(run), "--num", "4", "--out", str(tmp_path / "s.png")]) == 2
    assert f"{run / 'sampler_state.npz'} is damaged" in _err(capsys)


def test_a_broken_progress_file_names_the_file(trained, tmp_path, capsys):
    run = _copy(trained, tmp_path)
    (run / "progress.json").write_text("{")
    assert main(["train", "--out", str(run)]) == 2
    assert f"{run / 'progress.json'} is damaged" in _err(capsys)


@pytest.mark.parametrize("out", ["/proc/qhvae-run", "FILE", "FILE/run"])
def test_an_unwritable_out_fails_before_any_work(out, tmp_path, tiny_args):
    if "FILE" in out:
        (tmp_path / "FILE").write_text("")
        out = out.replace("FILE", str(tmp_path / "FILE"))
    code = ("import sys\nfrom qhvae.cli import main\nrc = main(sys.argv[1:])\n"
            "print('tensorflow loaded' if 'tensorflow' in sys.modules else 'nothing loaded')\nsys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code, "train", *tiny_args(), "--epochs", "1", "--out", out],
                          capture_output=True, text=True, timeout=240)
    err = Text(" ".join(proc.stderr.split()))
    assert proc.returncode == 2, err
    assert f"cannot write the run directory {out}" in err
    assert "nothing loaded" in proc.stdout  # refused before TensorFlow, data or model


def test_exit_codes_are_documented_and_kept(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = _out(capsys)
    for line in ("exit status:", "0 success", "1 a failure while working", "2 a usage error",
                 "3 training diverged", "130 interrupted"):
        assert line in out, line
    with pytest.raises(SystemExit) as info:
        main(["train", "--epochs", "x"])  # argparse's own usage errors
    assert info.value.code == 2


# ================================================================ same seed, same run


@pytest.mark.slow
def test_the_same_seed_gives_the_same_run(tmp_path, tiny):
    config = tiny(epochs=1, eval_num_images=0, num_plot_samples=0, gibbs_chain_steps=0, seed=5)
    runs = [train_run(TrainConfig(**config), tmp_path / f"run{i}") for i in range(2)]
    losses = [read_progress(run)["history"]["loss"] for run in runs]
    assert losses[0] == losses[1], losses
    weights = [load_run(run)[0].get_weights() for run in runs]
    assert all(np.array_equal(a, b) for a, b in zip(*weights, strict=True))
    other = train_run(TrainConfig(**dict(config, seed=6)), tmp_path / "other")
    assert read_progress(other)["history"]["loss"] != losses[0]


@pytest.mark.slow
def test_the_same_seed_gives_the_same_run_across_processes(tmp_path, tiny):
    code = textwrap.dedent("""
        import json, sys
        from qhvae.training import TrainConfig, read_progress, train_run
        run = train_run(TrainConfig(**json.loads(sys.argv[2])), sys.argv[1])
        print(json.dumps(read_progress(run)["history"]["loss"]))
    """)
    config = json.dumps(tiny(epochs=1, eval_num_images=0, num_plot_samples=0, gibbs_chain_steps=0, seed=3))
    losses = []
    for i in range(2):
        proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / f"run{i}"), config], capture_output=True,
                              text=True, timeout=240)
        assert proc.returncode == 0, proc.stderr
        losses.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    assert losses[0] == losses[1]


@pytest.mark.slow
def test_resuming_one_checkpoint_twice_continues_the_same_way(tmp_path, tiny):
    config = tiny(epochs=1, eval_num_images=0, num_plot_samples=0, gibbs_chain_steps=0)
    train_run(TrainConfig(**config), tmp_path / "a")
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    for name in ("a", "b"):
        resume_run(tmp_path / name, epochs=2)
    losses = [read_progress(tmp_path / name)["history"]["loss"] for name in ("a", "b")]
    assert len(losses[0]) == 2 and losses[0] == losses[1]


def test_a_kill_between_the_model_and_the_sampler_state_of_a_checkpoint_loses_nothing(trained, tmp_path, monkeypatch):
    """The window a SIGKILL found in CI: the model written, the sampler state and progress not yet.

    A checkpoint is a folder published by one rename, so a kill there leaves the previous
    checkpoint published, whole: its model, its chains and its record together.
    """
    from qhvae.training import checkpoint

    run = _copy(trained, tmp_path)
    model, record = checkpoint.load_checkpoint(run)
    before = checkpoint.latest_checkpoint(run)
    old_state = model.negative_phase.get_state()
    model.optimizer.iterations.assign_add(7)  # a later checkpoint than the files on disk
    real_save_state = checkpoint._save_state

    def killed_after_the_model(state, path):
        raise KeyboardInterrupt  # stands for the SIGKILL

    monkeypatch.setattr(checkpoint, "_save_state", killed_after_the_model)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.commit_checkpoint(model, run, dict(record, batch=3))
    monkeypatch.setattr(checkpoint, "_save_state", real_save_state)
    assert read_progress(run)["step"] == record["step"]  # progress.json still describes the old checkpoint
    orphan = run / "checkpoints" / f"step-{record['step'] + 7:08d}"
    assert (orphan / "checkpoint.keras").is_file()  # the model of the checkpoint cut short, never published

    loaded, loaded_record = checkpoint.load_checkpoint(run)
    assert checkpoint.latest_checkpoint(run) == before
    assert loaded_record == record and int(loaded.optimizer.iterations.numpy()) == record["step"]
    restored = loaded.negative_phase.get_state()
    assert old_state.keys() == restored.keys()
    assert all(np.array_equal(old_state[k], restored[k]) for k in old_state)  # the chains, not fresh ones
    checkpoint.commit_checkpoint(loaded, run, loaded_record)  # the next commit removes what was cut short
    assert not orphan.exists()


def test_a_kill_between_the_model_and_the_sampler_state_of_the_old_layout_loses_nothing(tmp_path):
    """The same window in a run written before checkpoints/: the model replaced, the sampler state
    (flushed to its pending file) and progress.json not yet; loading finishes the commit."""
    from qhvae.training import checkpoint

    run = _copy(LEGACY_RUN, tmp_path)
    model, record = checkpoint.load_checkpoint(run)
    model.optimizer.iterations.assign_add(7)  # a later checkpoint than the files on disk
    saved_state = model.negative_phase.get_state()
    # What the old commit wrote before the kill: the pending sampler state (with its record), then the model.
    new_record = dict(record, step=record["step"] + 7, batch=3)
    np.savez(run / ".sampler_state.tmp.npz", **saved_state, __record__=np.array(json.dumps(new_record)))
    model.save(run / "checkpoint.keras")
    assert read_progress(run)["step"] == record["step"]  # progress.json still describes the old checkpoint

    loaded, loaded_record = checkpoint.load_checkpoint(run)
    assert loaded_record["step"] == record["step"] + 7 and loaded_record["batch"] == 3
    restored = loaded.negative_phase.get_state()
    assert saved_state.keys() == restored.keys()
    assert all(np.array_equal(saved_state[k], restored[k]) for k in saved_state)  # the chains, not fresh ones
    assert read_progress(run)["step"] == record["step"] + 7  # the commit was finished
    assert not (run / ".sampler_state.tmp.npz").exists()


@pytest.mark.slow
def test_the_same_seed_gives_the_same_run_on_the_emulator(tmp_path, tiny):
    """Issue #22: the emulated device (its offsets, drift and noise) follows the run's seed."""
    config = tiny(epochs=2, eval_num_images=0, num_plot_samples=0, gibbs_chain_steps=0, seed=5,
                  tensorboard=False, sampler="emulator",
                  sampler_options={"noise_profile": "high", "topology_type": "chimera", "topology_shape": [2, 2, 4],
                                   "num_sweeps": 8})
    runs = [train_run(TrainConfig(**config), tmp_path / f"run{i}") for i in range(2)]
    # Everything but the wall time spent in the sampler.
    histories = [{k: v for k, v in read_progress(run)["history"].items() if k != "sampler_ms_per_step"}
                 for run in runs]
    assert {"loss", "beta_eff", "beta_eff_true"} <= set(histories[0])
    assert histories[0] == histories[1]
    # The seed given to the sampler by the user wins over the run's.
    other = train_run(TrainConfig(**dict(config, sampler_options=dict(config["sampler_options"], device_seed=6))),
                      tmp_path / "other")
    assert read_progress(other)["history"]["beta_eff_true"] != histories[0]["beta_eff_true"]


# ================================================================ history.csv against the record


def _csv_rows(path: Path) -> list[list[str]]:
    import csv

    with open(path, newline="") as f:
        return list(csv.reader(f))


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["garbled", "missing"])
def test_a_damaged_or_missing_history_csv_is_rebuilt_from_the_record(damage, trained, tmp_path, capsys):
    """Issue #22: the logger appended to what was left, losing epoch 0 and every column but two, without a word."""
    run = _copy(trained, tmp_path)
    history_csv = run / "history.csv"
    if damage == "garbled":
        history_csv.write_text("epoch,loss\nxx,yy,zz\n")
    else:
        history_csv.unlink()
    assert main(["train", "--resume", str(run), "--epochs", "2", "--eval-images", "0"]) == 0
    out = _out(capsys)
    assert "history.csv" in out and "rebuilt its 1 epochs from the run record" in out, out
    rows = _csv_rows(history_csv)
    record = read_progress(run)["history"]
    assert rows[0] == ["epoch"] + sorted(record), rows[0]
    assert [row[0] for row in rows[1:]] == ["0", "1"]
    for row in rows[1:]:
        epoch = int(row[0])
        for key, cell in zip(rows[0][1:], row[1:], strict=True):
            assert float(cell) == pytest.approx(record[key][epoch], rel=1e-6), (key, epoch)


def test_an_intact_history_csv_is_kept_and_cut_to_the_checkpoint(tmp_path):
    from qhvae.training.history import restore_history_csv

    path = tmp_path / "history.csv"
    record = {"epoch": 2, "history": {"loss": [3.5, 2.25], "iw_k": [1.0, 2.0], "test_ll": [None, -80.5]}}
    text = "epoch,iw_k,loss,test_ll\n0,1,3.5,NA\n1,2,2.25,-80.5\n2,2,2.0,NA\n"
    path.write_text(text)
    assert restore_history_csv(path, record) is None
    assert path.read_text() == text.rsplit("2,2,2.0", 1)[0]  # epoch 2 was never checkpointed
    for damaged, why in [(text.replace("2.25", "9.25"), "disagrees with the record at epoch 1 (loss 9.25)"),
                         ("epoch,iw_k,loss\n0,1,3.5\n1,2,2.25\n", "lacks column(s) test_ll"),
                         ("epoch,iw_k,loss,test_ll\n1,2,2.25,-80.5\n", "lacks epoch(s) 0"),
                         ("epoch,iw_k,loss,test_ll\n0,1\n1,2,2.25,-80.5\n", "garbled row for epoch 0")]:
        path.write_text(damaged)
        note = restore_history_csv(path, record)
        assert note is not None and why in note and "rebuilt its 2 epochs" in note, note
        assert path.read_text() == text.rsplit("2,2,2.0", 1)[0]


# ================================================================ bounds before allocating


def test_a_gibbs_chain_too_long_to_hold_or_draw_is_refused_up_front(tmp_path):
    """Issue #22: ``write_gibbs_chain(model, path, steps=100000000)`` died with a 23.8 GiB MemoryError."""
    from qhvae.exceptions import ConfigError  # a ValueError the CLI reports as the user's, not as a bug
    from qhvae.training.run_evaluation import MAX_PICTURE_STEPS, gibbs_chain, write_gibbs_chain
    from qhvae.vae import QVAE

    model = QVAE((8, 8, 1), "chimera", graph_kwargs={"m": 1}, sampler="gibbs", network="fc",
                 network_options={"hidden": [16]}, num_negative_samples=16)
    png = tmp_path / "chain.png"
    with pytest.raises(ConfigError, match=rf"steps \(--steps\) must be at most {MAX_PICTURE_STEPS} frames for a "
                                         r"picture, got 100000000"):
        write_gibbs_chain(model, png, steps=100_000_000)
    assert not png.exists()
    with pytest.raises(ConfigError, match=r"steps \(--steps\) = 100000000 would need 29\.8 GiB .* at most 6710886"):
        gibbs_chain(model, steps=100_000_000)
    assert write_gibbs_chain(model, png, steps=4).exists()


def test_train_refuses_a_negative_phase_that_cannot_be_allocated():
    """``num_negative_samples=999999999999`` passed validation and failed in the prior with a negative shape."""
    with pytest.raises(RunError, match=r"num_negative_samples must be an integer in \[1, 10000000\], got 999999999999"):
        TrainConfig(num_negative_samples=999_999_999_999).validate()
