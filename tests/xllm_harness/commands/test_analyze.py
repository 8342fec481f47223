"""``xllm analyze``: subcommands come from the registry, so a third-party analyzer shows up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from xllm_harness.analyzers import Analyzer, get_analyzers, write_json
from xllm_harness.cli import main
from xllm_harness.hookspecs import hookimpl
from xllm_harness.registry import _collect, get_registry


class CountLines(Analyzer):
    name = "count_lines"
    help = "count lines of a file (a third-party example)"

    def add_arguments(self, parser):
        parser.add_argument("--file", required=True)

    def run(self, args):
        from xllm_harness.analyzers import output_dir

        out = output_dir(args.output)
        n = len(Path(args.file).read_text(encoding="utf-8").splitlines())
        return {"lines": n, "files": {"json": str(write_json(out / "count.json", {"lines": n}))}}


class ThirdPartyPlugin:
    @hookimpl
    def xllm_analyzers(self):
        return [CountLines]


def test_builtin_analyzers_are_registered_plugins():
    assert {"scaling_law", "similarity", "allocator", "alignment"} <= set(get_analyzers())


def test_third_party_analyzer_becomes_a_subcommand(tmp_path, capsys):
    plugin = ThirdPartyPlugin()
    registry = get_registry()
    registry.register(plugin, name="third-party-analyzer")
    try:
        text = tmp_path / "t.txt"
        text.write_text("a\nb\nc\n")
        assert main(["analyze", "count_lines", "--file", str(text), "-o", str(tmp_path / "o"), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["lines"] == 3
        assert json.loads((tmp_path / "o" / "count.json").read_text()) == {"lines": 3}
    finally:
        registry.pm.unregister(plugin)
        _collect.cache_clear()


def test_duplicate_analyzer_names_are_an_error(capsys):
    class Clash(CountLines):
        name = "allocator"

    class ClashPlugin:
        @hookimpl
        def xllm_analyzers(self):
            return [Clash]

    plugin = ClashPlugin()
    registry = get_registry()
    registry.register(plugin, name="clash")
    try:
        assert main(["analyze"]) == 2
        assert "registered twice" in capsys.readouterr().err
    finally:
        registry.pm.unregister(plugin)
        _collect.cache_clear()


def test_installed_console_lists_the_analyzers(tmp_path, subprocess_env):
    result = subprocess.run(
        [sys.executable, "-m", "xllm_harness.cli", "analyze", "--help"],
        cwd=tmp_path,
        env=subprocess_env,
        capture_output=True,
        text=True,
        check=True,
    )
    for name in ("scaling_law", "similarity", "allocator", "alignment"):
        assert name in result.stdout
