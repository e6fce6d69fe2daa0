"""Plugin discovery through real entry points: good, broken, duplicate and incompatible plugins.

Plugins are installed by ``conftest.py``'s ``fake_distribution``: a real ``dist-info`` folder
on ``sys.path``, found by ``importlib.metadata`` exactly as an installed package is.
"""

import numpy as np
import pytest

import qhvae
from qhvae.registry import SamplerRegistry
from qhvae.samplers import SamplerError

GOOD = """
    import numpy as np
    from qhvae import SamplerEntry, hookimpl
    from qhvae.samplers.base import BoltzmannSampler, SampleResult

    class AllZeros(BoltzmannSampler):
        name = "zeros"
        def _sample(self, bm, num_samples, seed, **params):
            return SampleResult(np.zeros((num_samples, bm.num_variables), np.uint8))

    def boom(**config):
        raise RuntimeError("no licence server")

    @hookimpl
    def qhvae_samplers():
        return [SamplerEntry("zeros", AllZeros, "always zero", contract_version=1),
                SamplerEntry("boom", boom, "raises in its factory", contract_version=1),
                SamplerEntry("future", AllZeros, "needs contract v99", contract_version=99),
                SamplerEntry("vague", AllZeros, "declares no contract version")]
"""

BROKEN = "import this_module_does_not_exist\n"

DIMOD_ONLY = """
    import dimod
    from qhvae import SamplerEntry, hookimpl

    @hookimpl
    def qhvae_samplers():
        return [SamplerEntry("plain-dimod", dimod.RandomSampler, "a plain dimod sampler", contract_version=1)]
"""

CLAIMS_TWIN = """
    from qhvae import SamplerEntry, hookimpl

    @hookimpl
    def qhvae_samplers():
        return [SamplerEntry("twin", object, "one of two", contract_version=1)]
"""

HOOK_RAISES = """
    from qhvae import hookimpl

    @hookimpl
    def qhvae_samplers():
        raise RuntimeError("half-installed")
"""


@pytest.fixture
def plugins(fake_distribution):
    fake_distribution(
        "fake-plugins",
        {"good": ("fake_good", GOOD), "broken": ("fake_broken", BROKEN), "plain": ("fake_plain", DIMOD_ONLY),
         "hookfail": ("fake_hookfail", HOOK_RAISES)},
    )
    return SamplerRegistry()


def test_builtins_are_registered_through_entry_points():
    rows = {r.name: r for r in qhvae.list_samplers()}
    for name in ("exact", "gibbs", "pa", "sa", "qpu", "emulator"):
        assert rows[name].origin == "qhvae" and rows[name].status == "ok" and rows[name].plugin == "builtin"


def test_good_plugin_works_and_broken_ones_are_listed(plugins):
    rows = {r.name: r for r in plugins.list()}
    assert rows["zeros"].status == "ok" and rows["zeros"].origin == "fake-plugins"
    assert rows["broken"].status.startswith("error: ModuleNotFoundError")
    assert "this_module_does_not_exist" in rows["broken"].status
    assert rows["hookfail"].status == "error: RuntimeError: half-installed"
    assert "v99" in rows["future"].status
    assert "does not declare the sampler contract version" in rows["vague"].status
    # the built-ins still work beside the broken plugins
    assert plugins.get("gibbs").sample_arrays(np.zeros(3), None, 2, seed=0).shape == (2, 3)
    s = plugins.get("zeros")
    assert s.origin == "fake-plugins"
    assert s.sample_arrays(np.zeros(4), None, 3).sum() == 0


def test_plugin_errors_name_the_plugin(plugins):
    with pytest.raises(SamplerError, match=r"sampler 'boom' \(from package fake-plugins\) failed to build: "
                                           r"RuntimeError: no licence server"):
        plugins.get("boom")
    with pytest.raises(SamplerError, match="contract v99 but this qhvae needs v1"):
        plugins.get("future")
    with pytest.raises(KeyError, match="unknown sampler 'broken'.*failed to load.*known samplers: .*gibbs"):
        plugins.get("broken")
    with pytest.raises(SamplerError, match=r"'vague' \(from package fake-plugins\) does not declare .*"
                                           r"contract_version=1"):
        plugins.get("vague")
    with pytest.raises(KeyError, match="unknown sampler 'nope'; known samplers: boom, emulator, exact, gibbs, "
                                       ".*pa, plain-dimod, qpu, sa, .*zeros"):
        plugins.get("nope")
    with pytest.raises(TypeError, match="sampler 'gibbs' .* rejected its configuration"):
        plugins.get("gibbs", colour="blue")
    with pytest.raises(ValueError, match=r"sampler 'sa' \(from package qhvae\) rejected its configuration: "
                                         r"sa samples at beta = 1"):
        plugins.get("sa", beta_range=(0.1, 2.0))


