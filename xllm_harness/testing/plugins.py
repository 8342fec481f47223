"""Throw-away plugin distributions for tests: an installed-looking dist-info with an entry point."""

from __future__ import annotations

from pathlib import Path


def write_plugin(root: Path, dist: str, entry_name: str, module: str, source: str) -> Path:
    """Lay out an installed-looking distribution (dist-info with an ``xllm_harness`` entry point) in root."""
    root.mkdir(parents=True, exist_ok=True)
    info = root / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[xllm_harness]\n{entry_name} = {module}\n")
    (root / f"{module}.py").write_text(source, encoding="utf-8")
    return root
