"""Data folders laid out as ``XLLM_DATA_DIR`` expects, for tests and benchmarks."""

from __future__ import annotations

import shutil
from pathlib import Path

from xllm_harness.plugins.paper_languages import MLQA_LANGS


def lay_out_qa_data(source: Path, target: Path) -> Path:
    """A data dir with xquad/ from ``source`` and XQuAD copies under MLQA's test file names."""
    shutil.copytree(source / "xquad", target / "xquad")
    (target / "mlqa" / "test").mkdir(parents=True)
    for code in MLQA_LANGS:
        shutil.copy(
            source / "xquad" / f"xquad.{code}.json",
            target / "mlqa" / "test" / f"test-context-{code}-question-{code}.json",
        )
    return target
