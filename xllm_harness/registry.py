"""The plugin manager: loads every plugin of the ``xllm_harness`` entry-point group.

Built-ins are registered through the same group as third-party packages. A plugin that fails to
import is recorded with its error (``xllm plugins`` shows it) and never takes the others down. A hook
that raises or returns something other than a list is isolated the same way: its plugin's
contribution to that hook is left out and every command that asks for the hook says so on stderr.
Named contributions (metrics, judges, languages, task families, analyzers, data sources) go through
:meth:`Registry.named`: two plugins contributing the same name is an error naming both, never a
silent replacement.
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

import pluggy

from xllm_harness import hookspecs
from xllm_harness.errors import PluginConflictError

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


@dataclass(frozen=True)
class HookFailure:
    """A plugin's hook that raised or returned a malformed value; its contribution is left out."""

    plugin: str
    hook: str
    problem: str
    """What went wrong, e.g. ``raised RuntimeError: boom`` or ``returned 'chrf', not a Metric subclass``."""
    traceback: str | None = None


class Registry:
    """A pluggy manager plus the load report of every entry point."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: list[PluginInfo] = []
        self.failures: list[HookFailure] = []
        """Every hook failure met so far in this process (each reported once on stderr)."""
        self._load_errors_said = False

    def load_entry_points(self) -> None:
        disabled = _disabled()
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
        return [item for _, item in _collect(self, hook)]

    def contributed(self, hook: str) -> list[tuple[str, Any]]:
        """``(plugin name, item)`` for every item of one hook, earliest registered plugin first."""
        return _collect(self, hook)

    def named(
        self,
        hook: str,
        kind: str,
        valid: Callable[[Any], bool],
        expected: str,
        name_of: Callable[[Any], str] = lambda item: item.name,
    ) -> dict[str, Any]:
        """One hook's items by name. An item that is not ``valid`` (``expected`` says what it should
        be) or has no string name is left out and reported; two plugins (or one plugin twice)
        contributing different items of one name raise :class:`PluginConflictError` naming both."""
        table: dict[str, Any] = {}
        owner: dict[str, str] = {}
        for plugin, item in _collect(self, hook):
            name = name_of(item) if valid(item) else None
            if not isinstance(name, str) or not name:
                self.fail(HookFailure(plugin, hook, f"returned {item!r:.80}, not {expected} with a name"))
                continue
            if name in table and not (table[name] is item or table[name] == item):
                first, second = self.describe(owner[name]), self.describe(plugin)
                where = f"both by {first}" if owner[name] == plugin else f"by {first} and by {second}"
                raise PluginConflictError(
                    f"{kind} {name!r} is defined twice, {where}: one would silently replace the "
                    f"other; uninstall one, or switch it off with XLLM_DISABLE_PLUGINS={plugin}"
                )
            table.setdefault(name, item)
            owner.setdefault(name, plugin)
        return table

    def describe(self, plugin: str) -> str:
        """``plugin 'name' (distribution)`` for messages."""
        dist = next((p.distribution for p in self.plugins if p.name == plugin), None)
        return f"plugin {plugin!r}" + (f" ({dist})" if dist and dist != "?" else "")

    def say_load_errors(self) -> None:
        """Once per process, when a contribution is first asked for: one stderr line per plugin that
        failed to import (what it would contribute is missing), unless it was switched off."""
        if self._load_errors_said:
            return
        self._load_errors_said = True
        for info in self.plugins:
            if info.error and info.name not in _disabled():
                print(
                    f"warning: {self.describe(info.name)} failed to load ({info.error}); what it contributes "
                    "is missing (`xllm plugins --json` shows the traceback)",
                    file=sys.stderr,
                    flush=True,
                )

    def fail(self, failure: HookFailure) -> None:
        """Record a hook failure and say it on stderr, once per process."""
        if failure in self.failures:
            return
        self.failures.append(failure)
        print(
            f"warning: {self.describe(failure.plugin)}: {failure.hook} {failure.problem}; "
            "its contribution is left out (`xllm plugins --json` shows the details)",
            file=sys.stderr,
            flush=True,
        )

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
                    items = impl()
                except Exception as err:
                    per_hook[hook] = [f"<error: {type(err).__name__}: {err}>"]
                    continue
                if items is not None and not isinstance(items, (list, tuple)):
                    per_hook[hook] = [f"<error: returned {items!r:.80}, not a list>"]
                    continue
                per_hook[hook] = [_describe(item) for item in items or []]
            out[name] = per_hook
        return out


def _disabled() -> set[str]:
    """Entry-point names switched off by ``XLLM_DISABLE_PLUGINS``."""
    return {n.strip() for n in os.environ.get("XLLM_DISABLE_PLUGINS", "").split(",") if n.strip()}


@functools.cache
def _collect(registry: Registry, hook: str) -> list[tuple[str, Any]]:
    registry.say_load_errors()
    found: list[tuple[str, Any]] = []
    # pluggy keeps a hook's implementations in registration order (and calls them the other way)
    for impl in getattr(registry.pm.hook, hook).get_hookimpls():
        try:
            items = impl.function()
        except Exception as err:  # one broken plugin must not take the others down
            registry.fail(
                HookFailure(
                    impl.plugin_name, hook, f"raised {type(err).__name__}: {err}", traceback.format_exc()
                )
            )
            continue
        if items is None:
            continue
        if not isinstance(items, (list, tuple)):
            registry.fail(HookFailure(impl.plugin_name, hook, f"returned {items!r:.80}, not a list"))
            continue
        found += [(impl.plugin_name, item) for item in items]
    return found


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
