"""Two-worker training under ``tf.distribute.MultiWorkerMirroredStrategy`` on localhost.

``examples/multi_worker_training.py`` is started twice with a loopback-only ``TF_CONFIG``;
both workers must end with identical weights, each having drawn one negative phase per step
with seeds of its own. Once with the plain prior, once with a class-conditional model whose
prior has coupled hidden units (``--conditional --hidden 0.5 --hidden-from random``).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from qhvae.vae.negative import NegativePhase  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "examples" / "multi_worker_training.py"


def _free_loopback_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("options", [
    pytest.param((), id="plain"),
    pytest.param(("--conditional", "--hidden", "0.5", "--hidden-from", "random"), id="conditional-hidden"),
])
def test_two_workers_end_with_identical_weights_and_their_own_negative_phases(tmp_path, options):
    ports = _free_loopback_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    workers = []
    for index in range(2):
        env = dict(os.environ, TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}),
                   TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
        log = (tmp_path / f"worker{index}.log").open("w")
        workers.append(subprocess.Popen(
            [sys.executable, str(SCRIPT), "--limit", "256", "--epochs", "2", "--global-batch-size", "64",
             "--num-negative-samples", "32", "--out", str(tmp_path / f"worker{index}"), *options],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path))
    try:
        for proc in workers:
            proc.wait(timeout=500)
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.kill()
    for index, proc in enumerate(workers):
        assert proc.returncode == 0, (tmp_path / f"worker{index}.log").read_text()[-4000:]

    reports = [json.loads((tmp_path / f"worker{i}" / "worker.json").read_text()) for i in range(2)]
    assert [r["worker"] for r in reports] == [0, 1]
    assert all(r["replicas"] == 2 for r in reports)
    conditional = "--conditional" in options
    for r in reports:  # the model the options asked for
        assert r["num_classes"] == (10 if conditional else 0), r
        assert (r["num_hidden"], r["hidden_coupled"]) == ((4, True) if conditional else (0, False)), r
    steps = 2 * 256 // 64
    for r in reports:
        assert r["steps"] == steps and r["sampler_calls"] == steps, r  # one negative phase per step per worker
    # identical weights: the all-reduce kept the copies in step
    weights = [dict(np.load(tmp_path / f"worker{i}" / "weights.npz")) for i in range(2)]
    initial = [dict(np.load(tmp_path / f"worker{i}" / "initial.npz")) for i in range(2)]
    assert sorted(weights[0]) == sorted(weights[1]) == sorted(initial[0]) == sorted(initial[1])
    prior = ["qvae/prior/b", "qvae/prior/w"] + (["qvae/prior/u"] if conditional else [])
    assert set(prior) <= set(weights[0]) and ("qvae/prior/u" in weights[0]) == conditional
    if conditional:
        assert weights[0]["qvae/prior/u"].shape == (10, 8)  # one bias row per class over all 8 units
    for name in weights[0]:
        np.testing.assert_allclose(initial[0][name], initial[1][name], rtol=0, atol=0, err_msg=name)
        np.testing.assert_allclose(weights[0][name], weights[1][name], rtol=0, atol=1e-6, err_msg=name)
    for name in prior:  # training moved the prior (the label couplings included), identically on both workers
        assert not np.allclose(weights[0][name], initial[0][name]), name
    # distinct seeds: worker r's k-th call used seed_for(k, r), and no seed of one is a seed of the other
    phase = NegativePhase(lambda: None, graph=None, seed=0)
    for r, report in enumerate(reports):
        assert report["last_seed"] == phase.seed_for(steps - 1, replica=r)
    seeds = [{phase.seed_for(k, replica=r) for k in range(steps)} for r in range(2)]
    assert len(seeds[0]) == len(seeds[1]) == steps and not seeds[0] & seeds[1]
