"""Sampler discovery through pluggy and the ``qhvae`` entry-point group.

Built-in samplers are registered by qhvae's own entry point, exactly as a third-party
plugin is. A plugin that fails to import or to answer the hook is recorded with its
error and listed as broken; the others keep working.

Example:
    >>> import qhvae
    >>> {"exact", "gibbs", "pa", "sa"} <= {row.name for row in qhvae.list_samplers()}
    True
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Iterable

import dimod
import pluggy

from . import hookspecs
from .hookspecs import CONTRACT_VERSION, PROJECT_NAME, SamplerEntry
from .samplers.base import BoltzmannSampler, DimodSamplerAdapter, SamplerError, call_with_timeout

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
            before :class:`~qhvae.samplers.base.SamplerTimeoutError`. Default:
            ``$QHVAE_PLUGIN_TIMEOUT``, else no limit.
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
        self.pm = pluggy.PluginManager(PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self._origins: dict[str, str] = {}
        self._failures: list[SamplerInfo] = []
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
                plugin = ep.load()
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
        name = self.pm.register(plugin, name=name)
        self._origins[name] = origin
        self._entries = None

    def _collect(self) -> dict[str, tuple[SamplerEntry, str, str]]:
        """Ask every plugin for its samplers; record what cannot be used and why in ``_problems``."""
        if self._entries is not None:
            return self._entries
        entries: dict[str, tuple[SamplerEntry, str, str]] = {}
        claims: dict[str, list[tuple[str, str]]] = {}
        for impl in self.pm.hook.qhvae_samplers.get_hookimpls():
            plugin_name, origin = impl.plugin_name, self._origins.get(impl.plugin_name, "local")
            try:
                offered = list(impl.function())
                for entry in offered:
                    if not isinstance(entry, SamplerEntry):
                        raise TypeError(f"qhvae_samplers returned {type(entry).__name__}, not SamplerEntry")
            except Exception as exc:
                self._failures.append(
                    SamplerInfo(plugin_name, origin, "qhvae_samplers hook failed",
                                f"error: {type(exc).__name__}: {exc}", plugin_name)
                )
                continue
            for entry in offered:
                claims.setdefault(entry.name, []).append((plugin_name, origin))
                entries[entry.name] = (entry, origin, plugin_name)
        self._problems = {}
        for name, (entry, origin, _) in entries.items():
            if len(claims[name]) > 1:
                # Neither claimant wins: picking one silently could run the wrong code.
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

    def names(self) -> list[str]:
        """Names of the samplers that can be built."""
        return sorted(set(self._collect()) - set(self._problems))

    def list(self) -> list[SamplerInfo]:
        """Every sampler and broken plugin, sorted by name."""
        rows = []
        for name, (entry, origin, plugin) in self._collect().items():
            status = f"error: {self._problems[name]}" if name in self._problems else "ok"
            rows.append(SamplerInfo(name, origin, entry.description, status, plugin))
        return sorted(rows + self._failures, key=lambda r: r.name)

    def get(self, name: str, **config: Any) -> BoltzmannSampler:
        """Build the sampler registered as ``name`` with ``config``.

        Raises:
            KeyError: for an unknown name, listing the known ones.
            SamplerError: when the name is claimed twice, the plugin implements another
                contract version, or its factory fails or returns a non-sampler.
            TypeError, ValueError: when the sampler refuses ``config``.
        """
        entries = self._collect()
        if name not in entries:
            broken = [f for f in self._failures if f.name == name]
            hint = f" (a plugin of that name failed to load: {broken[0].status})" if broken else ""
            raise KeyError(f"unknown sampler {name!r}{hint}; known samplers: {', '.join(self.names()) or 'none'}")
        if name in self._problems:
            raise SamplerError(self._problems[name])
        entry, origin, _ = entries[name]
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

    Example:
        >>> get_sampler("gibbs", num_sweeps=5).name
        'gibbs'
    """
    return default_registry().get(name, **config)


def list_samplers() -> list[SamplerInfo]:
    """All registered samplers and broken plugins (name, origin, description, status)."""
    return default_registry().list()
