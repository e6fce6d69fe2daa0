"""``.ci/lint``: ruff and mypy find nothing above the committed baseline, and the baseline only goes down.

The script runs ``ruff check``, ``ruff format --check`` and ``mypy qhvae`` and compares the
number of findings of each code with ``.ci/lint-baseline.json`` (CONTRIBUTING.md). These tests
run it with this interpreter's ruff and mypy (the ``test`` extra pins both) and skip without them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = ROOT / ".ci" / "lint"
BASELINE = ROOT / ".ci" / "lint-baseline.json"

pytestmark = [
    pytest.mark.slow,  # mypy without its cache takes half a minute
    pytest.mark.skipif(os.name == "nt", reason=".ci/lint is a bash script"),
]


def _tools_or_skip() -> None:
    pins = dict(re.findall(r"^\s*(ruff|mypy)==(\S+)", (ROOT / "setup.cfg").read_text(), re.M))
    for tool in ("ruff", "mypy"):
        if importlib.util.find_spec(tool) is None:
            pytest.skip(f'{tool} is not installed (pip install -e ".[test]" installs {tool}=={pins.get(tool)})')
        version = subprocess.run([sys.executable, "-m", tool, "--version"], capture_output=True, text=True).stdout
        if pins.get(tool) not in version.split():
            pytest.skip(
                f"{version.strip()} is installed but setup.cfg pins {tool}=={pins.get(tool)}: "
                "another version finds other things"
            )


def _lint(*args: str, baseline: Path | None = None, root: Path = ROOT) -> subprocess.CompletedProcess:
    """``.ci/lint ARGS`` of the tree at ``root`` (this repository's, or a sandbox's copy of the script)."""
    _tools_or_skip()
    env = {**os.environ, "PYTHON": sys.executable}
    env.pop("MYPY_CACHE_DIR", None)
    if baseline is not None:
        env["LINT_BASELINE"] = str(baseline)
    return subprocess.run(
        ["bash", str(root / ".ci" / "lint"), *args], cwd=root, env=env, capture_output=True, text=True, timeout=600
    )


# Two modules with one ruff finding (F401) and one mypy finding (return-value) each: the gate's
# tests need findings, and this repository's own code may have none left to spare.
_FLAWED_MODULE = """import os


def answer() -> int:
    return "forty-two"
"""


@pytest.fixture
def sandbox(tmp_path) -> Path:
    """A tree with .ci/lint, this repository's ruff and mypy settings, flawed modules and their first baseline."""
    root = tmp_path / "tree"
    (root / ".ci").mkdir(parents=True)
    (root / ".ci" / "lint").write_text(LINT.read_text())
    for name in ("setup.cfg", "pyproject.toml"):
        (root / name).write_text((ROOT / name).read_text())
    for folder in ("qhvae", "tests", "benchmarks", "examples", "plugins"):
        (root / folder).mkdir()
    (root / "qhvae" / "__init__.py").write_text(_FLAWED_MODULE)
    (root / "qhvae" / "second.py").write_text(_FLAWED_MODULE)
    first = _lint("--update", root=root)
    assert first.returncode == 0 and "wrote the first baseline" in first.stdout, first.stdout + first.stderr
    return root


def test_no_finding_above_the_baseline():
    result = _lint()
    assert result.returncode == 0, f".ci/lint failed:\n{result.stdout}\n{result.stderr}"
    assert "lint: OK" in result.stdout


def _entries(baseline: dict):
    for tool in ("ruff check", "mypy"):
        for f, codes in baseline[tool].items():
            for code, count in codes.items():
                yield tool, f, code, count


def _by_code(baseline: dict) -> dict:
    totals: dict = {}
    for tool, _, code, count in _entries(baseline):
        totals[tool, code] = totals.get((tool, code), 0) + count
    return totals


def _never_above(updated: dict, baseline: dict) -> bool:
    allowed = _by_code(baseline)
    counts_ok = all(n <= allowed.get(key, 0) for key, n in _by_code(updated).items())
    return counts_ok and len(updated["ruff format"]) <= len(baseline["ruff format"])


def _a_finding_of(base: dict, tool: str):
    """A (tool, file, code, count) of the sandbox's baseline, for ``tool``."""
    return next((t, f, c, n) for t, f, c, n in _entries(base) if t == tool)


def test_the_sandbox_has_the_findings_its_modules_were_written_with(sandbox):
    base = json.loads((sandbox / ".ci" / "lint-baseline.json").read_text())
    assert base["ruff check"] == {"qhvae/__init__.py": {"F401": 1}, "qhvae/second.py": {"F401": 1}}
    assert base["mypy"] == {"qhvae/__init__.py": {"return-value": 1}, "qhvae/second.py": {"return-value": 1}}


@pytest.mark.parametrize("tool", ["ruff check", "mypy"])
def test_one_more_finding_fails_and_update_never_raises_the_baseline(sandbox, tmp_path, tool):
    base = json.loads((sandbox / ".ci" / "lint-baseline.json").read_text())
    tool, f, code, count = _a_finding_of(base, tool)
    total = _by_code(base)[tool, code]
    stricter = json.loads(json.dumps(base))
    stricter[tool][f][code] -= 1  # today's code has one finding more than this baseline
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(stricter))

    result = _lint(baseline=path, root=sandbox)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{tool} {code}: {total} now, {total - 1} in the baseline" in result.stdout
    assert f"  {f}: {count} (baseline {count - 1})" in result.stdout

    result = _lint("--update", baseline=path, root=sandbox)
    assert result.returncode == 1, result.stdout + result.stderr  # still above: --update does not raise it
    updated = json.loads(path.read_text())
    assert _never_above(updated, stricter)
    assert _by_code(updated)[tool, code] == total - 1


@pytest.mark.parametrize("tool", ["ruff check", "mypy"])
def test_a_finding_that_moved_to_another_file_passes(sandbox, tmp_path, tool):
    base = json.loads((sandbox / ".ci" / "lint-baseline.json").read_text())
    tool, f, code, count = _a_finding_of(base, tool)
    moved = json.loads(json.dumps(base))
    moved[tool][f][code] -= 1
    moved[tool].setdefault("qhvae/split_off.py", {})[code] = 1  # where the baseline had it
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(moved))

    result = _lint(baseline=path, root=sandbox)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"moved: {tool} {code}: " in result.stdout

    result = _lint("--update", baseline=path, root=sandbox)
    assert result.returncode == 0, result.stdout + result.stderr
    updated = json.loads(path.read_text())
    assert "qhvae/split_off.py" not in updated[tool]
    assert _by_code(updated)[tool, code] == _by_code(base)[tool, code]


def test_fewer_findings_pass_and_update_lowers_the_baseline(tmp_path):
    base = json.loads(BASELINE.read_text())
    looser = json.loads(json.dumps(base))
    looser["mypy"].setdefault("qhvae/__init__.py", {})["fixed-already"] = 2
    looser["ruff format"].append("qhvae/formatted_since.py")
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(looser))

    result = _lint(baseline=path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Lower the baseline" in result.stdout
    assert "fewer: mypy fixed-already: 0 now, 2 in the baseline" in result.stdout
    assert "fewer: ruff format: " in result.stdout

    result = _lint("--update", baseline=path)
    assert result.returncode == 0, result.stdout + result.stderr
    updated = json.loads(path.read_text())
    assert _never_above(updated, base)
    assert "fixed-already" not in updated["mypy"].get("qhvae/__init__.py", {})
    assert "qhvae/formatted_since.py" not in updated["ruff format"]
    assert updated["totals"]["mypy"] == sum(n for t, _, _, n in _entries(updated) if t == "mypy")
