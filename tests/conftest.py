"""Fixtures shared by the test files: fake plugin distributions and the tiny training run.

Test files do not import this module (``from conftest import ...`` finds whichever
``conftest`` pytest loaded last, the plugins' own when the whole suite runs): what they share
comes through the fixtures below.
"""

from __future__ import annotations

import copy
import sys
import textwrap

import pytest

#: The ``TrainConfig`` fields of a training run that takes seconds: 64 8x8 digits in batches of 32
#: (2 steps an epoch), an fc network with 16 hidden units, a Chimera ``m=1`` prior (8 units),
#: 16 negative samples from short Gibbs chains, 4 samples and 4 chain frames pictured. Each test
#: file adds what it needs (its evaluation sizes, TensorBoard off, epochs): see :func:`tiny_run`.
TINY_RUN = dict(
    train_limit=64,
    batch_size=32,
    network="fc",
    network_options={"hidden": [16]},
    num_negative_samples=16,
    sampler_options={"num_sweeps": 2, "burn_in": 5},
    graph_options={"m": 1},
    num_plot_samples=4,
    gibbs_chain_steps=4,
)

#: ``qhvae train``'s options for the same data, batches, network type, negative samples and prior
#: (the hidden widths, evaluation sizes and the rest are each test file's own).
TINY_RUN_ARGS = (
    "--limit", "64", "--batch-size", "32", "--network", "fc", "--num-negative-samples", "16",
    "--graph-option", "m=1",
)  # fmt: skip


@pytest.fixture(scope="session")
def tiny_run():
    """``tiny_run(**changes)``: a fresh copy of :data:`TINY_RUN` (nested options included) with ``changes`` over it."""

    def make(**changes):
        return {**copy.deepcopy(TINY_RUN), **changes}

    return make


@pytest.fixture(scope="session")
def tiny_run_args():
    """``tiny_run_args(*more)``: a new list of :data:`TINY_RUN_ARGS` followed by ``more``."""

    def make(*more: str) -> list[str]:
        return [*TINY_RUN_ARGS, *more]

    return make


@pytest.fixture
def fake_distribution(tmp_path, monkeypatch):
    """``fake_distribution(name, {entry_point: (module, source)})`` installs a plugin package for one test.

    A real ``dist-info`` folder with an ``entry_points.txt`` (group ``qhvae``) and the modules'
    source, each distribution in a folder of its own prepended to ``sys.path``, so that
    ``importlib.metadata`` finds it exactly as an installed package. The folder's name is
    normalised as pip writes it (``importlib.metadata`` reads ``a-b-1.0.dist-info`` as
    distribution ``a`` and would merge two such folders); ``METADATA`` keeps ``name``. The
    modules are dropped from ``sys.modules`` first (a module of an earlier test is imported
    afresh) and ``sys.path`` and ``sys.modules`` are restored after the test.
    """

    def install(name: str, modules: dict[str, tuple[str, str]]) -> None:
        root = tmp_path / name
        root.mkdir()
        dist = root / f"{name.replace('-', '_')}-1.0.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        lines = ["[qhvae]"]
        for ep_name, (module, source) in modules.items():
            (root / f"{module}.py").write_text(textwrap.dedent(source))
            lines.append(f"{ep_name} = {module}")
        (dist / "entry_points.txt").write_text("\n".join(lines) + "\n")
        monkeypatch.syspath_prepend(str(root))
        for module, _ in modules.values():
            monkeypatch.delitem(sys.modules, module, raising=False)

    return install


@pytest.fixture(scope="session", autouse=True)
def classifier_cache(tmp_path_factory):
    """One throwaway classifier cache for the session (``QHVAE_CACHE_DIR``): tests never write to
    the user's ``~/.cache/qhvae``, and a classifier trained by one test is reused by the next."""
    import os

    path = tmp_path_factory.mktemp("qhvae-cache")
    before = os.environ.get("QHVAE_CACHE_DIR")
    os.environ["QHVAE_CACHE_DIR"] = str(path)
    yield path
    if before is None:
        os.environ.pop("QHVAE_CACHE_DIR", None)
    else:
        os.environ["QHVAE_CACHE_DIR"] = before
