"""Rescore saved lm-eval outputs with metric plugins, without loading the evaluated model.

lm-eval (and ``xllm eval``) with ``--output_path OUT --log_samples`` writes, per model,
``OUT/<model>/results_<timestamp>.json`` and one ``samples_<task>_<timestamp>.jsonl`` per task (one
line per document: ``doc``, ``target``, ``filtered_resps``...). :func:`score_folder` scores every
run of every model folder on its own (:class:`~xllm_harness.results.lm_eval.Run`: a results file and
the samples files of its timestamp), with the metrics of the task's family (``TaskFamily.metrics``
that are registered metric plugins; ``--metrics`` chooses others) — COMET and BLEURT included, so
they never share GPU memory with the evaluated model — and writes, beside lm-eval's files, one
``<model dir>/xllm_scores_<timestamp>.json`` per run (format: :mod:`xllm_harness.results.scores`).

Every samples file is read and checked before any metric runs; one cut short (fewer documents than
the ``n-samples`` of its run's results file) is recorded under ``errors`` with that reason, never
scored. ``statistics`` are the metric's per-document statistics (``Metric.statistics``, in
``doc_ids`` order) for resampling: the leaderboard's intervals and ``--baseline`` tests use them. The
file is rewritten whole after every (task, metric), so an interrupted run keeps what it finished.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from xllm_harness.errors import InputError, MissingDependencyError, unknown_name
from xllm_harness.metric_inputs import filter_rows, metric_options, sample_segment
from xllm_harness.metrics import Metric, MetricResult, NotComputable, get_metrics, require_finite
from xllm_harness.results.files import check_writable
from xllm_harness.results.lm_eval import (
    IncompleteSamples,
    Run,
    model_name,
    read_sample_lines,
    runs_in,
    sample_folders,
)
from xllm_harness.results.scores import new_path as new_scores_path
from xllm_harness.results.scores import write_scores
from xllm_harness.taskgen import family_metrics, family_of


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
    src_lang: str | None = None
    """The language of ``sources`` (translation tasks), when one for the whole file."""
    doc_ids: list[int] = field(default_factory=list)
    kind: str = "generic"
    """What the documents hold (:func:`xllm_harness.metric_inputs.document_kind`): ``translation``
    (source/target), ``qa`` (answers), ``instruction`` (MI-Eval) or ``generic``."""
    metric_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The metric options the task ran with (``--metadata``, e.g. ``reproduce: x-llm`` gives ``match``
    ``golds: first``), as the task stored them in every document; every route scores with them."""


