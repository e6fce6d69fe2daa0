"""Sampler discovery through pluggy and the ``qhvae`` entry-point group.

Built-in samplers are registered by qhvae's own entry point, exactly as a third-party
plugin is. A plugin that fails to import or to answer the hook is recorded with its
error and listed as broken; the others keep working.

Three rules keep a plugin from breaking the rest:

* the built-in names (``exact``, ``gibbs``, ...) belong to qhvae: a third-party sampler
  that claims one is refused (listed with its package) and the built-in keeps working;
* discovery is bounded: a third-party plugin's import and its ``qhvae_samplers`` hook
  run under ``$QHVAE_PLUGIN_TIMEOUT`` (default :data:`DEFAULT_DISCOVERY_TIMEOUT`
  seconds), and one that does not finish in time is listed as failed;
* a name that cannot be built says why: :meth:`SamplerRegistry.get` raises with the
  clash or the contract version that refused it, and an unknown name lists the plugins
  that did not load (one of them may have provided it).

Example:
    >>> import qhvae
    >>> {"exact", "gibbs", "pa", "sa"} <= {row.name for row in qhvae.list_samplers()}
    True
"""

from __future__ import annotations

import inspect
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import dimod
import pluggy

from . import hookspecs
from .exceptions import SamplerError, SamplerTimeoutError, UnknownNameError
from .hookspecs import CONTRACT_VERSION, PROJECT_NAME, SamplerEntry
from .samplers.base import BoltzmannSampler
from .samplers.dimod_adapter import DimodSamplerAdapter
from .samplers.timeout import call_with_timeout

__all__ = [
    "SamplerRegistry",
    "SamplerInfo",
    "configure_plugins",
    "get_sampler",
    "list_samplers",
    "default_registry",
]

ENTRY_POINT_GROUP = "qhvae"
BUILTIN_DISTRIBUTION = "qhvae"
ENV_DISABLE = "QHVAE_PLUGINS_DISABLE"
ENV_ALLOW = "QHVAE_PLUGINS_ALLOW"
ENV_TIMEOUT = "QHVAE_PLUGIN_TIMEOUT"

#: Seconds a third-party plugin may take to be imported and to answer the
#: ``qhvae_samplers`` hook when ``$QHVAE_PLUGIN_TIMEOUT`` is not set: a plugin that blocks
#: while being imported must not hang ``qhvae samplers`` or ``get_sampler``. Sampler
#: calls are not limited by default (a real QPU call may wait in a queue for minutes).
DEFAULT_DISCOVERY_TIMEOUT = 30.0


def _names_from_env(var: str) -> frozenset[str] | None:
    raw = os.environ.get(var)
    if raw is None or not raw.strip():
        return None
    return frozenset(n.strip() for n in raw.split(",") if n.strip())


