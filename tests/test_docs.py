"""The documentation site builds with no warnings (``mkdocs build --strict``).

mkdocs, mkdocs-material and mkdocstrings are in the ``test`` extra, so this is not skipped:
a broken link or anchor, a page missing from the nav, or a docstring griffe cannot parse
(a documented parameter that is not in the signature, ...) fails CI here. The built site
must also work offline: no page loads a script, stylesheet or font from another host.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


#: A tag that makes the browser fetch something to render the page: scripts, stylesheets, fonts, images.
LOADS = re.compile(r"<(script|link|img|iframe)\b[^>]*?\b(src|href)\s*=\s*[\"']([^\"']+)[\"']", re.I)
#: <link rel=...> kinds that are only navigation, not something the page loads.
NAVIGATION_RELS = re.compile(r"\brel\s*=\s*[\"'](canonical|prev|next|alternate|author|license)[\"']", re.I)


def external_loads(html: str) -> list[str]:
    """Addresses on other hosts that a page fetches while it loads (links one may click are not counted)."""
    found = []
    for match in LOADS.finditer(html):
        tag, address = match.group(0), match.group(3)
        if match.group(1).lower() == "link" and NAVIGATION_RELS.search(tag):
            continue
        if re.match(r"(https?:)?//", address):
            found.append(address)
    return found


def test_external_loads_finds_cdn_scripts_and_fonts():
    page = ('<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>'
            '<link rel="stylesheet" href="//fonts.googleapis.com/css?family=Roboto">'
            '<script src="../javascripts/mathjax.js"></script><link rel="canonical" href="https://x.org/a/">'
            '<a href="https://github.com/dwavesystems/dimod">dimod</a>')
    assert external_loads(page) == ["https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js",
                                    "//fonts.googleapis.com/css?family=Roboto"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site_dir = tmp_path_factory.mktemp("docs") / "site"
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")  # mkdocs-material's banner about MkDocs 2.0
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=170,
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    return site_dir


@pytest.mark.timeout(180)
def test_mkdocs_build_strict(site):
    assert (site / "api" / "topology" / "index.html").is_file()


def test_the_site_loads_nothing_from_other_hosts(site):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 20
    offenders = {str(page.relative_to(site)): external_loads(page.read_text()) for page in pages}
    offenders = {page: loads for page, loads in offenders.items() if loads}
    assert not offenders, f"pages that need the network to render: {offenders}"


def test_formulas_are_typeset_by_the_mathjax_the_site_serves(site):
    page = (site / "concepts" / "index.html").read_text()
    assert 'class="arithmatex"' in page
    scripts = re.findall(r'<script src="([^"]*mathjax[^"]*)"', page)
    assert any(src.endswith("javascripts/mathjax/tex-mml-chtml.js") for src in scripts), scripts
    served = site / "javascripts" / "mathjax"
    assert (served / "tex-mml-chtml.js").stat().st_size > 500_000
    # MathJax fetches its CommonHTML fonts relative to its own script.
    assert (served / "output" / "chtml" / "fonts" / "woff-v2" / "MathJax_Main-Regular.woff").is_file()
