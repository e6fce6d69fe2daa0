"""Experiment executors: the local one, and Ray on a local 2-CPU instance (runs side by side,
a killed worker's run resumed, finished runs never trained again)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qhvae.cli import main
from qhvae.experiments import executor_by_name, plan_runs
from qhvae.experiments.executors import LocalExecutor, RayExecutor

ROOT = Path(__file__).resolve().parent.parent
#: In a run folder: the pointer to the published checkpoint, rewritten by every checkpoint.
LATEST = Path("checkpoints") / "LATEST"


def test_executors_by_name():
    assert isinstance(executor_by_name("local"), LocalExecutor)
    ray_executor = executor_by_name("ray", address="auto", cpus_per_run=2, gpus_per_run=1)
    assert (ray_executor.address, ray_executor.cpus_per_run, ray_executor.gpus_per_run) == ("auto", 2, 1)
    with pytest.raises(ValueError, match="unknown executor 'dask'; choose one of local, ray"):
        executor_by_name("dask")
    with pytest.raises(ValueError, match="cpus_per_run must be positive"):
        RayExecutor(cpus_per_run=0)


def test_ray_options_need_the_ray_executor(tmp_path, capsys):
    assert main(["experiment", "mapping", "--budget", "smoke", "--address", "auto", "--out", str(tmp_path)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "--address, --cpus, --cpus-per-run and --gpus-per-run apply to --executor ray" in err


def test_a_missing_ray_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(ImportError, match=r'pip install "qhvae\[ray\]"'):
        RayExecutor().run_all([])


ray = pytest.importorskip("ray")


def _progress(run_dir: Path) -> dict:
    try:
        return json.loads((run_dir / "progress.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _lock_holder(run_dir: Path) -> int | None:
    try:
        text = (run_dir / ".qhvae.lock").read_text()
    except FileNotFoundError:
        return None
    return int(text.split()[1].rstrip(",")) if text.startswith("pid ") else None


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_ray_runs_a_study_side_by_side_and_survives_a_killed_worker(tmp_path):
    """The connectivity study's smoke budget on a local Ray instance with 2 CPUs: four runs, two at a time.

    While it trains, the worker process of one run is killed (SIGKILL, as when a node dies)
    after another run has finished; Ray starts the task again, the run resumes (or restarts,
    if it had no checkpoint yet), and the finished run is not trained again.
    """
    out, runs_dir = tmp_path / "out", tmp_path / "runs"
    # More epochs than the smoke budget's 2, so that a run is still training when the first finishes.
    argv = [sys.executable, "-m", "qhvae.cli", "experiment", "connectivity", "--budget", "smoke", "--executor", "ray",
            "--cpus", "2", "--set", "epochs=4", "--out", str(out), "--runs-dir", str(runs_dir)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    planned = plan_runs("connectivity", out, budget="smoke", overrides={"epochs": 4}, runs_dir=runs_dir)
    assert len(planned) == 4
    log = tmp_path / "driver.log"
    driver = subprocess.Popen(argv, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    killed = finished_before = None
    deadline = time.monotonic() + 600
    try:
        while driver.poll() is None and time.monotonic() < deadline:
            states = {p.run_dir: _progress(p.run_dir).get("status") for p in planned}
            done = [d for d, s in states.items() if s == "finished"]
            if killed is None and done:
                training = [d for d, s in states.items() if s == "training" and _lock_holder(d)]
                if training:
                    finished_before = {d: (d / LATEST).stat().st_mtime_ns for d in done}
                    killed = training[0]
                    os.kill(_lock_holder(killed), signal.SIGKILL)
            time.sleep(0.5)
        driver.wait(timeout=max(1, deadline - time.monotonic()))
    finally:
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == 0, log.read_text()[-4000:]
    assert killed is not None, "no worker was caught mid-run: the test did not test the retry"
    for p in planned:
        progress = _progress(p.run_dir)
        assert progress["status"] == "finished" and progress["epoch"] == 4, (p.run_dir.name, progress)
    for run_dir, mtime in finished_before.items():
        assert (run_dir / LATEST).stat().st_mtime_ns == mtime, f"{run_dir.name} was trained again"
    rows = (out / "results.csv").read_text().splitlines()
    assert len(rows) == 5 and all(",finished," in row for row in rows[1:])
    # two runs at a time: some run started before another ended
    spans = []
    for p in planned:
        started = (p.run_dir / "config.json").stat().st_mtime
        spans.append((started, (p.run_dir / LATEST).stat().st_mtime))
    spans.sort()
    assert any(b_start < a_end for (_, a_end), (b_start, _) in zip(spans, spans[1:], strict=False)), spans