def _timeout_from_env() -> float | None:
    raw = os.environ.get(ENV_TIMEOUT, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{ENV_TIMEOUT} must be a number of seconds, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{ENV_TIMEOUT} must be positive, got {value}")
    return value


@dataclass(frozen=True)
class SamplerInfo:
    """A row of ``qhvae samplers``: what a name resolves to and whether it works."""

    name: str
    origin: str
    description: str
    status: str  # "ok" or "error: ..."
    plugin: str


class SamplerRegistry:
    """The samplers known to this process.

    Third-party plugins (every distribution but qhvae itself) can be filtered and
    time-limited; qhvae's built-ins always load.

    Args:
        load_entry_points: discover installed plugins in the ``qhvae`` group.
        allow: load only these third-party plugins (entry-point or distribution
            names). Default: ``$QHVAE_PLUGINS_ALLOW`` (comma-separated), else all.
        disable: never load these (entry-point or distribution names). Default:
            ``$QHVAE_PLUGINS_DISABLE``.
        timeout: seconds a third-party sampler may take to build or to answer a call
            before :class:`~qhvae.exceptions.SamplerTimeoutError`, and a third-party
            plugin to be imported and to answer its hook. Default:
            ``$QHVAE_PLUGIN_TIMEOUT``, else no limit on building and calls, and
            :data:`DEFAULT_DISCOVERY_TIMEOUT` on discovery.

    Attributes:
        discovery_timeout: the limit on a third-party plugin's import and hook, seconds.
    """

    def __init__(
        self,
        load_entry_points: bool = True,
        *,
        allow: Iterable[str] | None = None,
        disable: Iterable[str] | None = None,
        timeout: float | None = None,
    ):
        self.allow = frozenset(allow) if allow is not None else _names_from_env(ENV_ALLOW)
        self.disable = frozenset(disable) if disable is not None else (_names_from_env(ENV_DISABLE) or frozenset())
        self.timeout = timeout if timeout is not None else _timeout_from_env()
        self.discovery_timeout = self.timeout if self.timeout is not None else DEFAULT_DISCOVERY_TIMEOUT
        self.pm = pluggy.PluginManager(PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self._origins: dict[str, str] = {}
        self._failures: list[SamplerInfo] = []  # plugins that did not load (import, filters)
        self._hook_failures: dict[str, SamplerInfo] = {}  # plugins whose hook failed, by plugin name
        self._refused: list[SamplerInfo] = []  # third-party entries that claimed a built-in name
        self._entries: dict[str, tuple[SamplerEntry, str, str]] | None = None
        self._problems: dict[str, str] = {}
        if load_entry_points:
            self._load_entry_points()

    def _load_entry_points(self) -> None:
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist = ep.dist.name if ep.dist is not None else "unknown"
            skipped = self._skip_reason(ep.name, dist)
            if skipped:
                self._failures.append(SamplerInfo(ep.name, dist, f"plugin {ep.value!r}", skipped, ep.name))
                continue
            try:
                if dist == BUILTIN_DISTRIBUTION:
                    plugin = ep.load()  # qhvae's own: never wrapped
                else:
                    plugin = call_with_timeout(ep.load, self.discovery_timeout, f"importing plugin {ep.value!r}")
            except SamplerTimeoutError:
                self._failures.append(SamplerInfo(
                    ep.name, dist, f"plugin {ep.value!r} did not load",
                    f"error: plugin {ep.value!r} did not load within {self.discovery_timeout:g} s (it blocks while "
                    f"being imported); raise the limit with ${ENV_TIMEOUT} or disable it with "
                    f"${ENV_DISABLE}={ep.name}", ep.name))
                continue
            except Exception as exc:  # a broken plugin must not break the others
                self._failures.append(
                    SamplerInfo(ep.name, dist, f"plugin {ep.value!r} failed to import",
                                f"error: {type(exc).__name__}: {exc}", ep.name)
                )
                continue
            if self.pm.is_registered(plugin) or self.pm.get_plugin(ep.name) is not None:
                continue
            self.register(plugin, name=ep.name, origin=dist)

    def _skip_reason(self, plugin: str, dist: str) -> str | None:
        if dist == BUILTIN_DISTRIBUTION:
            return None
        if self.disable & {plugin, dist}:
            return f"disabled (by configuration or ${ENV_DISABLE})"
        if self.allow is not None and not self.allow & {plugin, dist}:
            return f"disabled (not in the allow list, ${ENV_ALLOW})"
        return None

    def register(self, plugin: Any, name: str | None = None, origin: str = "local") -> None:
        """Register a plugin object or module (for in-process plugins and tests)."""
        registered = self.pm.register(plugin, name=name)  # None for a blocked plugin
        if registered is not None:
            self._origins[registered] = origin
        self._entries = None

    def _offers(self) -> list[tuple[SamplerEntry, str, str]]:
        """``(entry, origin, plugin)`` for every sampler the plugins offer, hooks bounded in time.

        A third-party hook that raises, returns something else than entries or does not
        return within :attr:`discovery_timeout` is recorded in ``_hook_failures`` (and not
        asked again).
        """
        offers: list[tuple[SamplerEntry, str, str]] = []
        for impl in self.pm.hook.qhvae_samplers.get_hookimpls():
            plugin_name, origin = impl.plugin_name, self._origins.get(impl.plugin_name, "local")
            if plugin_name in self._hook_failures:
                continue
            builtin = origin == BUILTIN_DISTRIBUTION
            try:
                offered = call_with_timeout(lambda fn=impl.function: list(fn()),
                                            None if builtin else self.discovery_timeout,
                                            f"the qhvae_samplers hook of plugin {plugin_name!r}")
                for entry in offered:
                    if not isinstance(entry, SamplerEntry):
                        raise TypeError(f"qhvae_samplers returned {type(entry).__name__}, not SamplerEntry")
            except SamplerTimeoutError:
                self._hook_failures[plugin_name] = SamplerInfo(
                    plugin_name, origin, "qhvae_samplers hook did not return",
                    f"error: the plugin's qhvae_samplers hook did not return within {self.discovery_timeout:g} s; "
                    f"raise the limit with ${ENV_TIMEOUT} or disable it with ${ENV_DISABLE}={plugin_name}",
                    plugin_name)
                continue
            except Exception as exc:
                self._hook_failures[plugin_name] = SamplerInfo(
                    plugin_name, origin, "qhvae_samplers hook failed", f"error: {type(exc).__name__}: {exc}",
                    plugin_name)
                continue
            offers.extend((entry, origin, plugin_name) for entry in offered)
        return offers

    def _collect(self) -> dict[str, tuple[SamplerEntry, str, str]]:
        """Ask every plugin for its samplers; record what cannot be used and why in ``_problems``.

        A built-in name belongs to qhvae: a third-party entry that claims one is refused
        (recorded in ``_refused``) and the built-in stays. Two third-party entries of one
        name refuse each other: picking one silently could run the wrong code.
        """
        if self._entries is not None:
            return self._entries
        offers = self._offers()
        builtin_names = {entry.name for entry, origin, _ in offers if origin == BUILTIN_DISTRIBUTION}
        entries: dict[str, tuple[SamplerEntry, str, str]] = {}
        claims: dict[str, list[tuple[str, str]]] = {}
        self._refused = []
        for entry, origin, plugin_name in offers:
            if origin != BUILTIN_DISTRIBUTION and entry.name in builtin_names:
                self._refused.append(SamplerInfo(
                    entry.name, origin, entry.description,
                    f"error: refused: plugin {plugin_name!r} (package {origin}) offers a sampler named "
                    f"{entry.name!r}, the name of a qhvae built-in, which is used instead; the plugin must "
                    f"register its sampler under another name (e.g. '{origin}-{entry.name}')", plugin_name))
                continue
            claims.setdefault(entry.name, []).append((plugin_name, origin))
            entries[entry.name] = (entry, origin, plugin_name)
        self._problems = {}
        for name, (entry, origin, _) in entries.items():
            if len(claims[name]) > 1:
                who = " and ".join(f"{p!r} (package {o})" for p, o in sorted(claims[name]))
                self._problems[name] = f"two plugins claim the sampler name {name!r}: {who}; uninstall one of them"
            elif entry.contract_version is None:
                self._problems[name] = (
                    f"sampler {name!r} (from package {origin}) does not declare the sampler contract version "
                    f"it implements; the plugin must pass SamplerEntry(..., contract_version={CONTRACT_VERSION})"
                )
            elif entry.contract_version != CONTRACT_VERSION:
                self._problems[name] = (
                    f"sampler {name!r} (from package {origin}) implements sampler contract "
                    f"v{entry.contract_version} but this qhvae needs v{CONTRACT_VERSION}; upgrade the plugin"
                )
        self._entries = entries
        return entries

    def unavailable_reason(self, name: str) -> str | None:
        """Why the registered sampler ``name`` cannot be built (a name clash, a contract version), or None.

        None also for a name nobody registered: :meth:`get` explains those. For callers
        that check a name before building it, so that they say why rather than "unknown".

        Example:
            >>> default_registry().unavailable_reason("gibbs") is None
            True
        """
        self._collect()
        return self._problems.get(name)

    def names(self) -> list[str]:
        """Names of the samplers that can be built."""
        return sorted(set(self._collect()) - set(self._problems))

    def list(self) -> list[SamplerInfo]:
        """Every sampler and broken plugin, sorted by name."""
        rows = []
        for name, (entry, origin, plugin) in self._collect().items():
            status = f"error: {self._problems[name]}" if name in self._problems else "ok"
            rows.append(SamplerInfo(name, origin, entry.description, status, plugin))
        broken = self._refused + self._failures + list(self._hook_failures.values())
        return sorted(rows + broken, key=lambda r: r.name)  # stable: a built-in before a refused claim

    def takes_option(self, name: str, option: str) -> bool:
        """Whether the factory of sampler ``name`` declares a parameter ``option`` by name.

        A factory that only takes ``**config`` declares nothing: what it does with an option
        it does not name cannot be known without building it.

        Example:
            >>> default_registry().takes_option("emulator", "seed"), default_registry().takes_option("gibbs", "seed")
            (True, False)
        """
        entries = self._collect()
        if name not in entries:
            return False
        try:
            parameters = inspect.signature(entries[name][0].factory).parameters
        except (TypeError, ValueError):  # a builtin or C callable without a signature
            return False
        param = parameters.get(option)
        return param is not None and param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY)

    def _takes_graph(self, name: str) -> bool:
        """Whether the factory of sampler ``name`` declares a ``graph`` parameter."""
        return self.takes_option(name, "graph")

    def seeded_options(self, name: str, config: dict[str, Any], seed: int | None) -> dict[str, Any]:
        """``config`` with ``seed`` added when sampler ``name``'s factory declares a ``seed`` and ``config`` has none.

        A sampler that owns random sources beyond its calls' seeds (the emulator's device:
        its qubit offsets and drift; the qpu sampler's unseeded calls) takes a constructor
        ``seed``; a run or model with a seed passes it on here, so that the same seed gives
        the same run. An explicit ``seed`` in ``config`` wins, and samplers whose factory
        takes no ``seed`` (their randomness is all in the calls' seeds) get ``config`` as is.

        Example:
            >>> default_registry().seeded_options("emulator", {"noise_profile": "high"}, 5)
            {'noise_profile': 'high', 'seed': 5}
            >>> default_registry().seeded_options("gibbs", {"num_sweeps": 2}, 5)
            {'num_sweeps': 2}
        """
        config = dict(config)
        if seed is not None and config.get("seed") is None and self.takes_option(name, "seed"):
            config["seed"] = int(seed)
        return config

    def _build_sampler_options(self, name: str, entry: SamplerEntry, config: dict[str, Any]) -> dict[str, Any]:
        """``config`` with the samplers that ``entry.sampler_options`` name built by name.

        The sampler being built passes its ``graph`` on to a factory that takes one (a
        Gibbs fallback then uses the graph's own colouring).
        """
        config = dict(config)
        for option in entry.sampler_options:
            value = config.get(option)
            if not isinstance(value, str):
                continue  # absent, None or already an instance: the factory checks it
            graph = config.get("graph")
            passes_graph = graph is not None and value in self._collect() and self._takes_graph(value)
            kwargs = {"graph": graph} if passes_graph else {}
            try:
                config[option] = self.get(value, **kwargs)
            except Exception as exc:
                if hasattr(exc, "add_note"):  # Python >= 3.11; on 3.10 the error goes on without the note
                    exc.add_note(f"while building {option}={value!r} for sampler {name!r}")
                raise
        return config

    def _unknown_message(self, name: str) -> str:
        """``unknown sampler ...``: the known names, and the plugins that did not load (one may provide it)."""
        failed = self._failures + list(self._hook_failures.values())
        same = [f for f in failed if f.name == name]
        hint = f" (a plugin of that name failed to load: {same[0].status})" if same else ""
        message = f"unknown sampler {name!r}{hint}; known samplers: {', '.join(self.names()) or 'none'}"
        others = [f for f in failed if f.name != name]
        if others:
            listed = ", ".join(f"{f.plugin!r} (package {f.origin}, {f.status})" for f in others)
            plural = "s" if len(others) > 1 else ""
            message += f"; {len(others)} plugin{plural} did not load and may provide it: {listed}"
        return message

    def get(self, name: str, **config: Any) -> BoltzmannSampler:
        """Build the sampler registered as ``name`` with ``config``.

        Options that the entry lists in ``sampler_options`` (e.g. the qpu sampler's
        ``fallback``) may name another registered sampler: it is built first, with the
        ``graph`` of ``config`` when its factory takes one.

        Raises:
            KeyError: for an unknown name, listing the known ones and the plugins that did not load.
            SamplerError: when the name is claimed twice, the plugin implements another
                contract version, or its factory fails or returns a non-sampler.
            TypeError, ValueError: when the sampler refuses ``config``.
        """
        entries = self._collect()
        if name not in entries:
            raise UnknownNameError(self._unknown_message(name))
        if name in self._problems:
            raise SamplerError(self._problems[name])
        entry, origin, _ = entries[name]
        if entry.sampler_options:
            config = self._build_sampler_options(name, entry, config)
        third_party = origin != BUILTIN_DISTRIBUTION
        timeout = self.timeout if third_party else None
        try:
            sampler = call_with_timeout(lambda: entry.factory(**config), timeout,
                                        f"building sampler {name!r} (from package {origin})")
        except SamplerError:
            raise
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"sampler {name!r} (from package {origin}) rejected its configuration: {exc}") from exc
        except Exception as exc:
            raise SamplerError(
                f"sampler {name!r} (from package {origin}) failed to build: {type(exc).__name__}: {exc}"
            ) from exc
        if isinstance(sampler, dimod.Sampler) and not isinstance(sampler, BoltzmannSampler):
            sampler = DimodSamplerAdapter(sampler, name=name)
        if not isinstance(sampler, BoltzmannSampler):
            raise SamplerError(
                f"sampler {name!r} (from package {origin}) built a {type(sampler).__name__}, "
                "not a qhvae.BoltzmannSampler or dimod.Sampler"
            )
        sampler.origin = origin
        if sampler.name != name:
            sampler.name = name
        if timeout is not None:
            sampler.call_timeout = timeout
        return sampler


