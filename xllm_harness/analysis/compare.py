"""``xllm compare``: paired significance tests of two systems' saved outputs, item by item.

A and B are lm-eval output folders written with ``--log_samples`` (one model each). Tasks present in
both are aligned on ``doc_id``: a document missing from one side, or a document whose content differs
(another source sentence, question...), is an error. For every task and metric the two systems are
compared on the same segments with :func:`xllm_harness.analysis.significance.paired_comparison` (the test is
chosen per metric), and the p-values of the whole run are Holm-adjusted together.

Where the statistics come from:

- metrics without a model (spBLEU, chrF++, QA ``match``/``exact_match``/``f1``...) are computed from
  the samples;
- metrics that load a model (``Metric.loads_model``: COMET, BLEURT...): the statistics recorded by
  ``xllm score`` (``statistics`` in ``xllm_scores_*.json``, for the same samples file and doc_ids) are
  reused when A's and B's signatures agree; with ``--metrics comet --comet-model PATH``
  (``bleurt``/``--bleurt-model``) they are recomputed;
- a metric whose statistics or comparison are not finite numbers is skipped with the reason (the
  others are kept);
- judge verdicts: ``judge_accuracy`` from the per-item details of ``xllm judge qa`` beside each
  system's samples (items judged for both systems), ``judge_pairwise`` from an ``xllm judge pairwise``
  run of A against B found beside A (a = share of items A wins, b = share B wins).

Items that share a paragraph (QA: the document's ``context``, :mod:`xllm_harness.analysis.clusters`) are
resampled together: the test is then a paired cluster bootstrap and each row carries the design
effect. Every row reports the minimum difference detectable at 80 % power (``mde``) at the two-sided
level ``alpha``; with a planned difference, the items a new comparison would need.

Where two metrics both find a significant difference on one task (direction) but prefer different
systems (each in its own direction: MetricX is lower-is-better), the report's ``disagreements`` and the
screen say so (:func:`disagreements`).

The result is written beside A as ``compare_<timestamp>.json`` (see :func:`write_report`).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from xllm_harness.analysis.clusters import cluster_map, clusters_for
from xllm_harness.analysis.shares import Share
from xllm_harness.analysis.significance import POWER, Comparison, holm, items_needed, paired_comparison
from xllm_harness.errors import InputError, XllmError, unknown_name
from xllm_harness.metrics import Metric, get_metrics
from xllm_harness.results.files import json_safe
from xllm_harness.results.judge_files import (
    details_path,
    newest_judge,
    pairwise_details,
    qa_verdicts,
    read_judge_pairwise,
)
from xllm_harness.results.lm_eval import Run, choose_run, read_sample_lines
from xllm_harness.results.reports import write_compare_report
from xllm_harness.results.scores import recorded_statistics as scores_statistics
from xllm_harness.scoring import SampleSet, default_metrics, metric_for, read_samples

JUDGE_ACCURACY = "judge_accuracy"
JUDGE_PAIRWISE = "judge_pairwise"
JUDGE_METRICS = (JUDGE_ACCURACY, JUDGE_PAIRWISE)
CONTENT_KEYS = (
    "source",
    "target",
    "src_lang",
    "tgt_lang",
    "context",
    "question",
    "answers",
    "instruction",
    "input",
)
"""The document fields that must agree between A and B (options stored in documents may differ)."""


@dataclass
class TaskPair:
    """One task's samples of A and B, aligned on ``doc_id`` (same order)."""

    task: str
    a: SampleSet
    b: SampleSet
    clusters: dict[int, int] | None = None
    """doc_id → paragraph number where documents share contexts (QA), else ``None``."""

    def clusters_of(self, doc_ids: Sequence[int]) -> np.ndarray | None:
        return clusters_for(self.clusters, doc_ids)


