"""``xllm_scores_<timestamp>.json``: the file ``xllm score`` writes beside one run's samples.

One file per lm-eval run (:class:`~xllm_harness.results.lm_eval.Run`)::

    {"model_name": ..., "model_identity": {"model": ..., "model_args": ...} or null,
     "source_results": <the run's results_*.json path or null>, "run": <the run's timestamp>,
     "results": {task: {metric: score}}, "signatures": {task: {metric: signature}},
     "num_samples": {task: n}, "samples_files": {task: path}, "doc_ids": {task: [doc_id, ...]},
     "statistics": {task: {metric: [[...] per document]}}, "errors": {task: {metric: message}},
     "details": {task: {metric: [{...} per document]}}, "warnings": {task: {metric: message}}}

:func:`read_scores` checks every field the project reads (types, shapes, finite numbers, one
statistics row per document) and raises naming the file and the field; :func:`write_scores` writes
it whole (:mod:`xllm_harness.results.files`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from xllm_harness.errors import InputError
from xllm_harness.results.files import json_safe, timestamp, write_json
from xllm_harness.results.jsonio import is_int, is_number, read_json_object

KIND = "xllm_scores"
SHAPE = "xllm score's output: {'model_name': ..., 'results': {task: {metric: score}}, ...}"
TASK_MAPS = ("results", "signatures", "statistics", "errors", "details", "warnings")
"""The fields that map task → metric → value."""


def new_path(model_dir: Path) -> Path:
    """A new ``xllm_scores_<timestamp>.json`` in ``model_dir`` (never an existing one)."""
    while True:
        path = Path(model_dir) / f"{KIND}_{timestamp()}.json"
        if not path.exists():
            return path


def write_scores(path: Path, payload: dict[str, Any]) -> Path:
    """Write an ``xllm_scores`` payload whole (a non-finite number in it is written as ``null``)."""
    return write_json(path, json_safe(payload))


def _fail(path: Path, field: str, found: Any, expected: str) -> InputError:
    shown = repr(found)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return InputError(f"{path}: field {field} is {shown}, expected {expected}")


def read_scores(path: str | Path) -> dict[str, Any]:
    """An ``xllm_scores_*.json`` with every field the project reads checked (else an error naming it)."""
    path = Path(path)
    data = read_json_object(path, "xllm score results", SHAPE)
    if not isinstance(data.get("results"), dict):
        raise InputError(f"{path}: no 'results' mapping; expected {SHAPE}")
    for name in ("model_name", "source_results", "run"):
        if data.get(name) is not None and not isinstance(data[name], str):
            raise _fail(path, name, data[name], "a string")
    identity = data.get("model_identity")
    if identity is not None and not (
        isinstance(identity, dict)
        and isinstance(identity.get("model"), str)
        and isinstance(identity.get("model_args"), (str, dict))
        and isinstance(identity.get("settings", ""), str)
    ):
        raise _fail(path, "model_identity", identity, "{'model': str, 'model_args': str} or null")
    for name in TASK_MAPS:
        value = data.get(name, {})
        if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
            raise _fail(path, name, value, "{task: {metric: ...}}")
    for task, metrics in data["results"].items():
        for metric, value in list(metrics.items()):
            if isinstance(value, float) and not math.isfinite(value):  # an older writer's NaN: missing
                del metrics[metric]
                reason = f"{path}: recorded {metric} is {value}, not a finite number; rescore with xllm score"
                data.setdefault("errors", {}).setdefault(task, {})[metric] = reason
            elif not is_number(value):
                raise _fail(path, f"results.{task}.{metric}", value, "a finite number")
    for name in ("signatures", "errors", "warnings"):
        for task, metrics in data.get(name, {}).items():
            for metric, value in metrics.items():
                if not isinstance(value, str):
                    raise _fail(path, f"{name}.{task}.{metric}", value, "a string")
    for task, files in (data.get("samples_files") or {}).items():
        if not isinstance(files, str):
            raise _fail(path, f"samples_files.{task}", files, "a path")
    for name in ("num_samples", "samples_files", "doc_ids"):
        if not isinstance(data.get(name, {}), dict):
            raise _fail(path, name, data[name], "{task: ...}")
    for task, n in data.get("num_samples", {}).items():
        if not is_int(n) or n < 0:
            raise _fail(path, f"num_samples.{task}", n, "a count of documents")
    for task, ids in data.get("doc_ids", {}).items():
        if not isinstance(ids, list) or not all(is_int(i) for i in ids):
            raise _fail(path, f"doc_ids.{task}", ids, "a list of document numbers")
        if len(set(ids)) != len(ids):
            raise InputError(f"{path}: field doc_ids.{task} names a document twice")
        n = data.get("num_samples", {}).get(task)
        if n is not None and n != len(ids):
            raise InputError(f"{path}: field doc_ids.{task} has {len(ids)} documents, num_samples says {n}")
    for task, metrics in data.get("statistics", {}).items():
        ids = data.get("doc_ids", {}).get(task)
        for metric, rows in metrics.items():
            _check_statistics(path, f"statistics.{task}.{metric}", rows, ids)
    return data


def _check_statistics(path: Path, field: str, rows: Any, ids: list[int] | None) -> None:
    """Numbers, one row per document. A non-finite value is kept: the metric that reads the rows says
    it cannot use them (recorded as missing there), and every other metric of the file still counts."""
    if rows is None:
        return
    if ids is None:
        raise InputError(f"{path}: field {field} has no doc_ids for its task (which documents are they?)")
    try:
        array = np.asarray(rows, dtype=np.float64)
    except (TypeError, ValueError):
        raise _fail(path, field, rows, "one list of numbers per document") from None
    if array.ndim not in (1, 2) or array.shape[0] != len(ids):
        raise InputError(
            f"{path}: field {field} has shape {array.shape}, expected one row per document ({len(ids)})"
        )


def statistics_of(data: dict[str, Any], task: str, metric: str) -> np.ndarray | None:
    """The per-document statistics of ``metric`` on ``task`` (rows in ``doc_ids`` order), if recorded."""
    rows = (data.get("statistics") or {}).get(task, {}).get(metric)
    if rows is None:
        return None
    array = np.asarray(rows, dtype=np.float64)
    return array.reshape(len(array), -1)


def recorded_statistics(
    samples_path: Path, task: str, doc_ids: list[int], cache: dict[Path, Any] | None = None
) -> dict[str, tuple[np.ndarray, str]]:
    """metric → (statistics in ``doc_ids`` order, signature) that ``xllm score`` recorded beside
    ``samples_path`` for this very samples file and documents (per metric, the newest file with it).

    ``cache`` keeps the parsed files across tasks."""
    cache = {} if cache is None else cache
    found: dict[str, tuple[np.ndarray, str]] = {}
    paths = sorted(Path(samples_path).parent.glob(f"{KIND}_*.json"), key=lambda p: p.name, reverse=True)
    for path in paths:
        if path not in cache:
            cache[path] = read_scores(path)
        data = cache[path]
        recorded_path = (data.get("samples_files") or {}).get(task)
        ids = (data.get("doc_ids") or {}).get(task)
        if not recorded_path or Path(recorded_path).resolve() != Path(samples_path).resolve():
            continue
        if not ids or sorted(ids) != sorted(doc_ids):
            continue
        order = {doc_id: i for i, doc_id in enumerate(ids)}
        index = [order[d] for d in doc_ids]
        signatures = (data.get("signatures") or {}).get(task) or {}
        for metric in (data.get("statistics") or {}).get(task) or {}:
            stats = statistics_of(data, task, metric)
            if stats is not None and metric not in found:
                found[metric] = (stats[index], str(signatures.get(metric, "")))
    return found
