"""``xllm analyze``: subcommands come from the registry, so a third-party analyzer shows up."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from xllm_harness.analyzers import Analyzer, AnalyzerOptions, get_analyzers, option, write_json
from xllm_harness.cli import main
from xllm_harness.hookspecs import hookimpl
from xllm_harness.registry import _collect, get_registry


class CountLines(Analyzer):
    name = "count_lines"
    help = "count lines of a file (a third-party example)"

    @dataclass(kw_only=True)
    class Options(AnalyzerOptions):
        file: str = option("the file")

    def run(self, options):
        from xllm_harness.analyzers import output_dir

        assert isinstance(options, CountLines.Options)  # a typed object, not an argparse Namespace
        out = output_dir(options.output)
        n = len(Path(options.file).read_text(encoding="utf-8").splitlines())
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
        err = capsys.readouterr().err
        assert "analyzer 'allocator' is defined twice" in err
        assert "plugin 'allocator_analyzer' (xllm-harness)" in err and "plugin 'clash'" in err
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


REST_MARKUP = ("``", ":class:", ":mod:", ":func:", ":meth:", ":attr:")


def help_page(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def test_analyze_help_describes_the_analyzers_with_an_example(capsys):
    page = help_page(capsys, "analyze")
    assert "Run an analysis of the paper's section 3" in page
    assert "example" in page.split("options:")[-1] and "xllm analyze scaling_law --points" in page
    for name in ("scaling_law", "similarity", "allocator", "alignment"):
        assert name in page
    assert not any(markup in page for markup in REST_MARKUP)


@pytest.mark.parametrize("name", ["scaling_law", "similarity", "allocator", "alignment"])
def test_each_analyzer_help_has_description_defaults_and_example(capsys, name):
    cls = get_analyzers()[name]
    page = help_page(capsys, "analyze", name)
    assert cls.description and cls.description.splitlines()[0] in page
    tail = page.split("options:")[-1]
    assert "examples:" in tail and tail.rstrip().splitlines()[-1].strip().startswith(("xllm", "--"))
    assert f"(default: analysis/{name})" in " ".join(page.split())
    assert not any(markup in page for markup in REST_MARKUP)


def test_defaults_are_shown(capsys):
    page = " ".join(help_page(capsys, "analyze", "scaling_law").split())  # undo line wrapping
    for default in (
        "default: 1000)",
        "default: 0.95)",
        "default: studentized)",
        "default: 0)",
        "default: 1.0)",
    ):
        assert default in page
    assert "(default: None)" not in page and "(default: False)" not in page


def test_unknown_analyzer_suggests_the_closest_name(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["analyze", "scalinglaw", "--points", "p.csv"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "unknown analyzer 'scalinglaw'" in err and "did you mean 'scaling_law'" in err
