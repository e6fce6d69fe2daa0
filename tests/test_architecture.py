"""The package's shape, read from its import graph (docs/architecture.md states the rules).

Every module of ``qhvae/`` is parsed (never imported) and each import, at module level or
inside a function, is resolved to a qhvae module. The tests then check that

* imports only point down the layers (a module may import its own layer or lower ones);
* ``qhvae.vae`` imports neither ``qhvae.evaluate`` nor a concrete sampler;
* no module imports another module's underscore names;
* no module is longer than 600 lines.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "qhvae"

#: Bottom to top. A module belongs to the longest prefix listed here.
LAYERS: dict[str, int] = {
    "qhvae.hookspecs": 0,
    "qhvae.exceptions": 0,
    "qhvae.validation": 0,
    "qhvae.topology": 0,
    "qhvae.data": 0,
    "qhvae.plots": 0,
    "qhvae.tfutil": 0,
    "qhvae.lazy": 0,
    "qhvae.hardware": 1,
    "qhvae.samplers": 2,
    "qhvae.registry": 3,
    "qhvae": 3,  # the package itself re-exports the registry and the contract
    "qhvae.evaluate": 4,
    "qhvae.vae": 4,
    "qhvae.testing": 4,
    "qhvae.training": 5,
    "qhvae.experiments": 6,
    "qhvae.cli": 7,
    "qhvae.cli_options": 7,  # the command line's parser and option values
}
LAYER_NAMES = ["foundations", "hardware", "samplers", "registry", "models and evaluation", "training",
               "experiments", "command line"]

#: What the VAE may see of the samplers: the contract and the machine it samples, not an implementation.
VAE_MAY_IMPORT_SAMPLERS = {"qhvae.samplers", "qhvae.samplers.base", "qhvae.samplers.machine"}

MAX_LINES = 600


@dataclass(frozen=True)
class Import:
    source: str  # importing module
    target: str  # imported qhvae module
    names: tuple[str, ...]  # names taken from it with ``from target import ...``
    line: int

    def __str__(self) -> str:
        what = f" ({', '.join(self.names)})" if self.names else ""
        return f"{self.source}:{self.line} imports {self.target}{what}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _resolve(source: str, path: Path, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = source.split(".")
    if not _is_package(path):
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(source: str, path: Path, known: set[str]) -> list[Import]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "qhvae" or alias.name.startswith("qhvae."):
                    found.append(Import(source, alias.name, (), node.lineno))
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(source, path, node)
            if not (target == "qhvae" or target.startswith("qhvae.")):
                continue
            plain = []
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in known:  # ``from . import topology`` imports a module
                    found.append(Import(source, sub, (), node.lineno))
                else:
                    plain.append(alias.name)
            if plain:
                found.append(Import(source, target, tuple(plain), node.lineno))
    return found


def layer_of(module: str) -> int:
    parts = module.split(".")
    for k in range(len(parts), 0, -1):
        prefix = ".".join(parts[:k])
        if prefix in LAYERS:
            return LAYERS[prefix]
    raise KeyError(module)


MODULES = modules()
IMPORTS = [imp for name, path in MODULES.items() for imp in imports_of(name, path, set(MODULES))]


def test_every_module_has_a_layer():
    missing = [m for m in MODULES if not any(m == p or m.startswith(p + ".") for p in LAYERS)]
    assert not missing, f"modules with no layer (add them to LAYERS and docs/architecture.md): {missing}"


def test_imports_only_point_down():
    upward = []
    for imp in IMPORTS:
        if imp.target not in MODULES and imp.target.rsplit(".", 1)[0] not in MODULES:
            continue
        src, dst = layer_of(imp.source), layer_of(imp.target)
        # The package's own __init__ re-exports lower layers; a module importing ``qhvae`` itself
        # (for example ``import qhvae`` in a docstring-free module) is judged by the package's layer.
        if dst > src:
            upward.append(f"{imp}: layer {src} ({LAYER_NAMES[src]}) -> {dst} ({LAYER_NAMES[dst]})")
    assert not upward, "imports that point up:\n" + "\n".join(upward)


def test_vae_sees_only_the_sampler_contract():
    bad = [str(imp) for imp in IMPORTS if imp.source.startswith("qhvae.vae")
           and (imp.target.startswith("qhvae.evaluate")
                or (imp.target.startswith("qhvae.samplers") and imp.target not in VAE_MAY_IMPORT_SAMPLERS))]
    assert not bad, "qhvae.vae must not import evaluate or a concrete sampler:\n" + "\n".join(bad)


def test_no_private_names_cross_modules():
    bad = [str(imp) for imp in IMPORTS if imp.target != imp.source
           and any(n.startswith("_") and not n.startswith("__") for n in imp.names)]
    private_modules = [str(imp) for imp in IMPORTS if imp.target != imp.source
                       and any(part.startswith("_") and not part.startswith("__")
                               for part in imp.target.split("."))
                       and not imp.source.startswith(imp.target.rsplit(".", 1)[0] + ".")]
    assert not bad, "underscore names imported from another module:\n" + "\n".join(bad)
    assert not private_modules, "a private module used outside its package's subtree:\n" + "\n".join(private_modules)


def test_no_private_attribute_of_another_module():
    """``from . import runs; runs._helper()`` is as private as ``from .runs import _helper``."""
    bad = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text())
        aliases: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                target = _resolve(name, path, node)
                for alias in node.names:
                    if f"{target}.{alias.name}" in MODULES:
                        aliases[alias.asname or alias.name] = f"{target}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("qhvae") and alias.asname:
                        aliases[alias.asname] = alias.name
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases and node.attr.startswith("_")
                    and not node.attr.startswith("__") and aliases[node.value.id] != name):
                bad.append(f"{name}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_size(name):
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines (at most {MAX_LINES}): split it by job"


def test_layer_rules_have_power():
    """The checker itself: an upward and a private import written here are caught."""
    src = "qhvae.topology"
    fake = [Import(src, "qhvae.training", ("TrainConfig",), 1), Import(src, "qhvae.data", ("_x",), 2)]
    assert layer_of(fake[0].target) > layer_of(src)
    assert any(n.startswith("_") for n in fake[1].names)
    assert layer_of("qhvae.samplers.qpu.sampler") == 2 and layer_of("qhvae.cli") == 7
