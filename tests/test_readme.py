"""What a newcomer reads is run: every code block of README.md and plugins/README.md that is
meant to be run is executed here, so the documentation cannot go stale silently.

- ``python`` blocks run as they are, each in a fresh interpreter.
- ``qhvae ...`` lines of the shell blocks are parsed by the real argument parser (a renamed
  or removed option fails here); running them is the CLI tests' job, and README's first
  command is run as written, in a fresh venv, by CI's newcomer lane (``.ci/newcomer``).
- plugins/README.md's plugin (a ``pyproject.toml`` and a module) is built and installed as a
  throwaway distribution, then listed, sampled and put through the conformance kit.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```([\w-]*)[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)


def code_blocks(path: Path) -> list[tuple[str, str]]:
    """``(language, code)`` of every fenced block of a Markdown file, in order."""
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(path.read_text())]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.setdefault("MPLBACKEND", "Agg")
    return env


def test_code_blocks_are_found():
    languages = [lang for lang, _ in code_blocks(ROOT / "README.md")]
    assert languages.count("python") == 2 and languages[:2] == ["bash", "bash"], languages
    assert [lang for lang, _ in code_blocks(ROOT / "plugins" / "README.md")] == ["toml", "python"]


def test_the_newcomer_lane_runs_the_readmes_first_command():
    first = code_blocks(ROOT / "README.md")[0][1].strip()
    printed = subprocess.run(["bash", str(ROOT / ".ci" / "newcomer"), "--print"], capture_output=True, text=True,
                             check=True).stdout.strip()
    assert printed == first
    assert first.endswith("pip install -e . && qhvae train"), "the first command installs qhvae bare and trains"
    assert "bash .ci/newcomer" in (ROOT / ".ci" / "run").read_text()


def test_the_readmes_test_command_is_what_ci_runs():
    second = code_blocks(ROOT / "README.md")[1][1].strip()
    assert second in (ROOT / ".ci" / "run").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("index", range(2))
@pytest.mark.timeout(300)
def test_readme_python_blocks_run(index, tmp_path):
    code = [c for lang, c in code_blocks(ROOT / "README.md") if lang == "python"][index]
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=_env(), capture_output=True, text=True,
                          timeout=280)
    assert proc.returncode == 0, f"README python block {index} failed:\n{code}\n{proc.stdout[-2000:]}\n" \
                                 f"{proc.stderr[-3000:]}"


def _qhvae_lines(path: Path) -> list[str]:
    lines = []
    for lang, code in code_blocks(path):
        if lang == "python":
            continue
        for line in code.splitlines():
            line = line.split("#", 1)[0].strip()
            for part in re.split(r"&&|;", line):
                part = part.strip()
                if part.startswith("qhvae ") or part == "qhvae":
                    lines.append(part)
    return lines


def test_readme_command_lines_parse():
    from qhvae.cli import build_parser

    lines = _qhvae_lines(ROOT / "README.md")
    assert len(lines) >= 10, lines
    parser = build_parser()
    for line in lines:
        words = shlex.split(re.sub(r"\[[^\]]*\]", "", line))[1:]  # [--optional ARG] is notation
        try:
            parser.parse_args(words)
        except SystemExit as exc:
            if exc.code:
                pytest.fail(f"README's `{line}` does not parse")


def test_plugin_readme_example_installs_and_samples(tmp_path):
    toml, module = [code for _, code in code_blocks(ROOT / "plugins" / "README.md")]
    project = tmp_path / "project"
    (project / "my_package").mkdir(parents=True)
    (project / "pyproject.toml").write_text(toml)
    (project / "my_package" / "__init__.py").write_text("")
    (project / "my_package" / "qhvae_plugin.py").write_text(module)
    site = tmp_path / "site"
    # A real build and install of the distribution (its dependencies are this venv's).
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                           "--target", str(site), str(project)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert list(site.glob("qhvae_mysampler-*.dist-info"))
    check = textwrap.dedent("""
        import numpy as np, qhvae
        rows = {row.name: row for row in qhvae.list_samplers()}
        assert rows["mysampler"].status == "ok", rows["mysampler"]
        sampler = qhvae.get_sampler("mysampler")
        z = sampler.sample_arrays(np.array([-2.0, 0.0, 2.0]), None, 4000, seed=0)
        assert z.shape == (4000, 3), z.shape
        means = z.mean(axis=0)
        expected = 1 / (1 + np.exp([-2.0, 0.0, 2.0]))
        assert np.all(np.abs(means - expected) < 5 * np.sqrt(expected * (1 - expected) / 4000)), means
        print("ok")
    """)
    env = _env()
    env["PYTHONPATH"] = str(site)
    proc = subprocess.run([sys.executable, "-c", check], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("ok"), proc.stdout + proc.stderr
