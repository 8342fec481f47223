"""Rescore saved lm-eval outputs with metric plugins, without loading the evaluated model.

lm-eval (and ``xllm eval``) with ``--output_path OUT --log_samples`` writes, per model,
``OUT/<model>/results_<timestamp>.json`` and one ``samples_<task>_<timestamp>.jsonl`` per task (one
line per document: ``doc``, ``target``, ``filtered_resps``...). :func:`score_folder` reads the
newest samples of every task, scores them with any registered metrics (COMET and BLEURT included, so
they never share GPU memory with the evaluated model) and writes, beside lm-eval's files,
``<model dir>/xllm_scores_<timestamp>.json``::

    {"model_name": ..., "source_results": <results_*.json path or null>,
     "results": {task: {metric: score}}, "signatures": {task: {metric: signature}},
     "num_samples": {task: n}, "samples_files": {task: path}, "errors": {task: {metric: message}}}

The file is rewritten after every (task, metric), so an interrupted run keeps what it finished.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xllm_harness.errors import InputError, MissingFileError, UnknownNameError
from xllm_harness.lm_eval_outputs import RESULTS_RE, read_sample_lines, sample_files, sample_timestamp
from xllm_harness.metric_models import MissingMetricModelError
from xllm_harness.metrics import Metric, get_metrics
from xllm_harness.translation import clean_hypothesis

TRANSLATION_METRICS = ("spbleu", "chrf", "comet", "bleurt")
QA_METRICS = ("match", "exact_match", "f1")
MODEL_METRICS = ("comet", "bleurt")


@dataclass
class SampleSet:
    """The scored outputs of one task, as saved by ``--log_samples``."""

    task: str
    path: Path
    timestamp: str
    hypotheses: list[str] = field(default_factory=list)
    references: list[list[str]] = field(default_factory=list)
    sources: list[str] | None = None
    lang: str | None = None
    kind: str = "generic"
    """``translation`` (docs with source/target), ``qa`` (docs with answers) or ``generic``."""


def read_samples(
    path: Path, task: str = "", timestamp: str = "", filter_name: str | None = None
) -> SampleSet:
    """Read one ``samples_<task>_<ts>.jsonl`` file (one filter: ``filter_name``, else ``none`` or the first)."""
    rows = read_sample_lines(path)
    for number, row in enumerate(rows, 1):
        if "filtered_resps" not in row:
            raise InputError(
                f"{path}: sample {number} has no 'filtered_resps' (not an lm-eval --log_samples file)"
            )
    if not rows:
        raise InputError(f"{path}: no samples")
    filters = list(dict.fromkeys(r.get("filter", "none") for r in rows))
    chosen = filter_name or ("none" if "none" in filters else filters[0])
    if chosen not in filters:
        raise InputError(f"{path}: no samples for filter {chosen!r}; present: {', '.join(filters)}")
    rows = sorted((r for r in rows if r.get("filter", "none") == chosen), key=lambda r: r.get("doc_id", 0))
    first = rows[0]["doc"]
    kind = (
        "translation"
        if "source" in first and "target" in first
        else "qa"
        if "answers" in first
        else "generic"
    )
    out = SampleSet(task=task, path=Path(path), timestamp=timestamp, kind=kind)
    langs = set()
    sources = []
    for row in rows:
        resp = row["filtered_resps"]
        hyp = resp[0] if isinstance(resp, list) else resp
        if isinstance(hyp, list):  # some filters keep a list per request
            hyp = hyp[0]
        doc = row["doc"]
        if kind == "translation":
            out.hypotheses.append(clean_hypothesis(str(hyp)))
            out.references.append([doc["target"]])
            sources.append(doc["source"])
            langs.add(doc.get("tgt_lang"))
        elif kind == "qa":
            out.hypotheses.append(str(hyp))
            out.references.append(list(doc["answers"]))
            langs.add(doc.get("lang"))
        else:
            target = row.get("target")
            out.hypotheses.append(str(hyp))
            out.references.append([str(t) for t in target] if isinstance(target, list) else [str(target)])
    out.sources = sources or None
    langs.discard(None)
    out.lang = langs.pop() if len(langs) == 1 else None
    return out


def model_dirs(folder: Path) -> list[Path]:
    """Folders under (or equal to) ``folder`` that hold ``samples_*.jsonl`` files."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MissingFileError(f"{folder} is not a folder (give the --output_path of an lm-eval run)")
    found = sorted({p.parent for p in folder.rglob("samples_*.jsonl")})
    if not found:
        raise MissingFileError(
            f"No samples_<task>_<date>.jsonl under {folder}: run lm-eval / xllm eval with "
            "--output_path and --log_samples, then point xllm score at that output path."
        )
    return found


