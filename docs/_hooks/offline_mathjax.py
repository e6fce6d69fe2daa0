"""MkDocs hook: serve MathJax from the site itself, so formulas render offline.

MathJax 3 comes from the ``django-static-mathjax`` wheel (MathJax's own ``es5`` build,
Apache-2.0, no Django dependency despite its name; in the ``docs`` and ``test`` extras).
The hook adds its combined TeX component and the CommonHTML web fonts to the build under
``javascripts/mathjax/``; MathJax finds the fonts relative to its own script.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.structure.files import File

#: Where the site serves MathJax (``extra_javascript`` in mkdocs.yml points here).
SITE_FOLDER = "javascripts/mathjax"
COMPONENT = "tex-mml-chtml.js"
FONTS = "output/chtml/fonts/woff-v2"


def mathjax_root() -> Path:
    """The installed MathJax ``es5`` folder; a clear error when the package is missing."""
    try:
        import mathjax
    except ImportError:
        raise SystemExit('the docs serve MathJax locally: pip install -e ".[docs]" (it brings '
                         'django-static-mathjax, a wheel of MathJax 3)') from None
    root = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (root / COMPONENT).is_file():
        raise SystemExit(f"no {COMPONENT} in {root}: reinstall django-static-mathjax")
    return root


def on_files(files, config):
    root = mathjax_root()
    sources = [root / COMPONENT] + sorted((root / FONTS).glob("*.woff"))
    for source in sources:
        files.append(File.generated(config, f"{SITE_FOLDER}/{source.relative_to(root).as_posix()}",
                                    abs_src_path=str(source)))
    return files
