"""What each result file says, as plain records: the one reading of every kind of result file for the
tables (``xllm leaderboard``).

:func:`result_files` lists the files under some folders by kind; :func:`read_findings` reads one
(``results_*``, ``xllm_scores_*``, ``judge_qa_*``) into :class:`Finding` records, one per model, task
and metric, and :func:`read_pairwise` one ``judge_pairwise_*``. Every reader checks what it reads and
raises :class:`~xllm_harness.errors.InputError` naming the file; which finding is shown, on which
scale, is for the caller to decide.

Which model a number belongs to: the identity recorded by the results file of the number's run
(a samples file's timestamp names its run), else the one the file records, else its folder's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from xllm_harness.errors import InputError, MissingFileError
from xllm_harness.results.judge_files import pairwise_details, qa_verdicts, read_judge_pairwise, read_judge_qa
from xllm_harness.results.lm_eval import (
    OUTCOMES,
    SAMPLES_RE,
    Missing,
    ModelIdentity,
    effective_samples,
    file_timestamp,
    folder_identity,
    metric_entry,
    metric_signature,
    model_identity,
    named_identity,
    read_results,
    recorded_identity,
    results_files,
    samples_of_results,
    stamped_files,
)
from xllm_harness.results.scores import read_scores, statistics_of

KINDS = ("results", "xllm_scores", "judge_qa", "judge_pairwise")
"""The result files the tables read, by the prefix of their names."""


@dataclass
class Finding:
    """One number (or a recorded miss) of one model, task and metric, and where it came from."""

    identity: ModelIdentity
    task: str
    metric: str
    entry: float | Missing
    stamp: str
    """The timestamp in the file's name (newer wins)."""
    source: Path
    signature: str = ""
    samples: str | None = None
    """The samples file the number was computed from, if known."""
    stats: np.ndarray | None = None
    """Per-item statistics (rows in ``doc_ids`` order), if recorded."""
    doc_ids: list[int] | None = None
    warning: str | None = None
    n: int | None = None
    """The items the number is over, where the file records them."""
    no_interval: str | None = None
    """Why the file gives no per-item statistics, where it should."""


@dataclass
class PairwiseFinding:
    """One ``judge_pairwise`` run: per language the win/tie/loss counts of system A against B."""

    a: ModelIdentity
    b: ModelIdentity
    per_language: dict[str, dict[str, float]]
    source: Path
    stamp: str
    outcomes: dict[str, list[str]] = field(default_factory=dict)
    """Per language, every item's outcome (from the details file), for intervals."""
    outcomes_error: str | None = None
    """Why the details file gives no outcomes (it is malformed)."""


def result_files(paths: Iterable[Path]) -> tuple[list[tuple[str, Path]], list[Path]]:
    """(kind, path) of every result file under ``paths`` (folders, or files named as one of
    :data:`KINDS`); and the files named on the command line of no known kind."""
    found: list[tuple[str, Path]] = []
    unknown: list[Path] = []
    for root in paths:
        root = Path(root)
        if not root.exists():
            raise MissingFileError(f"Result folder {root} does not exist")
        kinds = {"results": results_files(root)} | {kind: stamped_files(root, kind) for kind in KINDS[1:]}
        listed = [(kind, p) for kind, files in kinds.items() for p in files]
        if root.is_file() and not listed:
            unknown.append(root)
        found += listed
    return found, unknown


def read_findings(kind: str, path: Path, metrics_of: Callable[[str], Iterable[str]]) -> list[Finding]:
    """The findings of one ``results``, ``xllm_scores`` or ``judge_qa`` file; ``metrics_of(task)``: the
    metrics to read from an lm-eval results file (it holds other keys too)."""
    if kind == "results":
        return _results(path, metrics_of)
    if kind == "xllm_scores":
        return _scores(path)
    if kind == "judge_qa":
        return _judge_qa(path)
    raise ValueError(f"no findings reader for {kind!r}")


def _results(path: Path, metrics_of: Callable[[str], Iterable[str]]) -> list[Finding]:
    data = read_results(path)
    identity, stamp = model_identity(data), file_timestamp(path)
    samples = samples_of_results(path)
    found = []
    for task, values in data["results"].items():
        for metric in metrics_of(task):
            entry = metric_entry(values, metric)
            if entry is None:
                continue
            sample = str(samples[task]) if task in samples else None
            signature = metric_signature(values, metric)
            n = effective_samples(data, task)
            found.append(Finding(identity, task, metric, entry, stamp, path, signature, sample, n=n))
    return found


