"""The scaling-law analyzer's inputs: the points file and the per-language options.

A points file is CSV, JSON (a list of objects or ``{"points": [...]}``) or JSON Lines, one row per
(language, data size): ``language,data_size,score`` or, to read lm-eval output,
``language,data_size,results,task,metric`` where ``results`` is an lm-eval output folder (its newest
results file) or a results JSON, relative to the points file. An optional ``metric`` column next to
``score`` names what was measured (it labels the plot's axis).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xllm_harness.analysis.allocation import parse_count
from xllm_harness.analysis.scaling import SCORE_RANGE
from xllm_harness.analyzers import finite_number, text_field
from xllm_harness.errors import InputError, MissingFileError, XllmError, did_you_mean
from xllm_harness.results import lm_eval as lm_eval_outputs
from xllm_harness.results.jsonio import read_json, read_jsonl, read_text


@dataclass(frozen=True)
class Point:
    language: str
    data_size: float
    score: float
    source: str
    """``<points file> row <n>``: where the point came from, for messages."""
    metric: str = ""
    """What the score measures (``comet``, ``spbleu``...), ``""`` if the file does not say."""


def _rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """``(row number, row)`` pairs; CSV rows are numbered as lines (the header is row 1)."""
    if not path.is_file():
        raise MissingFileError(f"--points file {path} not found")
    suffix = path.suffix.lower()
    text = read_text(path, "--points file")
    if suffix == ".jsonl":
        rows = read_jsonl(path, text)
    elif suffix == ".json":
        data = read_json(path, "--points file")
        data = data.get("points") if isinstance(data, dict) else data
        rows = list(enumerate(data, start=1)) if isinstance(data, list) else None
    else:
        rows = list(enumerate(csv.DictReader(text.splitlines()), start=2))
    if rows is None or not all(isinstance(row, dict) for _, row in rows):
        raise InputError(f"--points file {path}: expected a list of objects (or {{'points': [...]}})")
    return rows


def lm_eval_score(results: Path, task: str | None, metric: str, where: str) -> float:
    """One metric value from an lm-eval output folder (its newest results file) or a results file.

    ``metric`` is lm-eval's name, optionally with its filter (``exact_match,strict-match``; default
    filter ``none``). Errors name ``where`` (the points row).
    """
    try:
        path = lm_eval_outputs.newest_results(results)
        table = lm_eval_outputs.read_results(path)["results"]
    except XllmError as err:
        raise type(err)(f"{where}: lm-eval results: {err}") from None
    if task is None:
        if len(table) != 1:
            raise InputError(f"{where}: {path} holds tasks {', '.join(sorted(table))}; name one in 'task'")
        task = next(iter(table))
    if task not in table:
        raise InputError(
            f"{where}: task {task!r} not in {path}{did_you_mean(task, table)} (has {', '.join(sorted(table))})"
        )
    name, _, filter_name = metric.partition(",")
    value = lm_eval_outputs.metric_value(table[task], name, filter_name or "none")
    if value is None:
        found = sorted(k for k in table[task] if "_stderr" not in k and k != "alias")
        raise InputError(
            f"{where}: metric {metric!r} not among {task}'s results in {path} ({', '.join(found)})"
        )
    return value


def _score(row: dict[str, Any], path: Path, metric: str | None, where: str) -> tuple[float, str]:
    """The row's score and the name of its metric."""
    row_metric = text_field(row, "metric", where) or (metric or "").strip()
    if row.get("score") not in (None, ""):
        return finite_number(row["score"], f"{where}: score"), row_metric
    if not text_field(row, "results", where):
        raise InputError(f"{where}: give either 'score' or 'results' (an lm-eval output folder)")
    if not row_metric:
        raise InputError(f"{where}: reading lm-eval results needs a 'metric' column or --metric")
    results = Path(text_field(row, "results", where)).expanduser()
    results = results if results.is_absolute() else path.parent / results
    task = text_field(row, "task", where) or None
    return lm_eval_score(results, task, row_metric, where), row_metric


