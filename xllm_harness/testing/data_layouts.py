"""Data folders laid out as ``XLLM_DATA_DIR`` expects, for tests and benchmarks."""

from __future__ import annotations

import shutil
from pathlib import Path

from xllm_harness.languages import get_languages


def lay_out_qa_data(source: Path, target: Path) -> Path:
    """A data dir with xquad/ from ``source`` and, for every registered language with an MLQA location,
    its XQuAD file copied to that location (MLQA itself is not in the shared data)."""
    shutil.copytree(source / "xquad", target / "xquad")
    for lang in get_languages().values():
        if lang.mlqa and (source / "xquad" / f"xquad.{lang.code}.json").is_file():
            (target / lang.mlqa).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source / "xquad" / f"xquad.{lang.code}.json", target / lang.mlqa)
    return target
