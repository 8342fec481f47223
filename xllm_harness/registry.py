"""The plugin manager: loads every plugin of the ``xllm_harness`` entry-point group.

Built-ins are registered through the same group as third-party packages. A plugin that fails to
import is recorded with its error (``xllm plugins`` shows it) and never takes the others down.
"""

from __future__ import annotations

import functools
import os
import traceback
from dataclasses import dataclass
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

import pluggy

from xllm_harness import hookspecs

ENTRY_POINT_GROUP = "xllm_harness"
HOOK_NAMES = tuple(name for name in vars(hookspecs) if name.startswith("xllm_"))
"""Every hook of the contract, in the order :mod:`xllm_harness.hookspecs` declares them."""


@dataclass
class PluginInfo:
    """One entry point: where it came from and whether it loaded."""

    name: str
    module: str
    distribution: str
    error: str | None = None
    """Why it did not load (``Type: message``), or ``None``."""
    traceback: str | None = None
    """The full traceback of a failed import (``xllm plugins --json`` shows it)."""


class Registry:
    """A pluggy manager plus the load report of every entry point."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: list[PluginInfo] = []

    def load_entry_points(self) -> None:
        disabled = {n.strip() for n in os.environ.get("XLLM_DISABLE_PLUGINS", "").split(",") if n.strip()}
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            dist = ep.dist.name if ep.dist is not None else "?"
            info = PluginInfo(name=ep.name, module=ep.value, distribution=dist)
            self.plugins.append(info)
            if ep.name in disabled:
                info.error = "disabled by XLLM_DISABLE_PLUGINS"
                continue
            try:
                self.register(ep.load(), name=ep.name)
            except Exception as err:  # a broken plugin must not take the others down
                info.error = f"{type(err).__name__}: {err}"
                info.traceback = traceback.format_exc()

    def register(self, plugin: ModuleType | object, name: str | None = None) -> None:
        """Register a plugin object (a module or any object with hookimpls)."""
        if self.pm.is_registered(plugin):
            return
        self.pm.register(plugin, name=name)
        _collect.cache_clear()

    def collect(self, hook: str) -> list[Any]:
        """Flatten one hook's results over all plugins (earliest registered first)."""
        return _collect(self, hook)

    def contributions(self) -> dict[str, dict[str, list[str]]]:
        """What each registered plugin contributes, hook by hook (names only)."""
        out: dict[str, dict[str, list[str]]] = {}
        for name, plugin in self.pm.list_name_plugin():
            per_hook: dict[str, list[str]] = {}
            for hook in HOOK_NAMES:
                impl = getattr(plugin, hook, None)
                if impl is None:
                    continue
                try:
                    items = impl() or []
                except Exception as err:
                    per_hook[hook] = [f"<error: {type(err).__name__}: {err}>"]
                    continue
                per_hook[hook] = [_describe(item) for item in items]
            out[name] = per_hook
        return out


@functools.cache
def _collect(registry: Registry, hook: str) -> list[Any]:
    results = getattr(registry.pm.hook, hook)()
    # pluggy calls the last registered first; present plugins in registration order
    return [item for chunk in reversed(results) for item in (chunk or [])]


def _describe(item: Any) -> str:
    for attr in ("code", "name", "task"):
        value = getattr(item, attr, None)
        if isinstance(value, str):
            return value
    if isinstance(item, (str, os.PathLike)):
        return str(item)
    return getattr(item, "__name__", type(item).__name__)


@functools.lru_cache(maxsize=1)
def get_registry() -> Registry:
    """The process-wide registry, loaded once from the installed entry points."""
    registry = Registry()
    registry.load_entry_points()
    return registry


def collect(hook: str) -> list[Any]:
    """Shortcut for ``get_registry().collect(hook)``."""
    return get_registry().collect(hook)
