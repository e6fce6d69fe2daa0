"""The qhvae command line, run as users run it."""

import subprocess
import sys

import pytest

from qhvae.cli import main


def test_samplers_table(capsys):
    assert main(["samplers"]) == 0
    out = capsys.readouterr().out
    for name in ("exact", "gibbs", "pa", "sa"):
        assert name in out
    assert "ok" in out


@pytest.mark.slow
def test_demo_writes_a_plot(tmp_path, capsys):
    code = main(["demo", "--graph", "chimera", "--samplers", "gibbs", "pa", "--num-reads", "200",
                 "--out", str(tmp_path)])
    assert code == 0
    png = tmp_path / "demo.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "log Z =" in capsys.readouterr().out


def test_unknown_sampler_is_a_clear_error(tmp_path, capsys):
    assert main(["demo", "--samplers", "nope", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    err = " ".join(err.split())  # rich wraps long lines
    assert "unknown sampler 'nope'; known samplers:" in err
    known = err.split("known samplers:")[1].replace(",", " ").split()
    assert {"exact", "gibbs", "pa", "sa", "qpu", "emulator"} <= set(known)


def test_bad_option_is_a_clear_error(tmp_path, capsys):
    assert main(["demo", "--samplers", "gibbs", "--option", "num_sweeps", "--out", str(tmp_path)]) == 2
    assert "must look like key=value" in capsys.readouterr().err


def test_console_script_is_installed():
    result = subprocess.run([sys.executable, "-m", "qhvae.cli", "samplers"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "gibbs" in result.stdout