@dataclass
class Row:
    """One comparison of the run."""

    task: str
    metric: str
    comparison: Comparison
    signature: str = ""
    p_holm: float = float("nan")
    significant: bool = False
    notes: list[str] = field(default_factory=list)
    items_needed: int | None = None
    """Items a planned comparison needs to detect the planned difference (``--difference``)."""

    def to_dict(self) -> dict[str, Any]:
        c = self.comparison
        out: dict[str, Any] = {"task": self.task, "metric": self.metric, **asdict(c)}
        out["ci"] = list(c.ci)
        out["p_holm"], out["significant"], out["signature"] = self.p_holm, self.significant, self.signature
        out["mde_alpha"], out["mde_power"] = out.pop("alpha"), POWER
        if c.p_ttest is None:
            del out["p_ttest"]
        if c.clusters is None:
            del out["clusters"], out["design_effect"]
        if self.items_needed is not None:
            out["items_needed"] = self.items_needed
        if self.notes:
            out["notes"] = self.notes
        return json_safe(out)


def as_run(system: Run | str | Path, side: str) -> Run:
    """``system`` as one run: a :class:`Run` as is, else :func:`~xllm_harness.results.lm_eval.choose_run`
    (a results file, or a model folder holding one run)."""
    return system if isinstance(system, Run) else choose_run(system, None, f"--run-{side.lower()}", side)


def _content(doc: dict[str, Any]) -> dict[str, Any]:
    picked = {k: doc[k] for k in CONTENT_KEYS if k in doc}
    return picked or doc


def _docs(path: Path) -> dict[int, dict[str, Any]]:
    return {row["doc_id"]: _content(row["doc"]) for row in read_sample_lines(path)}


def align(
    run_a: Run | str | Path,
    run_b: Run | str | Path,
    tasks: Sequence[str] | None = None,
    filter_name: str | None = None,
    clusters: bool = True,
) -> list[TaskPair]:
    """The tasks of both runs (``tasks``: names or globs), their samples aligned on ``doc_id``;
    with ``clusters``, each task's paragraphs (:mod:`xllm_harness.analysis.clusters`)."""
    run_a, run_b = as_run(run_a, "A"), as_run(run_b, "B")
    files_a, files_b = run_a.samples, run_b.samples
    dir_a, dir_b = run_a.results or run_a.folder, run_b.results or run_b.folder
    common = sorted(set(files_a) & set(files_b))
    if tasks:
        common = [t for t in common if any(fnmatch.fnmatchcase(t, pattern) for pattern in tasks)]
        if not common:
            raise InputError(
                f"--tasks {','.join(tasks)} matches no task present in both A {dir_a} and B {dir_b}"
            )
    if not common:
        raise InputError(
            f"no task has samples in both A {dir_a} ({', '.join(files_a)}) and B {dir_b} ({', '.join(files_b)})"
        )
    pairs = []
    for task in common:
        path_a, path_b = files_a[task], files_b[task]
        a, b = (
            read_samples(path_a, task, filter_name=filter_name),
            read_samples(path_b, task, filter_name=filter_name),
        )
        ids_b = set(b.doc_ids)
        for path, ids, other in ((path_b, set(a.doc_ids), ids_b), (path_a, ids_b, set(a.doc_ids))):
            missing = sorted(ids - other)
            if missing:
                source = path_a if path == path_b else path_b
                raise InputError(
                    f"{path}: doc_id {missing[0]} missing (present in {source}; {len(missing)} missing in all); "
                    "both systems must be evaluated on the same documents (same --limit)"
                )
        docs_a, docs_b = _docs(path_a), _docs(path_b)
        for doc_id in a.doc_ids:
            if docs_a[doc_id] != docs_b[doc_id]:
                raise InputError(
                    f"task {task} doc_id {doc_id}: the documents differ between {path_a} and {path_b}; "
                    "both runs must use the same data"
                )
        order = {doc_id: i for i, doc_id in enumerate(b.doc_ids)}
        mapping = cluster_map(docs_a) if clusters else None
        pairs.append(TaskPair(task, a, _reorder(b, [order[d] for d in a.doc_ids]), mapping))
    return pairs


