"""Plugin discovery in ``qhvae.registry`` (issue #12): a plugin can neither take a built-in's name nor hang discovery.

Plugins are installed by ``conftest.py``'s ``fake_distribution``: a real ``dist-info`` folder
with an ``entry_points.txt`` on ``sys.path``, found by ``importlib.metadata`` exactly as an
installed package is.
"""

import sys
import threading
import types

import numpy as np
import pytest

import qhvae
import qhvae.registry
from qhvae.registry import SamplerRegistry
from qhvae.samplers import SamplerError
from qhvae.samplers.gibbs import GibbsSampler

CLAIMS_GIBBS = """
    import numpy as np
    from qhvae import SamplerEntry, hookimpl
    from qhvae.samplers.base import BoltzmannSampler, SampleResult

    class Ones(BoltzmannSampler):
        name = "ones"
        def _sample(self, bm, num_samples, seed, **params):
            return SampleResult(np.ones((num_samples, bm.num_variables), np.uint8))

    @hookimpl
    def qhvae_samplers():
        return [SamplerEntry("gibbs", Ones, "impostor", contract_version=1),
                SamplerEntry("ones", Ones, "always one", contract_version=1)]
"""

TWIN_A = """
    from qhvae import SamplerEntry, hookimpl

    @hookimpl
    def qhvae_samplers():
        return [SamplerEntry("twin", object, "one twin", contract_version=1)]
"""

OLD_CONTRACT = """
    from qhvae import SamplerEntry, hookimpl

    @hookimpl
    def qhvae_samplers():
        return [SamplerEntry("old", object, "written for contract v0", contract_version=0)]
"""

GOOD = """
    import numpy as np
    from qhvae import SamplerEntry, hookimpl
    from qhvae.samplers.base import BoltzmannSampler, SampleResult

    class AllZeros(BoltzmannSampler):
        name = "zeros"
        def _sample(self, bm, num_samples, seed, **params):
            return SampleResult(np.zeros((num_samples, bm.num_variables), np.uint8))

    @hookimpl
    def qhvae_samplers():
        return [SamplerEntry("zeros", AllZeros, "always zero", contract_version=1)]
"""

# Blocks while being imported, until the test sets the gate (at most 20 s, so that the
# test fails rather than hangs on a registry that does not bound discovery), then says so in
# the gate's FINISHED: discovery that returns while FINISHED is empty did not wait for it.
BLOCKS_ON_IMPORT = """
    import fake_gate
    fake_gate.EVENT.wait(20)
    fake_gate.FINISHED.append(__name__)
    from qhvae import SamplerEntry, hookimpl

    @hookimpl
    def qhvae_samplers():
        return [SamplerEntry("late", object, "arrives too late", contract_version=1)]
"""

BLOCKS_IN_HOOK = """
    import fake_gate
    from qhvae import SamplerEntry, hookimpl

    @hookimpl
    def qhvae_samplers():
        fake_gate.EVENT.wait(20)
        fake_gate.FINISHED.append(__name__)
        return [SamplerEntry("stuck", object, "stuck in its hook", contract_version=1)]
"""


@pytest.fixture
def own_default_registry(monkeypatch):
    """Let ``qhvae.get_sampler`` build a fresh process-wide registry; restore the old one after."""
    monkeypatch.setattr(qhvae.registry, "_default", None)


@pytest.fixture
def gate(monkeypatch):
    """A module ``fake_gate`` whose ``EVENT`` the blocking plugins wait on (set at teardown), and
    ``FINISHED``, the plugins that got past it."""
    module = types.ModuleType("fake_gate")
    module.EVENT = threading.Event()
    module.FINISHED = []
    monkeypatch.setitem(sys.modules, "fake_gate", module)
    yield module
    module.EVENT.set()  # let the abandoned import threads finish


# ------------------------------------------------------------------ built-in names


def test_a_plugin_cannot_take_a_builtin_name(own_default_registry, fake_distribution):
    fake_distribution("impostor-dist", {"impostor": ("fake_impostor", CLAIMS_GIBBS)})
    # The plain call keeps working: the built-in wins, whatever the plugin says.
    sampler = qhvae.get_sampler("gibbs", num_sweeps=2)
    assert isinstance(sampler, GibbsSampler) and sampler.origin == "qhvae"
    assert "gibbs" in qhvae.registry.default_registry().names()
    # The claim is refused, listed with the package that made it and what to do.
    refused = [r for r in qhvae.list_samplers() if r.name == "gibbs" and r.origin == "impostor-dist"]
    assert len(refused) == 1 and refused[0].status.startswith("error: ")
    assert "impostor-dist" in refused[0].status and "built-in" in refused[0].status
    assert "another name" in refused[0].status
    ok = [r for r in qhvae.list_samplers() if r.name == "gibbs" and r.status == "ok"]
    assert len(ok) == 1 and ok[0].origin == "qhvae"
    # the plugin's other samplers are not punished for it
    assert qhvae.get_sampler("ones").sample_arrays(np.zeros(3), None, 2).sum() == 6


