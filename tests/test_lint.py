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


def _lint(*args: str, baseline: Path | None = None) -> subprocess.CompletedProcess:
    _tools_or_skip()
    env = {**os.environ, "PYTHON": sys.executable}
    if baseline is not None:
        env["LINT_BASELINE"] = str(baseline)
    return subprocess.run(["bash", str(LINT), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


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


def _a_finding_of_today(base: dict):
    """A (tool, file, code, count) of the baseline whose code has as many findings today."""
    today = _lint(baseline=BASELINE).stdout  # codes already fixed are listed under "lower the baseline"
    entry = next(((t, f, c, n) for t, f, c, n in _entries(base) if f"fewer: {t} {c}: " not in today), None)
    if entry is None:
        pytest.skip("the baseline has no finding left that today's code still has")
    return entry


def test_one_more_finding_fails_and_update_never_raises_the_baseline(tmp_path):
    base = json.loads(BASELINE.read_text())
    tool, f, code, count = _a_finding_of_today(base)
    total = _by_code(base)[tool, code]
    stricter = json.loads(json.dumps(base))
    stricter[tool][f][code] -= 1  # today's code has one finding more than this baseline
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(stricter))

    result = _lint(baseline=path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{tool} {code}: {total} now, {total - 1} in the baseline" in result.stdout
    assert f"  {f}: {count} (baseline {count - 1})" in result.stdout

    result = _lint("--update", baseline=path)
    assert result.returncode == 1, result.stdout + result.stderr  # still above: --update does not raise it
    updated = json.loads(path.read_text())
    assert _never_above(updated, stricter)
    assert _by_code(updated)[tool, code] == total - 1


def test_a_finding_that_moved_to_another_file_passes(tmp_path):
    base = json.loads(BASELINE.read_text())
    tool, f, code, count = _a_finding_of_today(base)
    moved = json.loads(json.dumps(base))
    moved[tool][f][code] -= 1
    moved[tool].setdefault("qhvae/split_off.py", {})[code] = 1  # where the baseline had it
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(moved))

    result = _lint(baseline=path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"moved: {tool} {code}: " in result.stdout

    result = _lint("--update", baseline=path)
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