def latest_samples(model_dir: Path) -> dict[str, tuple[str, Path]]:
    """task → (timestamp, path) of its newest samples file in ``model_dir``."""
    return {
        task: (sample_timestamp(path), path)
        for task, path in sample_files(model_dir, recursive=False).items()
    }


def _results_file(model_dir: Path, timestamps: Sequence[str]) -> tuple[Path | None, str | None]:
    """lm-eval's results JSON matching the samples (same timestamp), else the newest; and its model_name."""
    results = {m["ts"]: p for p in model_dir.glob("results_*.json") if (m := RESULTS_RE.match(p.name))}
    if not results:
        return None, None
    path = next((results[ts] for ts in sorted(timestamps, reverse=True) if ts in results), None)
    path = path or results[max(results)]
    try:
        name = json.loads(path.read_text(encoding="utf-8")).get("model_name")
    except ValueError:
        name = None
    return path, name


def default_metrics(kind: str) -> tuple[str, ...]:
    return TRANSLATION_METRICS if kind == "translation" else QA_METRICS if kind == "qa" else ()


def make_metrics(names: Sequence[str], options: dict[str, dict[str, Any]] | None = None) -> dict[str, Metric]:
    """Instantiate metric plugins by name (``options[name]`` are constructor keyword arguments)."""
    registered = get_metrics()
    unknown = [n for n in names if n not in registered]
    if unknown:
        raise UnknownNameError(
            f"--metrics: unknown {', '.join(unknown)}; registered: {', '.join(sorted(registered))}"
        )
    options = options or {}
    return {n: registered[n](**{k: v for k, v in options.get(n, {}).items() if v is not None}) for n in names}


def _write(path: Path, payload: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def score_model_dir(
    model_dir: Path,
    metrics: Sequence[str] | None = None,
    tasks: Sequence[str] | None = None,
    options: dict[str, dict[str, Any]] | None = None,
    filter_name: str | None = None,
    log=print,
) -> Path:
    """Score the newest samples of every task in ``model_dir``; returns the ``xllm_scores_*.json`` path."""
    model_dir = Path(model_dir).resolve()
    latest = latest_samples(model_dir)
    if tasks:
        latest = {t: v for t, v in latest.items() if any(fnmatch.fnmatchcase(t, pat) for pat in tasks)}
        if not latest:
            raise InputError(f"--tasks {','.join(tasks)} matches no samples file in {model_dir}")
    source, model_name = _results_file(model_dir, [ts for ts, _ in latest.values()])
    stamp = dt.datetime.now().strftime("%Y-%m-%dT%H-%M-%S.%f")
    out = model_dir / f"xllm_scores_{stamp}.json"
    payload: dict[str, Any] = {
        "model_name": model_name or model_dir.name,
        "source_results": str(source) if source else None,
        "results": {},
        "signatures": {},
        "num_samples": {},
        "samples_files": {},
        "errors": {},
    }
    instances: dict[str, Metric] = {}
    broken: dict[str, str] = {}
    for task in sorted(latest):
        ts, path = latest[task]
        samples = read_samples(path, task, ts, filter_name)
        names = list(metrics) if metrics else list(default_metrics(samples.kind))
        if not names:
            log(f"{task}: no default metrics for these documents; pass --metrics")
            continue
        payload["num_samples"][task] = len(samples.hypotheses)
        payload["samples_files"][task] = str(path)
        for name in names:
            if name in broken:
                payload["errors"].setdefault(task, {})[name] = broken[name]
                continue
            try:
                if name not in instances:
                    instances[name] = make_metrics([name], options)[name]
                result = instances[name].corpus_score(
                    samples.hypotheses, samples.references, sources=samples.sources, lang=samples.lang
                )
            except MissingMetricModelError as err:
                broken[name] = str(err)
                payload["errors"].setdefault(task, {})[name] = str(err)
                _write(out, payload)
                continue
            payload["results"].setdefault(task, {})[name] = result.score
            payload["signatures"].setdefault(task, {})[name] = result.signature
            _write(out, payload)
            log(f"{task:28s} {name:12s} {result.score:9.4f}  {result.signature}")
    if not payload["errors"]:
        del payload["errors"]
    _write(out, payload)
    return out


def score_folder(folder: Path, **kwargs: Any) -> list[Path]:
    """:func:`score_model_dir` for every model folder under an lm-eval ``--output_path``."""
    return [score_model_dir(d, **kwargs) for d in model_dirs(folder)]
