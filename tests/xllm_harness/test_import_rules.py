"""The rules of docs/architecture.md, one test each, parsed from the source of every module.

Every import counts: plain, ``from``, relative, inside functions, under ``TYPE_CHECKING`` and dynamic
(``importlib.import_module("...")``, ``__import__("...")`` with a literal name).

- the core (``xllm_harness/`` without ``plugins/``, ``tasks/``, ``trainers/``, ``commands/``,
  ``cli.py``, ``testing/``) imports none of those;
- a plugin imports only the core and its own modules (not another plugin);
- trainers and tasks import only the core (and themselves);
- a command imports anything but another command;
- no import circle among core modules (counting every import that runs: imports under
  ``if TYPE_CHECKING:`` name types for type checkers and never run, so they count for the rules above
  but not here).
"""

from __future__ import annotations

import ast
from importlib.metadata import entry_points
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "xllm_harness"
DYNAMIC = ("import_module", "__import__")
LEAVES = {
    "plugins": "xllm_harness.plugins",
    "tasks": "xllm_harness.tasks",
    "trainers": "xllm_harness.trainers",
    "commands": "xllm_harness.commands",
    "cli": "xllm_harness.cli",
    "testing": "xllm_harness.testing",
}
"""The parts that build on the core; everything else in the package is the core."""


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = ("xllm_harness", *path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, root: Path = PACKAGE, type_checking: bool = True) -> list[tuple[int, str]]:
    """(line, module) of every import in ``path``; ``from a import b`` gives ``a`` and ``a.b``.
    ``type_checking=False`` leaves out the imports under ``if TYPE_CHECKING:``."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skipped: set[int] = set()
    if not type_checking:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skipped |= {id(inner) for stmt in node.body for inner in ast.walk(stmt)}
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
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


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def part(module: str) -> str:
    """The part a module of the package belongs to: a key of :data:`LEAVES` or ``"core"``."""
    return next((key for key, package in LEAVES.items() if within(module, package)), "core")


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def offenders(rule_part: str, allowed) -> list[str]:
    """``file:line: module`` for each import of a module of ``rule_part`` that ``allowed`` refuses."""
    bad = []
    for name, path in MODULES.items():
        if part(name) != rule_part:
            continue
        for line, target in imports(path):
            if within(target, "xllm_harness") and target != "xllm_harness" and not allowed(name, target):
                bad.append(f"{path.relative_to(REPO)}:{line}: {target}")
    return bad


def test_the_core_imports_no_plugin_trainer_task_command_or_testing_module():
    assert sum(part(m) == "core" for m in MODULES) > 40
    bad = offenders("core", lambda _, target: part(target) == "core")
    assert not bad, "core modules import what builds on the core:\n" + "\n".join(bad)


def plugin_of(module: str) -> str:
    """The plugin (entry point of group ``xllm_harness``) a module under ``plugins/`` belongs to."""
    points = [ep.value for ep in entry_points(group="xllm_harness") if ep.value.startswith("xllm_harness.")]
    return next((p for p in points if within(module, p)), module)


def test_plugins_import_only_the_core_and_their_own_modules():
    bad = offenders(
        "plugins",
        lambda name, target: (
            part(target) == "core"
            or within(target, plugin_of(name))
            or target
            in ("xllm_harness.plugins", "xllm_harness.plugins.metrics", "xllm_harness.plugins.analyzers")
        ),
    )
    assert not bad, "plugins import more than the core:\n" + "\n".join(bad)


def test_trainers_import_only_the_core():
    bad = offenders("trainers", lambda _, target: part(target) in ("core", "trainers"))
    assert not bad, "trainers import more than the core:\n" + "\n".join(bad)


def test_tasks_import_only_the_core():
    bad = offenders("tasks", lambda _, target: part(target) in ("core", "tasks"))
    assert not bad, "task modules import more than the core:\n" + "\n".join(bad)


def _shared_by_commands(target: str) -> bool:
    """The commands package itself (its option groups several commands share), or a name from it."""
    package = "xllm_harness.commands"
    return target == package or (target.rpartition(".")[0] == package and target not in MODULES)


def test_commands_do_not_import_each_other():
    bad = offenders(
        "commands", lambda name, target: part(target) != "commands" or _shared_by_commands(target)
    )
    assert not bad, "commands import other commands:\n" + "\n".join(bad)


def import_graph(modules: dict[str, Path], root: Path = PACKAGE) -> dict[str, set[str]]:
    """Module → the modules of ``modules`` it imports when it runs (``from a import b`` counts as
    ``a.b`` when ``a.b`` is a module, else as ``a``)."""
    graph = {}
    for name, path in modules.items():
        targets = set()
        for _, target in imports(path, root, type_checking=False):
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                targets.add(target)
        graph[name] = targets
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle_among_core_modules():
    core = {name: path for name, path in MODULES.items() if part(name) == "core" and name != "xllm_harness"}
    found = circles(import_graph(core))
    assert not found, "import circles among core modules:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_the_checks_see_every_import_form(tmp_path):
    """Plain, from-, relative, function-level, TYPE_CHECKING and dynamic imports are all seen, and a
    circle is found (so every test above can fail)."""
    root = tmp_path / "xllm_harness"
    probe = root / "commands" / "probe.py"
    probe.parent.mkdir(parents=True)
    (root / "commands" / "__init__.py").write_text("", encoding="utf-8")
    probe.write_text(
        "from typing import TYPE_CHECKING\n"
        "import xllm_harness.plugins.metrics.qa\n"
        "from xllm_harness.plugins import builtin_tasks\n"
        "from ..trainers import train\n"
        "from . import score\n"
        "if TYPE_CHECKING:\n    from xllm_harness.testing.plugins import make_plugin\n"
        "def f():\n    from xllm_harness.tasks import qa_docs\n"
        "import importlib\nimportlib.import_module('xllm_harness.plugins.paper_languages')\n"
        "__import__('xllm_harness.cli')\n",
        encoding="utf-8",
    )
    found = {m for _, m in imports(probe, root)}
    assert {
        "xllm_harness.plugins.metrics.qa",
        "xllm_harness.plugins.builtin_tasks",
        "xllm_harness.trainers.train",
        "xllm_harness.commands.score",
        "xllm_harness.testing.plugins.make_plugin",
        "xllm_harness.tasks.qa_docs",
        "xllm_harness.plugins.paper_languages",
        "xllm_harness.cli",
    } <= found
    assert [part(m) for m in ("xllm_harness.commands.score", "xllm_harness.cli", "xllm_harness.scoring")] == [
        "commands",
        "cli",
        "core",
    ]
    (root / "a.py").write_text("def f():\n    from xllm_harness import b\n", encoding="utf-8")
    (root / "b.py").write_text("from .c import x\n", encoding="utf-8")
    (root / "c.py").write_text("import importlib\nimportlib.import_module('xllm_harness.a')\n")
    (root / "d.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import xllm_harness.a\n"
    )
    (root / "e.py").write_text("import xllm_harness.d\n")
    modules = {module_name(p, root): p for p in sorted(root.glob("*.py"))}
    assert circles(import_graph(modules, root)) == [["xllm_harness.a", "xllm_harness.b", "xllm_harness.c"]]
    (root / "c.py").write_text("import xllm_harness.e\n")
    assert circles(import_graph(modules, root)) == []  # c -> e -> d -> a only for type checkers
