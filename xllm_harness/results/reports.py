"""The reports our commands write: ``compare_<ts>.json`` beside system A, the leaderboard's set.

Each file is written whole (:mod:`xllm_harness.results.files`); the leaderboard's files are written
after every number is computed, so a killed run leaves the previous set or files of the new one,
never a cut one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xllm_harness.results.files import json_safe, timestamp, write_json, write_text

LEADERBOARD_FILES = ("leaderboard.md", "leaderboard.csv", "leaderboard.html")
"""The leaderboard's tables, in ``--output`` (its figures go to ``figures/`` beside them)."""


def write_compare_report(folder: Path, payload: dict[str, Any]) -> Path:
    """Write ``compare_<timestamp>.json`` in ``folder`` (A's samples folder); a non-finite number is null."""
    path = Path(folder) / f"compare_{timestamp()}.json"
    return write_json(path, json_safe(payload))


def write_leaderboard(folder: Path, markdown: str, csv: str, html: str) -> list[Path]:
    """Write the leaderboard's Markdown, CSV and HTML in ``folder``, each whole."""
    texts = dict(zip(LEADERBOARD_FILES, (markdown, csv, html), strict=True))
    return [write_text(Path(folder) / name, text) for name, text in texts.items()]