def _identity_of_scores(data: dict[str, Any], path: Path) -> ModelIdentity:
    identity = recorded_identity(data.get("model_identity"))
    source = data.get("source_results")
    if identity is None and isinstance(source, str) and Path(source).is_file():
        try:
            identity = model_identity(read_results(source))
        except (InputError, MissingFileError):
            identity = None
    return (
        identity
        or folder_identity(path.parent, recursive=False)
        or named_identity(str(data.get("model_name") or path.parent.name))
    )


def _run_of_samples(samples: Any) -> tuple[ModelIdentity | None, int | None]:
    """The identity and document count recorded by the results file of a samples file's run (an
    ``xllm_scores`` file written before runs were kept apart may hold samples of several runs)."""
    if not isinstance(samples, str):
        return None, None
    match = SAMPLES_RE.match(Path(samples).name)
    results = Path(samples).parent / f"results_{match['ts']}.json" if match else None
    if results is None or not results.is_file():
        return None, None
    try:
        data = read_results(results)
    except (InputError, MissingFileError):
        return None, None
    return model_identity(data), effective_samples(data, match["task"])


def _scores(path: Path) -> list[Finding]:
    data = read_scores(path)
    default, stamp = _identity_of_scores(data, path), file_timestamp(path)
    signatures, doc_ids = data.get("signatures") or {}, data.get("doc_ids") or {}
    samples, counts = data.get("samples_files") or {}, data.get("num_samples") or {}
    warnings = data.get("warnings") or {}
    found = []
    for task, metrics in data["results"].items():
        run_identity, expected = _run_of_samples(samples.get(task))
        identity = run_identity or default
        n = counts.get(task)
        short = None
        if expected is not None and n is not None and n != expected:
            short = Missing(
                f"scored from an incomplete samples file ({n} of the {expected} documents its run records); "
                "rerun the task, then xllm score"
            )
        for metric in metrics:
            entry = short if short is not None else metric_entry(metrics, metric)
            found.append(
                Finding(
                    identity, task, metric, Missing("absent") if entry is None else entry, stamp, path,
                    str((signatures.get(task) or {}).get(metric) or ""), samples.get(task),
                    statistics_of(data, task, metric), doc_ids.get(task), (warnings.get(task) or {}).get(metric), n,
                )
            )  # fmt: skip
    for task, metrics in (data.get("errors") or {}).items():
        identity = _run_of_samples(samples.get(task))[0] or default
        for metric, message in metrics.items():
            found.append(Finding(identity, task, metric, Missing(message), stamp, path))
    return found


def _judge_qa(path: Path) -> list[Finding]:
    data = read_judge_qa(path)
    identity = (
        recorded_identity(data.get("model_identity"))
        or folder_identity(path.parent, recursive=False)
        or named_identity(str(data.get("model_name") or path.parent.name))
    )
    stamp = file_timestamp(path)
    verdicts = qa_verdicts(path)
    found = []
    for task, row in data["results"].items():
        entry = metric_entry(row, "judge_accuracy")
        finding = Finding(
            identity, task, "judge_accuracy", Missing("no judge accuracy (no parsed verdict)") if entry is None else entry,
            stamp, path,
        )  # fmt: skip
        if task in verdicts:
            finding.doc_ids = list(verdicts[task])
            finding.stats = np.asarray(list(verdicts[task].values()), dtype=np.float64)[:, None]
            finding.n = len(finding.doc_ids)
        else:
            finding.no_interval = "no judge_qa_<date>.details.jsonl beside the judge file"
        found.append(finding)
    return found


def _system_identity(data: dict[str, Any], side: str) -> ModelIdentity:
    identity = recorded_identity((data.get("systems") or {}).get(side))
    record = data.get(side) if isinstance(data.get(side), dict) else {}
    samples = record.get("samples")
    if identity is None and isinstance(samples, str) and Path(samples).is_dir():
        identity = folder_identity(samples)
    name = (data.get("models") or {}).get(side) or record.get("model") or side.upper()
    return identity or named_identity(str(name))


def read_pairwise(path: Path) -> PairwiseFinding:
    """One ``judge_pairwise_*.json`` and the outcomes of its details file (a malformed details file
    leaves ``outcomes`` empty, with ``outcomes_error`` saying why)."""
    data = read_judge_pairwise(path)
    per_language = {lang: {k: float(row[k]) for k in OUTCOMES} for lang, row in data["results"].items()}
    found = PairwiseFinding(
        _system_identity(data, "a"), _system_identity(data, "b"), per_language, path, file_timestamp(path)
    )
    try:
        for number, item in enumerate(pairwise_details(path), 1):
            if item.lang is None:
                raise InputError(f"judged item {number} of its details has no 'lang'")
            found.outcomes.setdefault(item.lang, []).append(item.outcome)
    except (InputError, MissingFileError) as err:
        found.outcomes, found.outcomes_error = {}, str(err)
    return found