def _reorder(samples: SampleSet, index: list[int]) -> SampleSet:
    if index == list(range(len(index))):
        return samples
    pick = lambda values: [values[i] for i in index]  # noqa: E731
    return replace(
        samples, hypotheses=pick(samples.hypotheses), references=pick(samples.references),
        sources=pick(samples.sources) if samples.sources else None, doc_ids=pick(samples.doc_ids),
    )  # fmt: skip


# --- statistics recorded by `xllm score` ------------------------------------------------------------


def recorded_statistics(
    samples: SampleSet, files: dict[Path, Any] | None = None
) -> dict[str, tuple[np.ndarray, str]]:
    """metric → (statistics in ``samples.doc_ids`` order, signature) recorded by ``xllm score`` for this
    very samples file and documents (:func:`xllm_harness.results.scores.recorded_statistics`)."""
    return scores_statistics(samples.path, samples.task, samples.doc_ids, files)


# --- judge verdicts --------------------------------------------------------------------------------


def _require_details(path: Path) -> None:
    if not details_path(path).is_file():
        raise InputError(
            f"{path}: no per-item details file {details_path(path).name} beside it (needed to pair verdicts)"
        )


def judged_verdicts(folder: Path) -> dict[str, dict[int, float]]:
    """task → doc_id → 1.0 (YES) / 0.0 (NO) from the newest ``judge_qa_*.json`` in ``folder``."""
    path = newest_judge(folder, "qa")
    if path is None:
        return {}
    _require_details(path)
    return qa_verdicts(path)


def _covers(given: Path, folder: Path) -> bool:
    """``given`` (a folder a judge run was pointed at) is ``folder`` or holds it."""
    folder = folder.resolve()
    return given == folder or given in folder.parents


def pairwise_outcomes(folder_a: Path, folder_b: Path) -> dict[str, dict[int, str]]:
    """task → doc_id → win/tie/loss (A's side) of the newest ``judge_pairwise_*.json`` of A against B."""
    candidates = sorted(folder_a.glob("judge_pairwise_*.json"), key=lambda p: p.name, reverse=True)
    for path in candidates:
        data = read_judge_pairwise(path)
        a, b = (Path(str((data.get(side) or {}).get("samples", ""))).resolve() for side in ("a", "b"))
        if _covers(a, folder_a) and _covers(b, folder_b):
            _require_details(path)
            out: dict[str, dict[int, str]] = {}
            for number, item in enumerate(pairwise_details(path), 1):
                if item.task is None or item.doc_id is None:
                    raise InputError(
                        f"{details_path(path)}: judged item {number} has no task or doc_id (needed to pair it)"
                    )
                out.setdefault(item.task, {})[item.doc_id] = item.outcome
            return out
    return {}


# --- the run --------------------------------------------------------------------------------------


@dataclass
class Plan:
    """What to compare: metric names per task (explicit or the defaults) and metric options."""

    metrics: list[str] | None = None
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    recompute: set[str] = field(default_factory=set)
    """Model metrics to recompute even when statistics are recorded (a model was given)."""


def check_metric_names(names: Sequence[str]) -> None:
    registered = set(get_metrics()) | set(JUDGE_METRICS)
    for name in names:
        if name not in registered:
            raise unknown_name(
                "metric",
                name,
                registered,
                "--metrics takes registered metrics and judge_accuracy/judge_pairwise.",
            )


