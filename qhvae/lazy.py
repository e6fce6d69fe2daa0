"""Names a package exports from submodules that are imported on first use.

``qhvae.training`` and ``qhvae.experiments`` export names whose modules load Keras and
TensorFlow (seconds); the command line imports those packages to check options and list
studies, which must stay quick. A package hands its ``{name: submodule}`` table to
:func:`lazy_exports` and binds the two functions it returns as its module ``__getattr__``
and ``__dir__`` (PEP 562).

Example:
    >>> getattr_, dir_ = lazy_exports("json", {"JSONEncoder": "encoder"}, ["JSONEncoder"])
    >>> getattr_("JSONEncoder").__module__
    'json.encoder'
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence

__all__ = ["lazy_exports"]


def lazy_exports(package: str, homes: Mapping[str, str],
                 names: Sequence[str]) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """A module ``__getattr__`` and ``__dir__`` that import ``package.homes[name]`` on first use.

    Args:
        package: the package's ``__name__``.
        homes: for each lazily exported name, the submodule (relative to ``package``) defining it.
        names: the package's ``__all__`` (what ``dir()`` lists besides its globals).

    Returns:
        ``(__getattr__, __dir__)``. A name is looked up once: the value is then stored in
        the package's globals, so later lookups cost nothing.
    """

    def __getattr__(name: str) -> object:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{home}"), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(names))

    return __getattr__, __dir__
