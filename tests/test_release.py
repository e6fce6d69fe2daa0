"""A release a user can install: ``python -m build`` makes an sdist and a wheel of qhvae and of
both in-repo plugins, and the wheels, installed into a fresh virtual environment, run.

The builds run without isolation (``build``, ``setuptools`` and ``wheel`` are in the ``test``
extra). The fresh environment borrows nothing from this one: pip installs the three wheels
and resolves their declared dependencies itself, from the package index it is configured
with (pip's cache, or a local wheel folder, serves them without downloading again), so a
runtime dependency missing from ``install_requires`` fails here, as it would for a user.
``qhvae`` there is the wheel's, not this checkout's editable install.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import qhvae

ROOT = Path(__file__).resolve().parent.parent
PROJECTS = {"qhvae": ROOT, "qhvae_openjij": ROOT / "plugins" / "qhvae-openjij",
            "qhvae_template": ROOT / "plugins" / "qhvae-template"}

pytestmark = pytest.mark.timeout(1200)


def _run(args, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    assert proc.returncode == 0, f"{' '.join(map(str, args))} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """The sdists and wheels of qhvae and the two plugins (the wheel built from the sdist, as ``build`` does)."""
    out = tmp_path_factory.mktemp("dist")
    for project in PROJECTS.values():
        _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", out, project], timeout=600)
    return out


@pytest.fixture(scope="module")
def fresh(dist, tmp_path_factory) -> Path:
    """A new virtual environment with the three wheels and the dependencies they declare, resolved by pip."""
    env_dir = tmp_path_factory.mktemp("fresh") / "venv"
    _run([sys.executable, "-m", "venv", env_dir], timeout=300)
    python = env_dir / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PIP_NO_INDEX")}
    # --find-links the folder of our wheels: the plugins' dependency "qhvae" is the wheel built here.
    _run([python, "-m", "pip", "install", "--quiet", "--find-links", dist, *sorted(dist.glob("*.whl"))],
         timeout=800, env=env)
    return env_dir


def _wheel(dist: Path, name: str) -> Path:
    (wheel,) = dist.glob(f"{name}-*.whl")
    return wheel


def test_the_version_lives_in_one_place(dist):
    assert _wheel(dist, "qhvae").name == f"qhvae-{qhvae.__version__}-py3-none-any.whl"
    assert (dist / f"qhvae-{qhvae.__version__}.tar.gz").is_file()
    changelog = (ROOT / "CHANGELOG.md").read_text()
    released = re.findall(r"^## \[(\d[^\]]*)\]", changelog, re.M)
    assert released and released[0] == qhvae.__version__, "CHANGELOG.md's newest release is not qhvae.__version__"
    literal = re.compile(r"""version\s*=\s*["']\d""")
    assert not literal.search((ROOT / "setup.cfg").read_text()), "setup.cfg must read the version from qhvae"
    assert not literal.search((ROOT / "pyproject.toml").read_text())


def test_the_wheels_are_typed_and_licensed(dist):
    for name, package in (("qhvae", "qhvae"), ("qhvae_openjij", "qhvae_openjij"),
                          ("qhvae_template", "qhvae_template")):
        names = zipfile.ZipFile(_wheel(dist, name)).namelist()
        assert f"{package}/py.typed" in names, f"{name}'s wheel has no py.typed"
    names = zipfile.ZipFile(_wheel(dist, "qhvae")).namelist()
    assert any(n.endswith("/LICENSE") for n in names)
    assert "qhvae/samplers/qpu/emulator/noise.py" in names  # subpackages are found, not just the top


def test_the_sdist_carries_what_a_rebuild_needs(dist):
    with tarfile.open(dist / f"qhvae-{qhvae.__version__}.tar.gz") as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    for needed in ("setup.cfg", "pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md", "qhvae/__init__.py",
                   "qhvae/py.typed"):
        assert needed in names, needed


@pytest.mark.slow
def test_the_installed_wheel_runs(fresh, tmp_path):
    python, cli = fresh / "bin" / "python", fresh / "bin" / "qhvae"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    # qhvae, a plugin and the dependencies a run needs all come from the fresh venv itself.
    where = _run([python, "-c", "import qhvae, qhvae_openjij, tensorflow, tensorboard, dimod\n"
                  "for m in (qhvae, qhvae_openjij, tensorflow, tensorboard, dimod): print(m.__file__)"],
                 env=env, cwd=tmp_path).stdout.split()
    assert all(path.startswith(str(fresh)) for path in where), f"imported from outside the fresh venv: {where}"
    assert _run([cli, "--version"], env=env, cwd=tmp_path).stdout.strip() == f"qhvae {qhvae.__version__}"

    listing = _run([cli, "samplers"], env=env, cwd=tmp_path, timeout=300).stdout
    for name in ("gibbs", "pa", "emulator", "openjij-sqa", "template"):
        assert re.search(rf"\b{re.escape(name)}\b", listing), f"{name} missing from `qhvae samplers`:\n{listing}"

    out = tmp_path / "run"
    _run([cli, "train", "--dataset", "digits", "--limit", "32", "--batch-size", "32", "--epochs", "1",
          "--network", "fc", "--network-option", "hidden=16", "--graph-option", "m=1", "--num-negative-samples", "16",
          "--eval-images", "8", "--eval-samples", "4", "--out", out], env=env, cwd=tmp_path, timeout=600)
    progress = json.loads((out / "progress.json").read_text())
    assert progress["step"] == 1 and progress["status"] == "finished"
    assert (out / "evaluation.json").is_file()
    assert list((out / "tensorboard").rglob("events.out.tfevents.*")), "the wheel's run wrote no TensorBoard logs"