def _data_size(row: dict[str, Any], where: str) -> float:
    if row.get("data_size") in (None, ""):
        raise InputError(f"{where}: missing 'data_size'")
    if isinstance(row["data_size"], bool):
        raise InputError(f"{where}: data_size {row['data_size']!r} is not a count")
    try:
        size = parse_count(row["data_size"])
    except ValueError as err:
        raise InputError(f"{where}: data_size: {err}") from None
    if not (math.isfinite(size) and size > 0):
        raise InputError(f"{where}: data_size must be a positive number, got {row['data_size']!r}")
    return size


def _check_range(score: float, raw: float, score_scale: float, where: str) -> None:
    low, high = SCORE_RANGE
    if low <= score <= high and math.isfinite(score):
        return
    scaled = f" (= {raw:g} × --score-scale {score_scale:g})" if score_scale != 1.0 else ""
    raise InputError(
        f"{where}: score {score:g}{scaled} lies outside [{low:g}, {high:g}], the law's range; fix the "
        "score or --score-scale (--score-scale 100 turns COMET's [0, 1] into [0, 100])"
    )


def read_points(path: str | Path, metric: str | None = None, score_scale: float = 1.0) -> list[Point]:
    """Points from a CSV/JSON file (see the module docstring); scores multiplied by ``score_scale``
    and required to lie in [0, 100]."""
    path = Path(path)
    if not (math.isfinite(score_scale) and score_scale > 0):
        raise InputError(f"--score-scale must be a positive number, got {score_scale:g}")
    points: list[Point] = []
    for number, raw_row in _rows(path):
        where = f"{path} row {number}"
        row = {str(k).strip(): v for k, v in raw_row.items() if k is not None}
        lang = text_field(row, "language", where)
        if not lang:
            raise InputError(f"{where}: missing 'language'")
        size = _data_size(row, where)
        raw, row_metric = _score(row, path, metric, where)
        _check_range(raw * score_scale, raw, score_scale, where)
        points.append(Point(lang, size, raw * score_scale, where, row_metric))
    if not points:
        raise InputError(f"--points file {path} has no rows")
    return points


def by_language(points: list[Point]) -> dict[str, list[Point]]:
    """Points grouped by language, languages sorted."""
    groups: dict[str, list[Point]] = {}
    for point in points:
        groups.setdefault(point.language, []).append(point)
    return dict(sorted(groups.items()))


def parse_per_language(values: Sequence[str] | None, option: str) -> tuple[float | None, dict[str, float]]:
    """``0.5`` / ``ar=0.6`` values (repeatable, comma-separated) → (default for all, per-language)."""
    default: float | None = None
    per_lang: dict[str, float] = {}
    for value in values or []:
        for item in str(value).split(","):
            item = item.strip()
            if not item:
                continue
            key, _, number = item.rpartition("=")
            try:
                parsed = float(number)
            except ValueError:
                raise InputError(f"{option} {item!r}: expected NUMBER or LANG=NUMBER") from None
            if not math.isfinite(parsed):
                raise InputError(f"{option} {item!r}: {number} is not a finite number")
            if key:
                per_lang[key.strip()] = parsed
            else:
                default = parsed
    return default, per_lang


def read_gammas(values: Sequence[str] | None) -> tuple[float | None, dict[str, float]]:
    """``--gamma`` values: numbers, ``lang=value`` pairs, or a similarity JSON (``{"gamma": {...}}``)."""
    files = [v for v in values or [] if v.endswith(".json")]
    default, per_lang = parse_per_language([v for v in values or [] if not v.endswith(".json")], "--gamma")
    for name in files:
        if Path(name).is_file():
            read_text(name, "--gamma file")  # UTF-8, or an error naming the line
        data = read_json(name, "--gamma file", "write one with `xllm analyze similarity`")
        gammas = data.get("gamma") if isinstance(data, dict) else None
        if not isinstance(gammas, dict):
            raise InputError(f"--gamma file {name}: expected {{'gamma': {{language: value}}}}")
        per_lang.update({k: finite_number(v, f"--gamma file {name}: gamma.{k}") for k, v in gammas.items()})
    return default, per_lang