def recorded_options(path: Path, docs: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The metric options stored in the documents by the task (one value for the whole file)."""
    seen = {json.dumps(d.get("metric_options") or "{}", sort_keys=True) for d in docs}
    if len(seen) > 1:
        raise InputError(
            f"{path}: the documents record different metric_options ({len(seen)} values); a samples file "
            "holds one run of one task"
        )
    return metric_options(docs[0], str(path)) if docs else {}


def read_samples(
    path: Path, task: str = "", timestamp: str = "", filter_name: str | None = None
) -> SampleSet:
    """Read one ``samples_<task>_<ts>.jsonl`` file (one filter: ``filter_name``, else ``none`` or the first);
    every line becomes metric inputs through :mod:`xllm_harness.metric_inputs`, as inside the task."""
    rows = read_sample_lines(path)
    if not rows:
        raise InputError(f"{path}: no samples")
    rows = filter_rows(rows, filter_name, str(path))
    segments = [sample_segment(row, f"{path}: doc_id {row.get('doc_id')}") for row in rows]
    kind = segments[0].kind
    out = SampleSet(
        task=task,
        path=Path(path),
        timestamp=timestamp,
        kind=kind,
        metric_options=recorded_options(Path(path), [r["doc"] for r in rows]),
    )
    for row, segment in zip(rows, segments, strict=True):
        if segment.kind != kind:
            raise InputError(
                f"{path}: doc_id {row.get('doc_id')} is a {segment.kind} document in a file of {kind} documents"
            )
        out.doc_ids.append(row["doc_id"])
        out.hypotheses.append(segment.hypothesis)
        out.references.append(segment.references)
    if kind == "translation":
        out.sources = [s.source or "" for s in segments]
    _check_languages(Path(path), task, rows)
    langs = {s.lang for s in segments} - {None}
    out.lang = langs.pop() if len(langs) == 1 else None
    src_langs = {s.src_lang for s in segments} - {None}
    out.src_lang = src_langs.pop() if len(src_langs) == 1 and kind == "translation" else None
    return out


def _check_languages(path: Path, task: str, rows: list[dict[str, Any]]) -> None:
    """The documents' language fields agree with the task's name (``flores_xllm_en-zh``: ``src_lang``
    en, ``tgt_lang`` zh; ``xquad_xllm_ar``: ``lang`` ar): scoring a file under another language's name
    would judge the outputs against the wrong language."""
    found = family_of(task) if task else None
    if found is None:
        return
    column = found[1]
    if "-" in column:
        src, _, tgt = column.partition("-")
        expected = {"src_lang": src, "tgt_lang": tgt}
    else:
        expected = {"lang": column}
    for row in rows:
        doc = row["doc"]
        for field_name, want in expected.items():
            value = doc.get(field_name)
            if value is not None and value != want:
                raise InputError(
                    f"{path}: document {row.get('doc_id')} has {field_name} {value!r} but the task "
                    f"{task} is about {want!r}; the file is named for another task, or its documents "
                    "were changed: rerun the task or rename the file"
                )


def default_metrics(task: str) -> list[str]:
    """The registered metric plugins among the metrics of ``task``'s family (``[]`` without a family):
    :func:`~xllm_harness.taskgen.family_metrics`, so plugin metrics that join the family are in."""
    found = family_of(task)
    registered = get_metrics()
    return [m for m in family_metrics(found[0]) if m in registered] if found else []


def check_metric_names(names: Sequence[str]) -> None:
    """Every name is a registered metric plugin (else an error with a "did you mean")."""
    registered = get_metrics()
    for name in names:
        if name not in registered:
            raise unknown_name("metric (--metrics)", name, registered, "`xllm plugins` lists them.")


def make_metrics(names: Sequence[str], options: dict[str, dict[str, Any]] | None = None) -> dict[str, Metric]:
    """Instantiate metric plugins by name (``options[name]`` are constructor keyword arguments)."""
    check_metric_names(names)
    registered = get_metrics()
    options = options or {}
    return {n: registered[n](**{k: v for k, v in options.get(n, {}).items() if v is not None}) for n in names}


def metric_for(
    name: str,
    samples: SampleSet,
    options: dict[str, dict[str, Any]] | None = None,
    cache: dict[tuple[str, str], Metric] | None = None,
) -> Metric:
    """The metric ``name`` as the task that wrote ``samples`` computed it: the options recorded in its
    documents, with ``options[name]`` (the command line's, ``None`` values ignored) on top. The one way
    every route (score, compare, leaderboard, consistency) instantiates a metric for saved samples."""
    given = {k: v for k, v in (options or {}).get(name, {}).items() if v is not None}
    merged = {**samples.metric_options.get(name, {}), **given}
    key = (name, json.dumps(merged, sort_keys=True, default=str))
    if cache is not None and key in cache:
        return cache[key]
    metric = make_metrics([name], {name: merged})[name]
    if cache is not None:
        cache[key] = metric
    return metric


def score_with_statistics(metric: Metric, samples: SampleSet) -> tuple[MetricResult, np.ndarray]:
    """The metric's corpus result on ``samples`` and the per-document statistics it came from (one
    computation: :meth:`Metric.score_with_statistics`)."""
    return metric.score_with_statistics(samples.hypotheses, samples.references, samples.sources, samples.lang)


def _header(run: Run, log) -> dict[str, Any]:
    identity = None
    try:
        identity = run.identity()
    except InputError as err:
        log(f"warning: the model is named by its folder only: {err}")
    return {
        "model_name": model_name(identity, run.folder),
        "model_identity": identity.to_dict() if identity and identity.model else None,
        "source_results": str(run.results) if run.results else None,
        "run": run.timestamp,
        "results": {},
        "signatures": {},
        "num_samples": {},
        "samples_files": {},
        "doc_ids": {},
        "statistics": {},
        "errors": {},
        "details": {},
        "warnings": {},
    }


def _read_run(
    run: Run, tasks: Sequence[str] | None, filter_name: str | None
) -> dict[str, SampleSet | IncompleteSamples]:
    """Every samples file of ``run`` (``tasks``: names or globs) read and checked before any scoring;
    a file cut short is kept as its :class:`IncompleteSamples` (recorded as missing), a wrong one raises."""
    out: dict[str, SampleSet | IncompleteSamples] = {}
    for task, path in run.samples.items():
        if tasks and not any(fnmatch.fnmatchcase(task, pattern) for pattern in tasks):
            continue
        try:
            out[task] = read_samples(path, task, run.timestamp, filter_name)
        except IncompleteSamples as err:
            out[task] = err
    return out


def score_model_dir(
    model_dir: Path,
    metrics: Sequence[str] | None = None,
    tasks: Sequence[str] | None = None,
    options: dict[str, dict[str, Any]] | None = None,
    filter_name: str | None = None,
    log=print,
) -> list[Path]:
    """Score every run in ``model_dir`` (:func:`~xllm_harness.results.lm_eval.runs_in`), each on its own;
    returns the ``xllm_scores_*.json`` paths, one per run."""
    model_dir = Path(model_dir).resolve()
    check_metric_names(metrics or [])  # before anything is written
    check_writable(model_dir, "model folder")
    read = [(run, _read_run(run, tasks, filter_name)) for run in runs_in(model_dir)]
    if tasks and not any(found for _, found in read):
        raise InputError(f"--tasks {','.join(tasks)} matches no samples file in {model_dir}")
    instances: dict[tuple[str, str], Metric] = {}
    broken: dict[str, str] = {}
    return [_score_run(run, found, metrics, options, instances, broken, log) for run, found in read if found]


def _score_run(
    run: Run,
    found: dict[str, SampleSet | IncompleteSamples],
    metrics: Sequence[str] | None,
    options: dict[str, dict[str, Any]] | None,
    instances: dict[tuple[str, str], Metric],
    broken: dict[str, str],
    log,
) -> Path:
    payload = _header(run, log)
    out = new_scores_path(run.folder)
    if len(runs_in(run.folder)) > 1:
        log(f"run {run.describe()}")
    for task, samples in sorted(found.items()):
        names = list(metrics) if metrics else default_metrics(task)
        if not names:
            log(f"{task}: no task family with registered metrics; pass --metrics")
            continue
        if isinstance(samples, IncompleteSamples):
            for name in names:
                payload["errors"].setdefault(task, {})[name] = str(samples)
            log(f"{task:28s} not scored: {samples}")
            write_scores(out, payload)
            continue
        payload["num_samples"][task] = len(samples.hypotheses)
        payload["samples_files"][task] = str(samples.path)
        payload["doc_ids"][task] = samples.doc_ids
        for name in names:
            try:
                if name in broken:
                    raise MissingDependencyError(broken[name])
                metric = metric_for(name, samples, options, instances)
                result, stats = score_with_statistics(metric, samples)
                require_finite(name, result.score, stats)
            except NotComputable as err:  # no number for these outputs: recorded as missing, with the reason
                payload["errors"].setdefault(task, {})[name] = str(err)
                log(f"{task:28s} {name:12s} not scored: {err}")
                write_scores(out, payload)
                continue
            except MissingDependencyError as err:
                first = name not in broken
                broken[name] = str(err)
                payload["errors"].setdefault(task, {})[name] = str(err)
                log(
                    f"{task:28s} {name:12s} not scored: "
                    + ("missing model or backend (reason below)" if first else "(same)")
                )
                write_scores(out, payload)
                continue
            payload["results"].setdefault(task, {})[name] = result.score
            payload["signatures"].setdefault(task, {})[name] = str(result.signature)
            if stats is not None and np.isfinite(stats).all():  # else no intervals: never a NaN in the file
                payload["statistics"].setdefault(task, {})[name] = stats.tolist()
            details = metric.segment_details(result)
            if details is not None:
                payload["details"].setdefault(task, {})[name] = details
            warning = metric.coverage_warning([samples.src_lang, samples.lang])
            if warning:
                payload["warnings"].setdefault(task, {})[name] = warning
            write_scores(out, payload)
            log(
                f"{task:28s} {name:12s} {result.score:9.4f}"
                + (" (warning: language coverage)" if warning else "")
            )
    for key in ("errors", "details", "warnings"):
        if not payload[key]:
            del payload[key]
    write_scores(out, payload)
    return out


def score_folder(folder: Path, **kwargs: Any) -> list[Path]:
    """:func:`score_model_dir` for every model folder under an lm-eval ``--output_path`` (every folder's
    writability checked first)."""
    folders = sample_folders(folder)
    for model_dir in folders:
        check_writable(model_dir, "model folder")
    return [path for model_dir in folders for path in score_model_dir(model_dir, **kwargs)]
