"""``judge_qa_<ts>.json`` / ``judge_pairwise_<ts>.json`` and their ``.details.jsonl``: ``xllm judge``'s files.

:func:`write_judge` writes a run's results and per-item details whole (details first, so a results
file always has its details). The readers check every field the project reads and raise naming the
file, the line and the field: :func:`read_judge_qa`, :func:`read_judge_pairwise` (the summaries),
:func:`qa_verdicts` and :func:`pairwise_details` (the per-item details, the one reader of each).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xllm_harness.errors import InputError
from xllm_harness.results.files import json_safe, timestamp, write_json, write_jsonl
from xllm_harness.results.jsonio import is_int, is_number, read_json_object, read_jsonl
from xllm_harness.results.lm_eval import OUTCOMES, newest

QA_SHAPE = "xllm judge qa's output: {'model_name': ..., 'results': {task: {'judge_accuracy': ...}}}"
PAIRWISE_SHAPE = "xllm judge pairwise's output: {'models': {'a', 'b'}, 'results': {lang: {win, tie, loss}}}"
VERDICTS = ("YES", "NO")


def judge_path(kind: str, output: str | Path | None, default_dir: Path) -> Path:
    """Where a judge run writes: ``output`` if it names a ``.json`` file, else ``judge_<kind>_<ts>.json``
    in ``output`` (or ``default_dir``)."""
    out = Path(output) if output else Path(default_dir)
    return out if out.suffix == ".json" else out / f"judge_{kind}_{timestamp()}.json"


def details_path(judge_file: str | Path) -> Path:
    """The per-item details beside a judge results file."""
    return Path(judge_file).with_suffix(".details.jsonl")


def write_judge(path: Path, payload: dict[str, Any], details: list[dict[str, Any]]) -> Path:
    """Write the details, then the results, each whole; a non-finite number is written as ``null``."""
    write_jsonl(details_path(path), json_safe(details))
    write_json(path, json_safe(payload))
    return path


def newest_judge(folder: Path, kind: str) -> Path | None:
    """The newest ``judge_<kind>_<ts>.json`` directly in ``folder``."""
    return newest(
        p for p in Path(folder).glob(f"judge_{kind}_*.json") if not p.name.endswith(".details.json")
    )


def _object(path: Path, shape: str) -> dict[str, Any]:
    data = read_json_object(path, "judge results", shape)
    results = data.get("results")
    if not isinstance(results, dict) or not all(isinstance(v, dict) for v in results.values()):
        raise InputError(f"{path}: no 'results' mapping of objects; expected {shape}")
    if data.get("model_name") is not None and not isinstance(data["model_name"], str):
        raise InputError(f"{path}: field model_name is {data['model_name']!r}, expected a string")
    return data


def read_judge_qa(path: str | Path) -> dict[str, Any]:
    """A ``judge_qa_*.json``: per task a ``judge_accuracy`` in [0, 1] or null, checked."""
    path = Path(path)
    data = _object(path, QA_SHAPE)
    for task, row in data["results"].items():
        if "judge_accuracy" not in row:
            raise InputError(f"{path}: field results.{task} has no 'judge_accuracy'; expected {QA_SHAPE}")
        value = row["judge_accuracy"]
        if value is not None and not (is_number(value) and 0 <= value <= 1):
            raise InputError(
                f"{path}: field results.{task}.judge_accuracy is {value!r}, expected a share in [0, 1] or null"
            )
    return data


def read_judge_pairwise(path: str | Path) -> dict[str, Any]:
    """A ``judge_pairwise_*.json``: per language non-negative win/tie/loss counts, checked."""
    path = Path(path)
    data = _object(path, PAIRWISE_SHAPE)
    for lang, row in data["results"].items():
        for outcome in OUTCOMES:
            value = row.get(outcome)
            if not is_number(value) or value < 0:
                raise InputError(
                    f"{path}: field results.{lang}.{outcome} is {value!r}: results[{lang!r}] lacks numeric "
                    f"win/tie/loss counts; expected {PAIRWISE_SHAPE}"
                )
    for side in ("a", "b"):
        record = data.get(side)
        if record is not None and not (
            isinstance(record, dict) and isinstance(record.get("samples", ""), str)
        ):
            raise InputError(
                f"{path}: field {side} is {record!r}, expected {{'model': ..., 'samples': path}}"
            )
    return data


def _details(judge_file: Path, needed: tuple[str, ...]) -> list[tuple[int, dict[str, Any]]]:
    details = details_path(judge_file)
    if not details.is_file():
        return []
    out = []
    seen: dict[tuple[Any, ...], int] = {}
    for number, record in read_jsonl(details):
        where = f"{details}:{number}"
        if not isinstance(record, dict):
            raise InputError(f"{where}: a JSON {type(record).__name__}, expected a judge detail object")
        for name in needed:
            if name not in record:
                raise InputError(f"{where}: no {name!r}; expected a judge detail with {', '.join(needed)}")
        for name in ("task", "lang"):
            if name in record and not isinstance(record[name], str):
                raise InputError(f"{where}: field {name} is {record[name]!r}, expected a name")
        if "doc_id" in record and not is_int(record["doc_id"]):
            raise InputError(f"{where}: field doc_id is {record['doc_id']!r}, expected a document number")
        key = (record.get("task"), record.get("doc_id"))
        if None not in key and key in seen:
            raise InputError(
                f"{where}: task {record['task']} doc_id {record['doc_id']} twice (first on line {seen[key]})"
            )
        seen[key] = number
        out.append((number, record))
    return out


def qa_verdicts(judge_file: str | Path) -> dict[str, dict[int, float]]:
    """task → doc_id → 1.0 (YES) / 0.0 (NO) from the details beside ``judge_file`` (``{}`` without them).

    Items without a verdict (unparseable replies, failed requests) are left out, as the accuracy does."""
    out: dict[str, dict[int, float]] = {}
    for number, record in _details(Path(judge_file), ("task", "doc_id")):
        verdict = record.get("verdict")
        if verdict is not None and verdict not in VERDICTS:
            where = f"{details_path(judge_file)}:{number}"
            raise InputError(f"{where}: field verdict is {verdict!r}, expected YES, NO or absent")
        if verdict in VERDICTS:
            out.setdefault(record["task"], {})[record["doc_id"]] = float(verdict == "YES")
    return out


@dataclass(frozen=True)
class PairwiseItem:
    """One judged item of a pairwise run: its outcome (A's side), language, task and document."""

    outcome: str
    lang: str | None
    task: str | None
    doc_id: int | None


def pairwise_details(judge_file: str | Path) -> list[PairwiseItem]:
    """Every item with a win/tie/loss outcome in the details beside ``judge_file`` (``[]`` without them).

    Items without an outcome (failed or unparseable) are left out, as the counts do."""
    out = []
    for number, record in _details(Path(judge_file), ()):
        outcome = record.get("outcome")
        if outcome is not None and outcome not in OUTCOMES:
            where = f"{details_path(judge_file)}:{number}"
            raise InputError(f"{where}: field outcome is {outcome!r}, expected win, tie, loss or absent")
        if outcome in OUTCOMES:
            out.append(PairwiseItem(outcome, record.get("lang"), record.get("task"), record.get("doc_id")))
    return out