def test_two_plugins_claiming_a_builtin_name_leave_the_builtin_working(fake_distribution):
    fake_distribution("impostor-one", {"one": ("fake_impostor_one", CLAIMS_GIBBS)})
    fake_distribution("impostor-two",
                      {"two": ("fake_impostor_two", CLAIMS_GIBBS.replace('"ones"', '"ones-two"'))})
    registry = SamplerRegistry()
    assert registry.get("gibbs").origin == "qhvae"
    refused = {r.origin for r in registry.list() if r.name == "gibbs" and r.status != "ok"}
    assert refused == {"impostor-one", "impostor-two"}


def test_refused_names_say_why_not_unknown(own_default_registry, fake_distribution):
    fake_distribution("twin-a", {"a": ("fake_twin_a", TWIN_A)})
    fake_distribution("twin-b", {"b": ("fake_twin_b", TWIN_A)})
    fake_distribution("old-dist", {"old": ("fake_old", OLD_CONTRACT)})
    with pytest.raises(SamplerError, match=r"two plugins claim the sampler name 'twin'.*package twin-a.*"
                                           r"package twin-b.*uninstall one"):
        qhvae.get_sampler("twin")
    with pytest.raises(SamplerError, match=r"'old' \(from package old-dist\) implements sampler contract v0 "
                                           r"but this qhvae needs v1"):
        qhvae.get_sampler("old")
    registry = qhvae.registry.default_registry()
    assert registry.unavailable_reason("old").startswith("sampler 'old' (from package old-dist) implements")
    assert registry.unavailable_reason("twin").startswith("two plugins claim")
    assert registry.unavailable_reason("gibbs") is None and registry.unavailable_reason("nope") is None


def test_an_unknown_name_mentions_the_plugins_that_did_not_load(fake_distribution):
    fake_distribution("fake-plugins", {"good": ("fake_good_r", GOOD)})
    registry = SamplerRegistry(disable=["good"])
    with pytest.raises(KeyError, match=r"unknown sampler 'zeros'; known samplers: .*gibbs.*; "
                                       r"1 plugin did not load and may provide it: 'good' \(package fake-plugins, "
                                       r"disabled"):
        registry.get("zeros")


# ----------------------------------------------------------------------- hangs


@pytest.mark.timeout(60)  # only a hang: the plugins block for 20 s, discovery gives up after 0.5 s
@pytest.mark.parametrize("how", ["environment", "argument"])
def test_a_plugin_that_blocks_while_imported_does_not_hang_discovery(monkeypatch, gate, how, fake_distribution):
    fake_distribution("hang-dist",
                      {"hang": ("fake_hang", BLOCKS_ON_IMPORT), "good": ("fake_good_h", GOOD)})
    if how == "environment":
        monkeypatch.setenv("QHVAE_PLUGIN_TIMEOUT", "0.5")
        registry = SamplerRegistry()
    else:
        registry = SamplerRegistry(timeout=0.5)
    rows = {r.name: r for r in registry.list()}
    assert gate.FINISHED == []  # discovery gave up on the plugin while it was still blocked
    assert rows["hang"].status.startswith("error: ") and "did not load within 0.5 s" in rows["hang"].status
    assert "hang-dist" in rows["hang"].origin and "QHVAE_PLUGIN_TIMEOUT" in rows["hang"].status
    # the others keep working
    assert registry.get("zeros").sample_arrays(np.zeros(2), None, 3).shape == (3, 2)
    assert registry.get("exact").sample_arrays(np.zeros(2), None, 3, seed=0).shape == (3, 2)
    with pytest.raises(KeyError, match="unknown sampler 'late'.*'hang' \\(package hang-dist, error: "):
        registry.get("late")


@pytest.mark.timeout(60)  # only a hang: the plugins block for 20 s, discovery gives up after 0.5 s
def test_a_plugin_hook_that_blocks_does_not_hang_discovery(monkeypatch, gate, own_default_registry, fake_distribution):
    fake_distribution("stuck-dist", {"stuck": ("fake_stuck", BLOCKS_IN_HOOK)})
    monkeypatch.setenv("QHVAE_PLUGIN_TIMEOUT", "0.5")
    rows = {r.name: r for r in qhvae.list_samplers()}
    assert qhvae.get_sampler("exact").name == "exact"
    assert gate.FINISHED == []  # discovery gave up on the hook while it was still blocked
    assert rows["stuck"].status.startswith("error: ") and "qhvae_samplers hook" in rows["stuck"].status
    assert "0.5 s" in rows["stuck"].status


@pytest.mark.timeout(60)  # only a hang: the plugins block for 20 s, discovery gives up after 0.5 s
def test_discovery_is_bounded_by_default(monkeypatch, gate, fake_distribution):
    """Without QHVAE_PLUGIN_TIMEOUT a hung import still ends discovery, after the default bound."""
    fake_distribution("hang-dist", {"hang": ("fake_hang_d", BLOCKS_ON_IMPORT)})
    monkeypatch.delenv("QHVAE_PLUGIN_TIMEOUT", raising=False)
    monkeypatch.setattr(qhvae.registry, "DEFAULT_DISCOVERY_TIMEOUT", 0.5)
    registry = SamplerRegistry()
    assert gate.FINISHED == []  # discovery gave up on the plugin while it was still blocked
    assert registry.timeout is None  # calls stay unbounded unless asked
    rows = {r.name: r for r in registry.list()}
    assert "did not load within 0.5 s" in rows["hang"].status
    assert registry.get("gibbs").call_timeout is None