def compare(
    run_a: Run | str | Path,
    run_b: Run | str | Path,
    plan: Plan | None = None,
    tasks: Sequence[str] | None = None,
    n_resamples: int = 1000,
    seed: int | None = 12345,
    alpha: float = 0.05,
    filter_name: str | None = None,
    log: Callable[[str], None] = lambda message: None,
    skipped: list[dict[str, str]] | None = None,
    clusters: bool = True,
    difference: float | None = None,
) -> list[Row]:
    """Every comparison of B against A (Holm-adjusted over the run).

    ``clusters``: resample the paragraphs of QA tasks (else items one by one). ``difference``: a
    planned difference; each row then says how many items would detect it (``items_needed``).

    A default metric that cannot be computed for a task (e.g. ``off_target`` when no output can be
    identified) is left out and appended to ``skipped`` with the reason; a metric named in
    ``plan.metrics`` raises instead."""
    plan = plan or Plan()
    if not 0 < alpha < 1:
        raise InputError(f"--alpha must be between 0 and 1, got {alpha}")
    if plan.metrics:
        check_metric_names(plan.metrics)
    if difference is not None and not difference > 0:
        raise InputError(
            f"--difference must be a positive difference on the metric's scale, got {difference}"
        )
    run_a, run_b = as_run(run_a, "A"), as_run(run_b, "B")
    pairs = align(run_a, run_b, tasks, filter_name, clusters)
    dir_a, dir_b = run_a.results or run_a.folder, run_b.results or run_b.folder
    folder_a, folder_b = pairs[0].a.path.parent, pairs[0].b.path.parent
    judged_a, judged_b = judged_verdicts(folder_a), judged_verdicts(folder_b)
    outcomes = pairwise_outcomes(folder_a, folder_b)
    instances: dict[tuple[str, str], Metric] = {}
    parsed: dict[Path, Any] = {}
    rows: list[Row] = []
    skipped = [] if skipped is None else skipped
    args = lambda s: (s.hypotheses, s.references, s.sources, s.lang)  # noqa: E731
    for pair in pairs:
        recorded_a, recorded_b = recorded_statistics(pair.a, parsed), recorded_statistics(pair.b, parsed)
        names = plan.metrics or _defaults(pair.task, recorded_a, recorded_b, judged_a, judged_b, outcomes)
        for name in names:
            if name in JUDGE_METRICS:
                row = _judge_row(pair, name, judged_a, judged_b, outcomes, n_resamples, seed, alpha)
                if row is not None:
                    rows.append(row)
                continue
            if pair.a.metric_options.get(name, {}) != pair.b.metric_options.get(name, {}):
                raise InputError(
                    f"{pair.task} {name}: A and B were scored with different metric options "
                    f"({pair.a.metric_options.get(name, {})} in {pair.a.path}, "
                    f"{pair.b.metric_options.get(name, {})} in {pair.b.path}); compare runs of the same settings"
                )
            metric = metric_for(name, pair.a, plan.options, instances)
            rec_a, rec_b = recorded_a.get(name), recorded_b.get(name)
            if rec_a and rec_b and rec_a[1] == rec_b[1] and name not in plan.recompute:
                (stats_a, signature), (stats_b, _) = rec_a, rec_b
            else:
                stats_a = stats_b = None
                signature = ""
            try:
                if (
                    stats_a is None
                ):  # the signature comes with the statistics (sacrebleu's needs the references)
                    result_a, stats_a = metric.score_with_statistics(*args(pair.a))
                    stats_b = metric.statistics(*args(pair.b))
                    signature = str(result_a.signature)
                reason = not_finite_statistics(stats_a, stats_b)
                comparison = None
                if reason is None:
                    comparison = paired_comparison(
                        metric,
                        stats_a,
                        stats_b,
                        n_resamples,
                        seed,
                        clusters=pair.clusters_of(pair.a.doc_ids),
                        alpha=alpha,
                    )
                    reason = not_finite_comparison(comparison)
            except XllmError as err:
                if plan.metrics:  # asked for by name: the user must know
                    raise
                skipped.append({"task": pair.task, "metric": name, "reason": str(err)})
                continue
            if reason or comparison is None:  # missing with its reason; every other metric is still compared
                skipped.append({"task": pair.task, "metric": name, "reason": str(reason)})
                log(f"{pair.task} {name}: not compared ({reason})")
                continue
            rows.append(Row(pair.task, name, comparison, signature))
            log(f"{pair.task} {name}")
    if not rows:
        raise InputError(
            f"nothing to compare between A {dir_a} and B {dir_b}: no metric applies; pass --metrics"
        )
    for row, adjusted in zip(rows, holm([r.comparison.p for r in rows]), strict=True):
        row.p_holm, row.significant = adjusted, adjusted < alpha
        mde = row.comparison.mde
        if difference is not None and mde is not None and np.isfinite(mde) and mde > 0:
            row.items_needed = items_needed(mde, row.comparison.n, difference)
    return rows


