"""Cross-lingual consistency: is a model right on the same items in English and in language X?

The paper claims aligned languages; on outputs that is measurable wherever a benchmark is parallel
(XQuAD is 11-way parallel: the same question ``id`` in every language; MI-Eval is multi-way). For
each model, task family and language X paired with the family's English task, items are matched
on the document's ``id`` (else ``doc_id``) and counted:

- ``both`` right, ``en_only`` right only in English, ``x_only`` right only in X, ``neither``;
- ``x_given_en``: the share right in X among the items right in English, ``both / (both + en_only)``;
- ``expected_both``: ``acc_en · acc_x``, the share right in both if the two were independent;
- ``kappa``: Cohen's kappa of the two 0/1 outcomes (1: right on exactly the same items; 0: no more
  agreement than independence), with a percentile bootstrap interval that resamples paragraphs
  (:mod:`xllm_harness.analysis.clusters`, the English document's context) or items.

Outcomes come from a 0/1 metric of the saved samples (``match`` by default, any metric declaring
``binary = True``) and from ``xllm judge qa`` verdicts (``judge_accuracy``) where a judge file is
beside the samples (only items judged in both languages count).

:func:`consistency_matrix` turns the results into the leaderboard's table (rows: model and family,
columns: languages).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from xllm_harness.analysis.clusters import cluster_map
from xllm_harness.analysis.significance import _counts, _interval
from xllm_harness.errors import InputError, unknown_name
from xllm_harness.metrics import Metric, get_metrics
from xllm_harness.results.judge_files import newest_judge, qa_verdicts
from xllm_harness.results.lm_eval import model_name, read_sample_lines, run_groups, sample_folders
from xllm_harness.taskgen import family_of

ENGLISH = "en"
JUDGE = "judge_accuracy"
STATISTICS = ("x_given_en", "kappa", "both_share")
"""What :func:`consistency_matrix` can put in its cells."""


@dataclass
class Outcomes:
    """One task's per-item 0/1 outcomes of one model, keyed by the parallel item id."""

    task: str
    values: dict[str, float]
    clusters: dict[str, int] | None = None


@dataclass
class PairConsistency:
    """Consistency of one model on one language X against English, from one source of outcomes."""

    model: str
    family: str
    lang: str
    source: str
    n: int
    both: int
    en_only: int
    x_only: int
    neither: int
    acc_en: float
    acc_x: float
    x_given_en: float | None
    both_share: float
    expected_both: float
    kappa: float | None
    kappa_ci: tuple[float, float] | None
    resampled: str
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["kappa_ci"] = None if self.kappa_ci is None else list(self.kappa_ci)
        return out


