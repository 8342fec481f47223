"""The core (``xllm_harness/``) never imports a built-in plugin: parsed from the source, every module."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "xllm_harness"
PLUGINS = "xllm_harness.plugins"


DYNAMIC = ("import_module", "__import__")
LEAVES = ("plugins", "tasks", "trainers")
"""Sub-packages that are not the core: they build on it."""


def _imports(path: Path, root: Path = CORE) -> list[tuple[int, str]]:
    """(line, module) of every import in ``path``, relative imports resolved against its package."""
    package = ".".join(("xllm_harness", *path.relative_to(root).with_suffix("").parts[:-1]))
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) in DYNAMIC
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def test_no_core_module_imports_a_builtin_plugin():
    modules = sorted(p for p in CORE.rglob("*.py") if p.relative_to(CORE).parts[0] not in LEAVES)
    assert len(modules) > 20
    offenders = [
        f"{path.relative_to(CORE.parent)}:{line}: {module}"
        for path in modules
        for line, module in _imports(path)
        if module == PLUGINS
        or module.startswith(PLUGINS + ".")
        or module == "plugins"
        or module.startswith("plugins.")
    ]
    assert not offenders, "core modules import built-in plugins:\n" + "\n".join(offenders)


def test_the_check_sees_every_import_form(tmp_path):
    """The parser catches plain, from-, relative and dynamic imports (so the test above can fail)."""
    probe = tmp_path / "xllm_harness" / "commands" / "probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text(
        "import xllm_harness.plugins.metrics.qa\n"
        "from xllm_harness.plugins import builtin_tasks\n"
        "from ..plugins.metrics import bleu\n"
        "import importlib\nimportlib.import_module('xllm_harness.plugins.paper_languages')\n",
        encoding="utf-8",
    )
    modules = {m for _, m in _imports(probe, tmp_path / "xllm_harness")}
    assert {
        "xllm_harness.plugins.metrics.qa",
        "xllm_harness.plugins.builtin_tasks",
        "xllm_harness.plugins.metrics.bleu",
        "xllm_harness.plugins.paper_languages",
    } <= modules
