"""Griffe extension for the documentation build: two Google-style forms griffe lacks.

qhvae's docstrings follow the Google style as Sphinx's napoleon reads it. Griffe, which
mkdocstrings uses to parse them, differs in two places, and this extension rewrites the
docstring text before it is parsed (the sources are untouched):

* ``Example:`` is napoleon's singular doctest heading; griffe only knows ``Examples:`` and
  would render the singular as an admonition whose ``>>>`` lines become nested block
  quotes (and whose ``[...]`` literals become broken cross-references under
  ``mkdocs build --strict``).
* Sphinx roles such as ``:class:`~qhvae.topology.LatentGraph``` are reST, which Markdown
  shows verbatim; they become code spans (``LatentGraph``).
* reST simple tables (``=====  =====`` borders) have no Markdown equivalent; they are
  shown preformatted, as written.
* ``a, b: description`` documents several parameters at once in napoleon; griffe reads it
  as one parameter named ``"a, b"`` and warns that it is not in the signature. The entry
  is expanded into one entry per name, each with the shared description.

Loaded from ``mkdocs.yml`` (``plugins > mkdocstrings > handlers > python > options >
extensions``).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_SINGULAR_EXAMPLE = re.compile(r"^(?P<indent>[ \t]*)Example:[ \t]*$", re.MULTILINE)
_SPHINX_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|data|attr|mod|exc|obj|const):`(?P<tilde>~?)(?P<target>[^`]+)`")
_TABLE_BORDER = re.compile(r"^(?P<indent>[ \t]*)=+(?:[ \t]+=+)+[ \t]*$")
_NAMED_SECTION = re.compile(
    r"^(?P<indent>[ \t]*)(Args|Arguments|Params|Parameters|Keyword Args|Keyword Arguments|Other Args|"
    r"Other Arguments|Other Params|Other Parameters|Attributes):[ \t]*$"
)
_GROUPED_ITEM = re.compile(r"^(?P<indent>[ \t]*)(?P<names>\w+(?:[ \t]*,[ \t]*\w+)+)(?P<rest>[ \t]*(?:\([^)]*\))?:.*)$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _role_to_code(match: re.Match) -> str:
    target = match.group("target")
    return f"`{target.rsplit('.', 1)[-1] if match.group('tilde') else target}`"


def fence_rst_tables(text: str) -> str:
    """Wrap reST simple tables in a fenced ``text`` block so Markdown keeps their layout.

    Examples:
        >>> print(fence_rst_tables("A:\\n\\n==  ==\\na   b\\n==  ==\\nc   d\\n==  ==\\n\\nEnd."))
        A:
        <BLANKLINE>
        ```text
        ==  ==
        a   b
        ==  ==
        c   d
        ==  ==
        ```
        <BLANKLINE>
        End.
    """
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        border = _TABLE_BORDER.match(lines[i])
        if not border:
            out.append(lines[i])
            i += 1
            continue
        end = i
        for j in range(i + 1, len(lines)):
            if _TABLE_BORDER.match(lines[j]):
                end = j
                if j + 1 == len(lines) or not lines[j + 1].strip():
                    break
        indent = border.group("indent")
        out.extend([f"{indent}```text", *lines[i:end + 1], f"{indent}```"])
        i = end + 1
    return "\n".join(out)


def expand_grouped_items(text: str) -> str:
    """Split ``a, b: description`` entries of parameter and attribute sections.

    Examples:
        >>> print(expand_grouped_items("Args:\\n    a, b: widths\\n        of layers.\\n    c: other"))
        Args:
            a: widths
                of layers.
            b: widths
                of layers.
            c: other
    """
    lines = text.split("\n")
    out: list[str] = []
    section_indent: int | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        header = _NAMED_SECTION.match(line)
        if header:
            section_indent = len(header.group("indent"))
            out.append(line)
            i += 1
            continue
        if line.strip() and section_indent is not None and _indent(line) <= section_indent:
            section_indent = None
        item = _GROUPED_ITEM.match(line) if section_indent is not None else None
        if not item:
            out.append(line)
            i += 1
            continue
        indent = item.group("indent")
        continuation = []
        i += 1
        while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > len(indent)):
            continuation.append(lines[i])
            i += 1
        while continuation and not continuation[-1].strip():  # blank lines belong after the group
            i -= 1
            continuation.pop()
        for name in item.group("names").split(","):
            out.append(f"{indent}{name.strip()}{item.group('rest')}")
            out.extend(continuation)
    return "\n".join(out)


class NapoleonCompat(griffe.Extension):
    """Make napoleon-style Google docstrings parse and render under griffe (see the module docstring)."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:  # noqa: D102
        docstring = obj.docstring
        if docstring is None:
            return
        value = _SINGULAR_EXAMPLE.sub(r"\g<indent>Examples:", docstring.value)
        value = _SPHINX_ROLE.sub(_role_to_code, value)
        value = fence_rst_tables(value)
        docstring.value = expand_grouped_items(value)