def not_finite_statistics(stats_a: Any, stats_b: Any) -> str | None:
    """Why per-segment statistics give no comparison (values that are NaN or infinite), or ``None``."""
    for side, stats in (("A", stats_a), ("B", stats_b)):
        values = np.asarray(stats, dtype=np.float64)
        if not np.all(np.isfinite(values)):
            bad = int(np.count_nonzero(~np.isfinite(values).reshape(len(values), -1).all(axis=1)))
            return f"{side}'s statistics are not finite numbers (NaN or infinite) for {bad} segment(s)"
    return None


def not_finite_comparison(comparison: Comparison) -> str | None:
    """Why a comparison has no number (a score or p-value that is NaN or infinite), or ``None``."""
    for field_name in ("a", "b", "p"):
        value = getattr(comparison, field_name)
        if value is None or not np.isfinite(value):
            return f"the comparison's {field_name} is {value} (not a finite number)"
    return None


def _prefers_b(row: Row) -> bool:
    """Whether the row's metric finds B better (its direction: MetricX-like error scores are lower-is-better)."""
    cls = get_metrics().get(row.metric)
    higher_is_better = cls.higher_is_better if cls is not None else True  # judge shares: higher is better
    return (row.comparison.delta > 0) == higher_is_better


def disagreements(rows: list[Row]) -> list[dict[str, Any]]:
    """Per task (direction), the significant metrics that prefer A and those that prefer B, where both
    kinds exist: the metrics rank the two systems in opposite directions."""
    by_task: dict[str, dict[str, list[str]]] = {}
    for row in rows:
        if row.significant and row.comparison.delta != 0:
            side = "prefer_b" if _prefers_b(row) else "prefer_a"
            by_task.setdefault(row.task, {"prefer_a": [], "prefer_b": []})[side].append(row.metric)
    return [
        {"task": task, **sides} for task, sides in by_task.items() if sides["prefer_a"] and sides["prefer_b"]
    ]


def disagreement_lines(found: list[dict[str, Any]]) -> list[str]:
    """One screen line per task where significant metrics disagree."""
    return [
        f"metrics disagree on {d['task']}: {', '.join(d['prefer_a'])} significantly prefer A, "
        f"{', '.join(d['prefer_b'])} significantly prefer B"
        for d in found
    ]


def _defaults(task, recorded_a, recorded_b, judged_a, judged_b, outcomes) -> list[str]:
    """The family's metrics; those that load a model (``Metric.loads_model``) only where ``xllm score``
    recorded their statistics for both sides with one signature (else only when asked for)."""
    registered = get_metrics()
    names = [
        m
        for m in default_metrics(task)
        if not registered[m].loads_model
        or (m in recorded_a and m in recorded_b and recorded_a[m][1] == recorded_b[m][1])
    ]
    if task in judged_a and task in judged_b:
        names.append(JUDGE_ACCURACY)
    if task in outcomes:
        names.append(JUDGE_PAIRWISE)
    return names


def _judge_row(pair, name, judged_a, judged_b, outcomes, n_resamples, seed, alpha) -> Row | None:
    notes: list[str] = []
    if name == JUDGE_ACCURACY:
        verdicts_a, verdicts_b = judged_a.get(pair.task, {}), judged_b.get(pair.task, {})
        ids = [d for d in pair.a.doc_ids if d in verdicts_a and d in verdicts_b]
        stats_a, stats_b = [verdicts_a[d] for d in ids], [verdicts_b[d] for d in ids]
        signature = "judge_accuracy|xllm judge qa verdicts|items judged for both"
        skipped = len(set(verdicts_a) | set(verdicts_b)) - len(ids)
        if skipped:
            notes.append(f"{skipped} item(s) judged for one system only were left out")
    else:
        per_item = outcomes.get(pair.task, {})
        ids = [d for d in pair.a.doc_ids if d in per_item]
        stats_a = [float(per_item[d] == "win") for d in ids]
        stats_b = [float(per_item[d] == "loss") for d in ids]
        signature = "judge_pairwise|a: share A wins, b: share B wins|sign test on decided items"
    if not ids:
        return None
    comparison = paired_comparison(
        Share(name), np.asarray(stats_a), np.asarray(stats_b), n_resamples, seed,
        clusters=pair.clusters_of(ids), alpha=alpha,
    )  # fmt: skip
    return Row(pair.task, name, comparison, signature, notes=notes)


