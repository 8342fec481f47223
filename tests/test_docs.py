"""The documentation site builds with warnings as errors, and every page is in the navigation."""

from __future__ import annotations

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
    ):
        assert (tmp_path / "site" / page / "index.html").exists(), page
    assert "x-LLM" in (tmp_path / "site" / "tasks" / "xquad_xllm" / "index.html").read_text()
