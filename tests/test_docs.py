"""The documentation site builds with no warnings (``mkdocs build --strict``).

mkdocs, mkdocs-material and mkdocstrings are in the ``test`` extra, so this is not skipped:
a broken link or anchor, a page missing from the nav, or a docstring griffe cannot parse
(a documented parameter that is not in the signature, ...) fails CI here.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(180)
def test_mkdocs_build_strict(tmp_path):
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")  # mkdocs-material's banner about MkDocs 2.0
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=170,
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    assert (tmp_path / "site" / "api" / "topology" / "index.html").is_file()
