"""How lm-eval finds our tasks: include paths, the TaskManager patch, and a single tasks folder.

Three routes, all fed by :func:`task_include_paths` (every plugin's task folders plus the generated
folder for plugin languages):

- ``lm_eval --tasks xquad_xllm_ar``: ``_xllm_harness_lm_eval_hook`` calls :func:`patch_task_manager`;
- ``lm_eval --include_path "$(xllm tasks-dir)"``: :func:`tasks_dir` gives ONE folder (lm-eval's CLI
  takes one), merged from all plugins when there is more than one source;
- ``xllm eval``: lm-eval's own ``run`` command inside :func:`our_task_index`, so every TaskManager it
  builds indexes only our folders (plus its ``--include_path``), not lm-eval's 13k built-ins.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import yaml

from xllm_harness.errors import PluginConflictError
from xllm_harness.registry import get_registry
from xllm_harness.taskgen import cache_dir, generated_task_dir


def task_include_paths() -> list[Path]:
    """Every registered task folder, then the generated one (if any plugin language needs it)."""
    registry = get_registry()
    contributed = [(plugin, Path(p)) for plugin, p in registry.contributed("xllm_task_dirs")]
    if len({plugin for plugin, _ in contributed}) > 1:
        _refuse_shared_names(contributed, registry.describe)
    paths = [path for _, path in contributed]
    generated = generated_task_dir()
    if generated is not None:
        paths.append(generated)
    return list(dict.fromkeys(paths))


class _AnyTagLoader(yaml.SafeLoader):
    """Reads lm-eval YAMLs without resolving ``!function`` (only ``task`` and ``group`` are wanted)."""


_AnyTagLoader.add_multi_constructor("", lambda loader, suffix, node: None)


def _defined_names(root: Path) -> dict[str, Path]:
    """The task and group names the YAMLs under ``root`` define, with the file of each."""
    names: dict[str, Path] = {}
    for path in sorted(root.rglob("*.yaml")):
        try:
            config = yaml.load(path.read_text(encoding="utf-8"), Loader=_AnyTagLoader)
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue  # lm-eval reports a file it cannot read when it indexes the folder
        if isinstance(config, dict):
            for key in ("task", "group"):
                if isinstance(config.get(key), str):
                    names.setdefault(config[key], path)
    return names


def _refuse_shared_names(contributed: list[tuple[str, Path]], describe) -> None:
    """Two plugins whose task folders define one task or group name: lm-eval would silently keep one."""
    owners: dict[str, tuple[str, Path]] = {}
    for plugin, root in contributed:
        for name, path in _defined_names(root).items():
            first = owners.setdefault(name, (plugin, path))
            if first[0] != plugin:
                raise PluginConflictError(
                    f"task {name!r} is defined twice, by {describe(first[0])} ({first[1]}) and by "
                    f"{describe(plugin)} ({path}): lm-eval would silently use one; uninstall one, or "
                    f"switch it off with XLLM_DISABLE_PLUGINS={plugin}"
                )


def patch_task_manager(cls: type) -> None:
    """Make ``cls`` (lm-eval's TaskManager) also index our task folders. Idempotent."""
    if getattr(cls.__init__, "_xllm_patched", False):
        return
    original = cls.__init__

    @functools.wraps(original)
    def __init__(self, *args, include_path=None, **kwargs):
        if include_path is None:
            extra: list = []
        elif isinstance(include_path, (list, tuple)):
            extra = list(include_path)
        else:
            extra = [include_path]
        try:
            ours = [str(p) for p in task_include_paths()]
        except Exception as err:  # a broken plugin must not break lm_eval itself
            import logging

            logging.getLogger("xllm_harness").warning("xllm-harness tasks unavailable: %s", err)
            ours = []
        # ours first: a user's own include_path overrides our tasks, as lm-eval's precedence intends
        merged = list(dict.fromkeys([*ours, *(str(p) for p in extra)]))
        original(self, *args, include_path=merged or None, **kwargs)

    __init__._xllm_patched = True  # type: ignore[attr-defined]
    cls.__init__ = __init__


def on_lm_eval_import(manager_module) -> None:
    """What the lm-eval hook does once ``lm_eval.tasks.manager`` is imported: our tasks, quiet output."""
    from xllm_harness.bridge.quiet import install_lm_eval_quieting

    patch_task_manager(manager_module.TaskManager)
    install_lm_eval_quieting()


def tasks_dir() -> Path:
    """ONE folder holding every registered task (for ``lm_eval --include_path``)."""
    paths = task_include_paths()
    if len(paths) == 1:
        return paths[0]
    digest = hashlib.sha256()
    for root in paths:
        for file in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            digest.update(str(file).encode())
            digest.update(str(file.stat().st_mtime_ns).encode())
    target = cache_dir() / "tasks_dir" / digest.hexdigest()[:16]
    if target.is_dir():
        return target
    tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
    for i, root in enumerate(paths):
        shutil.copytree(root, tmp / f"{i:02d}_{root.name}", ignore=shutil.ignore_patterns("__pycache__"))
    try:
        tmp.rename(target)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _with_ours(include_path: str | Path | list | None) -> list[str]:
    """Our task folders first, then the caller's (a user's own folder overrides our tasks)."""
    extra = [] if include_path is None else include_path if isinstance(include_path, list) else [include_path]
    return list(dict.fromkeys([*(str(p) for p in task_include_paths()), *(str(p) for p in extra)]))


def task_manager(include_defaults: bool = False, metadata: dict | None = None, include_path=None):
    """An lm-eval TaskManager over our task folders (plus ``include_path``)."""
    from lm_eval.tasks import TaskManager

    return TaskManager(
        include_path=_with_ours(include_path), include_defaults=include_defaults, metadata=metadata
    )


@contextlib.contextmanager
def our_task_index(include_defaults: bool = False) -> Iterator[None]:
    """While active, every ``lm_eval.tasks.TaskManager(...)`` indexes our task folders plus its
    ``include_path``, and lm-eval's built-in tasks only if ``include_defaults``.

    lm-eval's ``run`` command builds its TaskManager from ``lm_eval.tasks`` when it runs, so this is
    how ``xllm eval`` reuses that command unchanged with our task index.
    """
    import lm_eval.tasks

    original = lm_eval.tasks.TaskManager
    defaults = include_defaults

    class XllmTaskManager(original):  # type: ignore[misc, valid-type]
        def __init__(self, *args, include_path=None, include_defaults=defaults, **kwargs):
            super().__init__(
                *args, include_path=_with_ours(include_path), include_defaults=include_defaults, **kwargs
            )

    lm_eval.tasks.TaskManager = XllmTaskManager
    try:
        yield
    finally:
        lm_eval.tasks.TaskManager = original