_default: SamplerRegistry | None = None
_lock = threading.Lock()


def default_registry() -> SamplerRegistry:
    """The process-wide registry, built on first use."""
    global _default
    with _lock:
        if _default is None:
            _default = SamplerRegistry()
        return _default


def configure_plugins(
    *, allow: Iterable[str] | None = None, disable: Iterable[str] | None = None, timeout: float | None = None
) -> SamplerRegistry:
    """Rebuild the process-wide registry with plugin filters and a timeout.

    Example:
        >>> configure_plugins(disable=["some-plugin"], timeout=30.0).timeout
        30.0
        >>> configure_plugins().timeout is None  # back to the environment's settings
        True
    """
    global _default
    with _lock:
        _default = SamplerRegistry(allow=allow, disable=disable, timeout=timeout)
        return _default


def get_sampler(name: str, **config: Any) -> BoltzmannSampler:
    """Build a registered sampler by name.

    An option that takes another sampler (``SamplerEntry.sampler_options``, e.g. the qpu
    sampler's ``fallback``) may be given by name too: that sampler is built first.

    Example:
        >>> get_sampler("gibbs", num_sweeps=5).name
        'gibbs'
        >>> get_sampler("emulator", noise_profile="ideal", topology_type="chimera",
        ...             topology_shape=[1, 1, 4], fallback="exact").fallback.name
        'exact'
    """
    return default_registry().get(name, **config)


def list_samplers() -> list[SamplerInfo]:
    """All registered samplers and broken plugins (name, origin, description, status)."""
    return default_registry().list()