def report(
    dir_a: str | Path,
    dir_b: str | Path,
    rows: list[Row],
    alpha: float,
    n_resamples: int,
    seed: int | None,
    skipped: list[dict[str, str]] | None = None,
    difference: float | None = None,
    runs: tuple[Run, Run] | None = None,
) -> dict[str, Any]:
    """The ``compare_<timestamp>.json`` payload (``runs``: the runs of A and B compared)."""
    extra = {} if difference is None else {"planned_difference": difference}
    return {
        "a": str(Path(dir_a).resolve()),
        "b": str(Path(dir_b).resolve()),
        **({"runs": {"a": _run_record(runs[0]), "b": _run_record(runs[1])}} if runs else {}),
        "alpha": alpha,
        "resamples": n_resamples,
        "seed": seed,
        "direction": "delta = b - a (B against A); ci: percentile interval of the paired bootstrap",
        "clustering": "QA items resampled by paragraph (the document's context); design_effect beside each",
        "power": f"mde: smallest true difference detected with {POWER:.0%} power at the two-sided level mde_alpha",
        **extra,
        "comparisons": [row.to_dict() for row in rows],
        "disagreements": disagreements(rows),
        "skipped": skipped or [],
    }


def _run_record(run: Run) -> dict[str, str | None]:
    return {"timestamp": run.timestamp, "results": str(run.results.resolve()) if run.results else None}


def choose_runs(
    a: str | Path, b: str | Path, run_a: str | None = None, run_b: str | None = None
) -> tuple[Run, Run]:
    """The run of A and of B: each a ``results_<ts>.json``, a model folder of one run, or the run
    ``--run-a``/``--run-b`` names; a folder of several runs without one is an error naming them."""
    return choose_run(a, run_a, "--run-a", "A"), choose_run(b, run_b, "--run-b", "B")


def write_report(run_a: Run, payload: dict[str, Any]) -> Path:
    """Write ``compare_<timestamp>.json`` in A's samples folder; returns its path."""
    return write_compare_report(run_a.folder, payload)


def table(rows: list[Row]) -> str:
    """A plain-text table of the comparisons."""

    def num(x: float | None, digits: int = 2) -> str:
        return "n/a" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"

    planned = any(r.items_needed is not None for r in rows)
    alphas = sorted({r.comparison.alpha for r in rows})
    mde_title = f"MDE(80%,a={'/'.join(f'{a:g}' for a in alphas)})"
    header = ("task", "metric", "test", "A", "B", "B-A", "95% CI", "p", "p_holm", "sig", mde_title, "deff")
    header += ("n needed",) if planned else ()
    body = [
        (
            r.task, r.metric, r.comparison.test, num(r.comparison.a), num(r.comparison.b), num(r.comparison.delta),
            f"[{num(r.comparison.ci[0])}, {num(r.comparison.ci[1])}]", num(r.comparison.p, 4), num(r.p_holm, 4),
            "*" if r.significant else "", num(r.comparison.mde, 3),
            "" if r.comparison.clusters is None else num(r.comparison.design_effect),
        ) + ((f"{r.items_needed:,}" if r.items_needed is not None else "n/a",) if planned else ())
        for r in rows
    ]  # fmt: skip
    widths = [max(len(str(line[i])) for line in (header, *body)) for i in range(len(header))]
    return "\n".join(
        "  ".join(str(cell).ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in (header, *body)
    )
