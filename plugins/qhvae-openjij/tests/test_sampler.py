"""Shapes, vartypes, labels, seeding, variable order, parameters and fidelity to OpenJij."""

import os
import subprocess
import sys
import textwrap

import dimod
import numpy as np
import openjij
import pytest

import qhvae
from qhvae.testing.statistics import random_bm
from qhvae_openjij.sampler import DEFAULTS, OpenJijSQASampler, random_draws

FAST = dict(anneal_sweeps=20, equilibration_sweeps=20)


@pytest.mark.parametrize("num_units, edges", [(1, None), (5, None), (8, "chimera")])
def test_array_path_shape_and_values(sqa, num_units, edges):
    quadratic = None
    if edges:
        g = qhvae.topology.chimera(1)
        quadratic = (g.edges, np.full(g.num_edges, -0.5))
    out = sqa.sample_arrays(np.zeros(num_units), quadratic, 13, seed=0, **FAST)
    assert out.shape == (13, num_units) and out.dtype == np.uint8
    assert set(np.unique(out)) <= {0, 1}


@pytest.mark.parametrize("vartype", [dimod.SPIN, dimod.BINARY])
def test_dimod_path_keeps_vartype_labels_and_energies(sqa, vartype):
    bqm = dimod.BinaryQuadraticModel({"a": 0.4, ("b", 1): -0.3, 7: 0.2}, {("a", ("b", 1)): 0.6, (("b", 1), 7): -0.5},
                                     1.25, vartype)
    ss = sqa.sample(bqm, num_reads=11, seed=3, **FAST)
    assert ss.vartype is vartype
    assert set(ss.variables) == set(bqm.variables)
    assert len(ss) == 11
    assert np.allclose(ss.record.energy, bqm.energies(ss))
    assert set(ss.info) >= {"trotter", "gamma", "anneal_sweeps", "equilibration_sweeps", "sqa_mean_energy"}


def test_units_come_back_in_order(sqa):
    # Biases of +-12 pin every unit (p(wrong) ~ 6e-6): the pattern checks the index mapping.
    pattern = np.array([0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0], dtype=np.uint8)
    out = sqa.sample_arrays(np.where(pattern == 1, -12.0, 12.0), None, 20, seed=1, **FAST)
    assert (out == pattern).all()
    # The same through couplings: a ferromagnetic chain with one end pinned to 1.
    n = 9
    edges = np.stack([np.arange(n - 1), np.arange(1, n)], 1)
    linear = np.full(n, 6.0)
    linear[0] = -20.0
    out = sqa.sample_arrays(linear, (edges, np.full(n - 1, -12.0)), 20, seed=2, **FAST)
    assert (out == 1).all()


def test_seeding(sqa):
    bm = random_bm(qhvae.topology.chimera(1), 0, 1.0)
    a = sqa.sample_bm(bm, 64, seed=5, **FAST).samples
    b = sqa.sample_bm(bm, 64, seed=5, **FAST).samples
    c = sqa.sample_bm(bm, 64, seed=6, **FAST).samples
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    # Reads of one call are independent runs, not copies (OpenJij's own num_reads with a
    # fixed seed repeats one read): 64 draws of a 256-state model are far from all equal.
    assert len({row.tobytes() for row in a}) > 10


def test_per_call_parameters_override_and_are_validated(sqa):
    bm = random_bm(qhvae.topology.chimera(1), 1, 1.0)
    res = sqa.sample_bm(bm, 4, seed=0, trotter=4, anneal_sweeps=7, equilibration_sweeps=3)
    assert res.info["trotter"] == 4 and res.info["anneal_sweeps"] == 7 and res.info["equilibration_sweeps"] == 3
    res = sqa.sample_bm(bm, 4, seed=0, schedule=[(0.1, 5), (0.5, 2.0, 5), (0.9, 5)], equilibration_sweeps=3)
    assert res.info["anneal_sweeps"] == 15
    res = sqa.sample_bm(bm, 4, seed=0, anneal_sweeps=0, equilibration_sweeps=5)
    assert "sqa_mean_energy" not in res.info
    bad = [dict(trotter=1), dict(trotter=2.5), dict(gamma=0.0), dict(gamma=float("nan")), dict(anneal_beta=-1.0),
           dict(anneal_sweeps=-1), dict(equilibration_sweeps=True), dict(schedule=[(1.5, 10)]),
           dict(schedule=[(0.5, 1.0, 2.0, 3)]), dict(schedule="linear"), dict(num_threads=0)]
    for params in bad:
        with pytest.raises(ValueError, match="openjij-sqa"):
            sqa.sample_bm(bm, 2, seed=0, **params)
    with pytest.raises(ValueError, match="does not accept"):
        sqa.sample_bm(bm, 2, seed=0, beta=1.0)


def test_rejects_non_finite_models(sqa):
    with pytest.raises(ValueError, match="non-finite"):
        sqa.sample_arrays([0.0, np.inf], None, 2, seed=0)


def test_defaults_are_documented():
    doc = OpenJijSQASampler.__doc__
    for name in DEFAULTS:
        assert f"{name}:" in doc, f"parameter {name} is not documented"
    assert OpenJijSQASampler.sampler_parameters == DEFAULTS


def test_sqa_phase_is_openjij_sqasampler():
    """Our SQA phase is exactly what ``openjij.SQASampler`` computes for the same start and seed."""
    bm = random_bm(qhvae.topology.chimera(1), 2, 1.5)
    n, trotter, anneal = 6, 4, 30
    ours = qhvae.get_sampler("openjij-sqa").sample_bm(
        bm, n, seed=9, trotter=trotter, anneal_sweeps=anneal, equilibration_sweeps=0).samples
    initial, run_seeds = random_draws(np.random.SeedSequence(9), n, bm.num_variables)
    schedule = [(k / anneal, 1.0, 1) for k in range(anneal)]
    bqm = bm.to_bqm()
    for k in range(n):
        response = openjij.SQASampler().sample(
            bqm, initial_state=((initial[k] + 1) // 2).tolist(), seed=int(run_seeds[k, 0]), trotter=trotter,
            gamma=1.0, schedule=schedule, num_reads=1)
        slice0 = response.info["system"][0]["trotter_state"][0]
        assert np.array_equal((slice0 + 1) // 2, ours[k]), f"read {k} differs from openjij.SQASampler"


def test_timed_out_call_does_not_abort_the_interpreter_at_exit():
    """qhvae abandons a timed-out call in a daemon thread; exiting must still be clean.

    Without the plugin's atexit handler the daemon thread is killed inside OpenJij's
    pybind11 code and the process dies with SIGABRT ("FATAL: exception not rethrown").
    """
    # Built under a generous limit (a cold first import in a fresh environment took more than
    # 0.3 s in CI), then the call alone gets the short one, as QHVAE_PLUGIN_TIMEOUT would set it.
    code = textwrap.dedent("""
        import numpy as np, qhvae
        s = qhvae.get_sampler("openjij-sqa")
        assert s.call_timeout == 60.0
        s.call_timeout = 0.3
        try:
            s.sample_arrays(np.zeros(288), None, 100000, seed=0)
        except qhvae.SamplerTimeoutError as exc:
            print("timed out:", exc)
    """)
    env = {**os.environ, "QHVAE_PLUGIN_TIMEOUT": "60"}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "FATAL" not in proc.stderr, proc.stderr[-2000:]
    assert "timed out: sampler 'openjij-sqa' (from package qhvae-openjij)" in proc.stdout
