"""The documentation site builds with warnings as errors, and every page is in the navigation."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest


def test_mkdocs_builds_strict(tmp_path, repo_root):
    pytest.importorskip("mkdocs", reason="the docs extra is not installed (pip install '.[docs]')")
    out = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert 'not included in the "nav"' not in out.stderr, out.stderr
    for page in (
        "routes/lm-eval",
        "tasks/xquad_xllm",
        "tasks/flores_xllm",
        "analyzers/scaling_law",
        "plugins",
        "architecture",
    ):
        assert (tmp_path / "site" / page / "index.html").exists(), page
    assert "x-LLM" in (tmp_path / "site" / "tasks" / "xquad_xllm" / "index.html").read_text()
    architecture = (tmp_path / "site" / "architecture" / "index.html").read_text(encoding="utf-8")
    assert "<pre" in architecture  # the diagram renders as a text block
    for module in (
        "errors",
        "results",
        "metric_inputs",
        "metrics",
        "significance",
        "compare",
        "langid",
        "off_target",
    ):
        assert module in architecture, module
    assert "batch_api" in architecture


def readme_commands(readme: str) -> list[str]:
    """The command lines of the README's first bash block, as .ci/run reads them."""
    block = readme.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.split(" #", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_readme_first_block_is_setup_then_test_and_ci_runs_it(repo_root):
    lines = readme_commands((repo_root / "README.md").read_text(encoding="utf-8"))
    assert lines == ["bash scripts/setup.sh && .venv/bin/xllm demo", "bash scripts/test.sh"]
    extracted = subprocess.run(
        [
            "bash",
            "-c",
            "sed -n '/^mapfile/,/README.md)$/p' .ci/run | sed 's/^mapfile -t lines < <(//; s/)$//' | bash",
        ],
        cwd=repo_root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert extracted == lines  # .ci/run runs exactly what the README says


REPO_PATH = re.compile(r"`((?:xllm_harness|tests|scripts|benchmarks|docs|\.ci)/[\w./-]*)`")


def test_every_repository_path_the_docs_name_exists(repo_root):
    """A moved or renamed file leaves no stale path in the docs (``xllm_harness/x/y.py`` style examples
    are written with placeholders the pattern skips)."""
    pages = [*sorted((repo_root / "docs").rglob("*.md")), repo_root / "README.md"]
    pages += sorted((repo_root / "xllm_harness").rglob("README.md"))
    named = [
        (page, m.group(1)) for page in pages for m in REPO_PATH.finditer(page.read_text(encoding="utf-8"))
    ]
    assert len(named) > 50
    stale = [
        f"{page.relative_to(repo_root)}: {path}" for page, path in named if not (repo_root / path).exists()
    ]
    assert not stale, "docs name paths that do not exist:\n" + "\n".join(stale)


def test_every_test_path_the_scripts_name_exists(repo_root):
    """The jobs in ``scripts/`` (lowest bounds, the next lm-eval) name test files that exist."""
    named = [
        (script, path.rstrip("/"))
        for script in sorted((repo_root / "scripts").glob("*.sh"))
        for path in re.findall(r"(?<![\w/.])(tests/[\w./-]+)", script.read_text(encoding="utf-8"))
    ]
    assert len(named) >= 5
    stale = [f"{script.name}: {path}" for script, path in named if not (repo_root / path).exists()]
    assert not stale, "scripts name test paths that do not exist:\n" + "\n".join(stale)