def test_plain_dimod_samplers_are_wrapped_and_validated(plugins):
    s = plugins.get("plain-dimod")
    assert isinstance(s, qhvae.BoltzmannSampler)
    out = s.sample_arrays(np.zeros(5), None, 6, seed=1)
    assert out.shape == (6, 5)


def test_duplicate_names_name_both_plugins(fake_distribution):
    """Two third-party plugins of one sampler name refuse each other, naming both.

    (A plugin that claims a built-in name is refused alone and the built-in kept, issue #12:
    ``test_registry_discovery.py``.)"""
    fake_distribution("twinone", {"one": ("fake_twin_one", CLAIMS_TWIN)})
    fake_distribution("twintwo", {"two": ("fake_twin_two", CLAIMS_TWIN)})
    registry = SamplerRegistry()
    message = (r"two plugins claim the sampler name 'twin': 'one' \(package twinone\) "
               r"and 'two' \(package twintwo\)")
    rows = {r.name: r for r in registry.list()}
    assert rows["twin"].status.startswith("error: two plugins claim")
    with pytest.raises(SamplerError, match=message):
        registry.get("twin")
    # the rest keeps working
    assert "twin" not in registry.names() and "pa" in registry.names()
    assert registry.get("pa").sample_arrays(np.zeros(2), None, 4, seed=0).shape == (4, 2)


def test_in_process_registration():
    import types

    from qhvae import SamplerEntry, hookimpl

    mod = types.SimpleNamespace()
    mod.qhvae_samplers = hookimpl(
        lambda: [SamplerEntry("mine", lambda: qhvae.get_sampler("exact"), "x", qhvae.CONTRACT_VERSION)])
    registry = SamplerRegistry(load_entry_points=False)
    registry.register(mod, name="mine")
    assert registry.names() == ["mine"]
    assert registry.get("mine").name == "mine"


HANGS = """
    import time
    import numpy as np
    from qhvae import SamplerEntry, hookimpl
    from qhvae.samplers.base import BoltzmannSampler, SampleResult

    class Sleepy(BoltzmannSampler):
        name = "sleepy"
        def _sample(self, bm, num_samples, seed, **params):
            time.sleep(30)
            return SampleResult(np.zeros((num_samples, bm.num_variables), np.uint8))

    def slow_factory(**config):
        time.sleep(30)

    @hookimpl
    def qhvae_samplers():
        return [SamplerEntry("sleepy", Sleepy, "hangs in every call", contract_version=1),
                SamplerEntry("slow-start", slow_factory, "hangs while building", contract_version=1)]
"""


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_disable_and_allow_lists(monkeypatch, how, fake_distribution):
    fake_distribution("fake-plugins", {"good": ("fake_good", GOOD)})
    if how == "argument":
        disabled, allowed_none = SamplerRegistry(disable=["good"]), SamplerRegistry(allow=["other"])
        allowed = SamplerRegistry(allow=["fake-plugins"])
    else:
        monkeypatch.setenv("QHVAE_PLUGINS_DISABLE", "fake-plugins")
        disabled = SamplerRegistry()
        monkeypatch.delenv("QHVAE_PLUGINS_DISABLE")
        monkeypatch.setenv("QHVAE_PLUGINS_ALLOW", "other, more")
        allowed_none = SamplerRegistry()
        monkeypatch.setenv("QHVAE_PLUGINS_ALLOW", "good")
        allowed = SamplerRegistry()
    rows = {r.name: r for r in disabled.list()}
    assert "zeros" not in rows and rows["good"].status.startswith("disabled (by configuration")
    assert "gibbs" in rows  # built-ins are never filtered
    rows = {r.name: r for r in allowed_none.list()}
    assert rows["good"].status.startswith("disabled (not in the allow list")
    assert "zeros" in allowed.names()


def test_hanging_plugin_times_out_and_names_itself(monkeypatch, fake_distribution):
    fake_distribution("sleepy-dist", {"sleepy": ("fake_sleepy", HANGS)})
    monkeypatch.setenv("QHVAE_PLUGIN_TIMEOUT", "0.3")
    registry = SamplerRegistry()
    sampler = registry.get("sleepy")
    with pytest.raises(qhvae.SamplerTimeoutError, match=r"sampler 'sleepy' \(from package sleepy-dist\) did not "
                                                        r"return within 0.3 s"):
        sampler.sample_arrays(np.zeros(3), None, 2)
    with pytest.raises(qhvae.SamplerTimeoutError, match=r"building sampler 'slow-start'"):
        registry.get("slow-start")
    # built-ins are not time-limited, and still work
    assert registry.get("gibbs").call_timeout is None
    assert registry.get("exact").sample_arrays(np.zeros(2), None, 2, seed=0).shape == (2, 2)


def test_bad_timeout_setting(monkeypatch):
    monkeypatch.setenv("QHVAE_PLUGIN_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="QHVAE_PLUGIN_TIMEOUT must be a number of seconds, got 'soon'"):
        SamplerRegistry()