def kappa_from_counts(counts: np.ndarray) -> np.ndarray:
    """Cohen's kappa from ``(..., 4)`` counts ``(both, en_only, x_only, neither)`` (NaN if undefined)."""
    counts = np.asarray(counts, dtype=np.float64)
    n = counts.sum(-1)
    both, en_only, x_only, neither = np.moveaxis(counts, -1, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        observed = (both + neither) / n
        p_en, p_x = (both + en_only) / n, (both + x_only) / n
        expected = p_en * p_x + (1 - p_en) * (1 - p_x)
        return np.where(expected < 1 - 1e-12, (observed - expected) / (1 - expected), np.nan)


def pair_consistency(
    model: str,
    family: str,
    lang: str,
    source: str,
    english: Outcomes,
    other: Outcomes,
    n_resamples: int = 1000,
    level: float = 0.95,
    seed: int | None = 12345,
) -> PairConsistency | None:
    """The counts and statistics of the items present in both (``None`` when none are)."""
    ids = [i for i in english.values if i in other.values]
    if not ids:
        return None
    en = np.array([english.values[i] for i in ids])
    x = np.array([other.values[i] for i in ids])
    cells = np.stack([en * x, en * (1 - x), (1 - en) * x, (1 - en) * (1 - x)], 1)
    counts = cells.sum(0)
    both, en_only, x_only, neither = (int(c) for c in counts)
    n = len(ids)
    kappa = float(kappa_from_counts(counts))
    if english.clusters is not None and all(i in english.clusters for i in ids):
        codes = np.array([english.clusters[i] for i in ids])
        _, codes = np.unique(codes, return_inverse=True)
        groups = int(codes.max()) + 1
        units = np.zeros((groups, 4))
        np.add.at(units, codes, cells)
        resampled = f"{groups} paragraphs"
    else:
        units, groups, resampled = cells, n, f"{n} items"
    draws = np.concatenate([chunk @ units for chunk in _counts(groups, n_resamples, seed)])
    kappas = kappa_from_counts(draws)
    ci = _interval(kappas, level) if np.isfinite(kappa) else (float("nan"), float("nan"))
    acc_en, acc_x = float(en.mean()), float(x.mean())
    notes = [] if np.isfinite(kappa) else ["kappa undefined: one language is right on every item or on none"]
    return PairConsistency(
        model=model, family=family, lang=lang, source=source, n=n,
        both=both, en_only=en_only, x_only=x_only, neither=neither, acc_en=acc_en, acc_x=acc_x,
        x_given_en=both / (both + en_only) if both + en_only else None,
        both_share=both / n, expected_both=acc_en * acc_x,
        kappa=kappa if np.isfinite(kappa) else None,
        kappa_ci=ci if np.all(np.isfinite(ci)) else None,
        resampled=resampled, notes=notes,
    )  # fmt: skip


def _item_key(row: Mapping[str, Any]) -> str:
    doc = row["doc"]
    return str(doc["id"]) if isinstance(doc, Mapping) and doc.get("id") is not None else str(row["doc_id"])


def binary_metric(name: str) -> Metric:
    """A registered metric whose items score 0 or 1 (``binary = True``)."""
    registered = get_metrics()
    if name not in registered:
        raise unknown_name("metric", name, registered, "--metric takes a registered 0/1 metric, e.g. match.")
    metric = registered[name]()
    if not getattr(metric, "binary", False):
        raise InputError(
            f"--metric {name}: consistency counts items right or wrong; {name} is not a 0/1 metric "
            "(use match or exact_match)"
        )
    return metric


def metric_outcomes(path: Path, task: str, metric: Metric) -> Outcomes | None:
    """Per-item 0/1 outcomes of ``metric`` on one samples file (``None`` unless its documents hold
    gold answers: QA; MI-Eval outputs are right or wrong only by a judge's verdict)."""
    from xllm_harness.scoring import metric_for, read_samples

    samples = read_samples(path, task)
    if samples.kind != "qa":
        return None
    metric = metric_for(metric.name, samples)  # with the options the task recorded (reproduce=x-llm)
    stats = metric.statistics(samples.hypotheses, samples.references, samples.sources, samples.lang)
    rows = {row["doc_id"]: row for row in read_sample_lines(path)}
    keys = [_item_key(rows[d]) for d in samples.doc_ids]
    clusters = cluster_map({_item_key(r): r["doc"] for r in rows.values()})
    return Outcomes(task, dict(zip(keys, np.asarray(stats)[:, 0].tolist(), strict=True)), clusters)


def judge_outcomes(folder: Path, path: Path, task: str) -> Outcomes | None:
    """Per-item verdicts of the newest ``judge_qa_*.json`` in ``folder`` for ``task`` (or ``None``)."""
    judge_file = newest_judge(folder, "qa")
    if judge_file is None:
        return None
    verdicts = qa_verdicts(judge_file).get(task)
    if not verdicts:
        return None
    rows = {row["doc_id"]: row for row in read_sample_lines(path)}
    values = {_item_key(rows[d]): v for d, v in verdicts.items() if d in rows}
    return Outcomes(task, values, cluster_map({_item_key(r): r["doc"] for r in rows.values()}))


def _outcomes(source: str, folder: Path, task: str, path: Path, scorer: Metric) -> Outcomes | None:
    return judge_outcomes(folder, path, task) if source == JUDGE else metric_outcomes(path, task, scorer)


def _configurations(root: str | Path) -> list[tuple[Path, str, dict[str, Path]]]:
    """(folder, model name, samples by task) of every configuration of every model folder under
    ``root``: runs of other settings (``model_args``, ``limit``) in one folder are never mixed."""
    out = []
    for folder in sample_folders(root):
        groups = run_groups(folder)
        for group in groups:
            name = model_name(group.identity, folder)
            if len(groups) > 1:
                name += f" [run {group.runs[-1].timestamp}]"
            out.append((folder, name, group.samples))
    return out


def consistency(
    runs: Sequence[str | Path],
    metric: str = "match",
    judge: bool = True,
    n_resamples: int = 1000,
    level: float = 0.95,
    seed: int | None = 12345,
) -> list[PairConsistency]:
    """Every model's consistency with English in every parallel task family of ``runs``."""
    scorer = binary_metric(metric)
    results: list[PairConsistency] = []
    for run in runs:
        for folder, model, samples in _configurations(run):
            families: dict[str, dict[str, tuple[str, Path]]] = {}
            for task, path in samples.items():
                found = family_of(task)
                if found is not None:
                    families.setdefault(found[0].name, {})[found[1]] = (task, path)
            for family, columns in sorted(families.items()):
                if ENGLISH not in columns or len(columns) < 2:
                    continue
                en_task, en_path = columns[ENGLISH]
                sources = [metric] + ([JUDGE] if judge else [])
                for source in sources:
                    english = _outcomes(source, folder, en_task, en_path, scorer)
                    if english is None:
                        continue
                    for lang in sorted(c for c in columns if c != ENGLISH):
                        other = _outcomes(source, folder, *columns[lang], scorer)
                        if other is None:
                            continue
                        pair = pair_consistency(
                            model, family, lang, source, english, other, n_resamples, level, seed
                        )
                        if pair is not None:
                            results.append(pair)
    if not results:
        raise InputError(
            f"no parallel task with an English counterpart in {', '.join(str(r) for r in runs)}: evaluate a "
            "family's English task (e.g. xquad_xllm_en) and other languages with --log_samples"
        )
    return results


def consistency_matrix(results: Sequence[PairConsistency], statistic: str = "x_given_en") -> dict[str, Any]:
    """The leaderboard's table and heatmap: one row per model, family and source, one column per
    language, each cell the ``statistic`` (``x_given_en``, ``kappa`` or ``both_share``) and, for
    ``kappa``, its interval.

    Returns ``{"statistic", "columns": [lang...], "rows": [{"model", "family", "source",
    "values": {lang: float | None}, "intervals": {lang: [lo, hi] | None}, "n": {lang: int}}]}``;
    ``numpy.array([[row["values"][c] for c in columns] for row in rows], dtype=float)`` is the heatmap.
    """
    if statistic not in STATISTICS:
        raise InputError(f"consistency statistic {statistic!r}: use one of {', '.join(STATISTICS)}")
    columns = sorted({r.lang for r in results})
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in results:
        row = rows.setdefault(
            (r.model, r.family, r.source),
            {
                "model": r.model, "family": r.family, "source": r.source,
                "values": dict.fromkeys(columns), "intervals": dict.fromkeys(columns), "n": {},
            },
        )  # fmt: skip
        row["values"][r.lang] = getattr(r, statistic)
        row["n"][r.lang] = r.n
        if statistic == "kappa" and r.kappa_ci is not None:
            row["intervals"][r.lang] = list(r.kappa_ci)
    return {"statistic": statistic, "columns": columns, "rows": list(rows.values())}


def table(results: Sequence[PairConsistency]) -> str:
    """A plain-text table of the results."""

    def num(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.3f}"

    header = ("model", "family", "lang", "source", "n", "both", "en only", "x only", "neither",
              "acc en", "acc x", "P(x|en)", "kappa", "95% CI", "indep. both")  # fmt: skip
    body = [
        (
            r.model, r.family, r.lang, r.source, str(r.n), str(r.both), str(r.en_only), str(r.x_only),
            str(r.neither), num(r.acc_en), num(r.acc_x), num(r.x_given_en), num(r.kappa),
            "n/a" if r.kappa_ci is None else f"[{r.kappa_ci[0]:.3f}, {r.kappa_ci[1]:.3f}]",
            f"{r.both_share:.3f} vs {r.expected_both:.3f}",
        )
        for r in results
    ]  # fmt: skip
    widths = [max(len(line[i]) for line in (header, *body)) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in (header, *body)
    )
