"""Leaderboards from result folders: lm-eval runs, ``xllm score`` and ``xllm judge`` outputs.

:func:`collect` reads, through :mod:`xllm_harness.results.findings`, every ``results_*.json`` (lm-eval /
``xllm eval``), ``xllm_scores_*.json`` (``xllm score``), ``judge_qa_*.json`` and ``judge_pairwise_*.json``
(``xllm judge``) under the given folders, and decides what is shown. Rules:

- a model is its :class:`~xllm_harness.results.lm_eval.ModelIdentity` (model type + full ``model_args``);
  its name in every table follows :mod:`xllm_harness.results.model_names`;
- of several results for one model, task and metric the newest (timestamp in the file name) wins; a
  metric recorded as missing never hides a number measured for the same model and task; a newer
  number over fewer items than the one it replaces is said under the table;
- a file that cannot be read or has the wrong shape is skipped with a warning (``strict``: an error).

:func:`build_tables` makes one table per registered task family (``get_families()``) and metric of
``TaskFamily.metrics``, with the family's averages (``TaskFamily.average_columns``) and the paper's rows
marked ``reported``. :func:`add_intervals` gives cells a bootstrap interval and :func:`compare_to_baseline`
marks cells that differ significantly from a baseline model. Rendering: :mod:`xllm_harness.leaderboard.render`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from xllm_harness.analysis.shares import Share
from xllm_harness.errors import InputError, MissingDependencyError, MissingFileError, XllmError, unknown_name
from xllm_harness.leaderboard import paper
from xllm_harness.metrics import COVERAGE_FIELD, Metric, Signature, get_metrics
from xllm_harness.results.findings import Finding, PairwiseFinding, read_findings, read_pairwise, result_files
from xllm_harness.results.lm_eval import OUTCOMES, Missing, ModelIdentity
from xllm_harness.results.model_names import readable_names
from xllm_harness.taskgen import TaskFamily, family_metrics, family_of, get_families

COLUMN_TITLES = {
    "judge_accuracy": "judge accuracy",
    "win_tie_loss": "win / tie / loss shares of A against B",
    "consistency_x_given_en": "cross-lingual consistency, P(right in X | right in English)",
    "consistency_kappa": "cross-lingual agreement with English, Cohen's kappa",
}
"""Titles of the table quantities that are not metric plugins (a metric's title is ``Metric.title``)."""
CONSISTENCY_SUFFIX = "_consistency"
"""Family name of a consistency table: ``<family>_consistency`` (its own heatmap in the overview)."""
PAIRWISE = "judge_pairwise"

Warn = Callable[[str], None]


@dataclass
class Cell:
    """One measured (or recorded-as-missing) result of one model, task and metric."""

    value: float | None
    """The number on the table's scale; ``None`` when recorded as missing (see ``missing``)."""
    stamp: str
    source: str
    missing: str | None = None
    signature: str = ""
    samples: str | None = None
    """The samples file the number was computed from (for intervals), if known."""
    stats: np.ndarray | None = None
    doc_ids: list[Any] | None = None
    interval: tuple[float, float] | None = None
    design_effect: float | None = None
    """Paragraph clustering's design effect behind ``interval`` (QA), when defined."""
    no_interval: str | None = None
    """Why there is no interval (when there is none)."""
    vs_baseline: str | None = None
    """``higher`` or ``lower``: significantly so against the baseline (Holm-adjusted)."""
    p_holm: float | None = None
    warning: str | None = None
    """What ``xllm score`` warned about this number (e.g. a language outside the metric model's)."""
    n: int | None = None
    """The items (documents) the number is computed over, where the file records them."""
    replaced: str | None = None
    """Said when this number, the newest, replaced an older one of the same model over more items."""

    @property
    def rank(self) -> tuple[bool, str, str]:
        """A number beats a recorded miss; then the newer file wins."""
        return (self.value is not None, self.stamp, self.source)


@dataclass
class Scores:
    """Every result found for one model: (task, metric) -> :class:`Cell`."""

    model: str
    identity: ModelIdentity
    values: dict[tuple[str, str], Cell] = field(default_factory=dict)

    def add(self, task: str, metric: str, cell: Cell) -> None:
        """Keep the better of ``cell`` and the one held (:attr:`Cell.rank`), saying when the newer number
        is over fewer items than the older one it replaces (e.g. a later ``--limit`` run)."""
        old = self.values.get((task, metric))
        if old is not None and cell.rank < old.rank:
            old, cell = cell, old
        numbers = old is not None and cell.value is not None and old.value is not None
        if numbers and cell.stamp > old.stamp and cell.n is not None and old.n is not None and cell.n < old.n:
            cell.replaced = (
                f"the newest run ({cell.source}) has {cell.n} items; an older one over {old.n} items "
                f"({old.source}) is not shown"
            )
        self.values[(task, metric)] = cell


@dataclass
class Pairwise:
    """One pairwise comparison: per language win/tie/loss of system A against B."""

    model_a: str
    model_b: str
    per_language: dict[str, dict[str, float]]
    source: str
    stamp: str = ""
    outcomes: dict[str, list[str]] = field(default_factory=dict)
    """Per language, every item's outcome (from the judge's details file), for intervals."""


@dataclass
class Row:
    label: str
    values: dict[str, float | None]
    averages: dict[str, float | None]
    reported: bool = False
    sources: list[str] = field(default_factory=list)
    cells: dict[str, Cell] = field(default_factory=dict)


@dataclass
class Table:
    family: str
    """The task family's name (``xquad_xllm``), or ``judge_pairwise``."""
    family_title: str
    metric: str
    columns: list[str]
    average_labels: list[str]
    rows: list[Row]
    notes: list[str] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=dict)
    """Average label → the columns it averages."""

    @property
    def title(self) -> str:
        return f"{self.family_title}: {metric_title(self.metric)}"


@dataclass
class Collection:
    """What :func:`collect` found: scores by model name, MI-Eval comparisons, notes on names."""

    scores: dict[str, Scores]
    pairwise: list[Pairwise]
    notes: list[str] = field(default_factory=list)


# --- reading: xllm_harness.results.findings; here, which finding is shown and on what scale -------------


def metric_title(name: str) -> str:
    """A table quantity's title: the metric's own (``Metric.title``), else :data:`COLUMN_TITLES`'s."""
    cls = get_metrics().get(name)
    return cls.display_title() if cls is not None else COLUMN_TITLES.get(name, name)


def _table_factor(metric: str, signature: str) -> float | None:
    """What a recorded value is multiplied by for the table: ``Metric.table_scale`` over the scale its
    signature declares (1 for metrics shown as recorded); ``None`` when the signature declares none."""
    cls = get_metrics().get(metric)
    if cls is None or cls.table_scale is None:
        return 1.0
    declared = Signature.parse(signature).scale()
    return None if declared is None else cls.table_scale / declared


def _rescale(metric: str, value: float, signature: str) -> float | Missing:
    factor = _table_factor(metric, signature)
    if factor is None:
        return Missing(
            f"its signature declares no scale ({signature or 'no signature'}); rescore with xllm score"
        )
    return value * factor


def _cell(found: Finding) -> Cell:
    entry = found.entry
    if isinstance(entry, float):
        entry = _rescale(found.metric, entry, found.signature)
    cell = Cell(None, found.stamp, str(found.source), signature=found.signature, n=found.n)
    if isinstance(entry, Missing):
        cell.missing = entry.reason
        return cell
    cell.value, cell.samples, cell.stats, cell.doc_ids = entry, found.samples, found.stats, found.doc_ids
    cell.warning, cell.no_interval = found.warning, found.no_interval
    return cell


def _family_metrics(task: str) -> tuple[str, ...]:
    found = family_of(task)
    return family_metrics(found[0]) if found else ()


def _merge_named(found: list[Finding], pairs: list[PairwiseFinding]) -> dict[str, ModelIdentity]:
    """Name-only identities that equal exactly one full identity's path are that model."""
    every = [f.identity for f in found] + [i for pair in pairs for i in (pair.a, pair.b)]
    full = {i.key: i for i in every if i.model}
    mapping = {}
    for identity in every:
        if identity.model:
            continue
        matches = [i for i in full.values() if identity.pretrained in (i.pretrained, i.model_args)]
        if len(matches) == 1:
            mapping[identity.key] = matches[0]
    return mapping


def collect(
    paths: list[Path], aliases: dict[str, str] | None = None, strict: bool = False, warn: Warn | None = None
) -> Collection:
    """Read every result file under ``paths``; ``aliases`` renames models (old -> new)."""
    warn = warn or (lambda message: None)

    def skip(path: Path, reason: str) -> None:
        message = f"{path}: skipped, {reason}"
        if strict:
            raise InputError(message.replace("skipped, ", "", 1) + " (--strict)")
        warn(message)

    files, unknown = result_files(paths)
    for path in unknown:
        skip(path, "not a result file (results_*.json, xllm_scores_*, judge_qa_*, judge_pairwise_*.json)")
    found: list[Finding] = []
    pairs: list[PairwiseFinding] = []
    for kind, path in files:
        try:
            if kind == PAIRWISE:
                pairs.append(read_pairwise(path))
            else:
                found += read_findings(kind, path, _family_metrics)
        except (InputError, MissingFileError) as err:
            skip(path, str(err).removeprefix(f"{path}: "))
    merged = _merge_named(found, pairs)

    def real(identity: ModelIdentity) -> ModelIdentity:
        return merged.get(identity.key, identity)

    identities = [real(f.identity) for f in found] + [real(i) for pair in pairs for i in (pair.a, pair.b)]
    naming = readable_names(identities, aliases)
    scores: dict[str, Scores] = {}
    for item in found:
        identity = real(item.identity)
        name = naming.names[identity.key]
        scores.setdefault(name, Scores(name, identity)).add(item.task, item.metric, _cell(item))
    newest: dict[tuple[str, str], tuple[str, str, Pairwise]] = {}
    for pair in pairs:
        a, b = real(pair.a), real(pair.b)
        comparison = Pairwise(
            naming.names[a.key], naming.names[b.key], pair.per_language, str(pair.source), pair.stamp,
            pair.outcomes,
        )  # fmt: skip
        if pair.outcomes_error:
            warn(f"{pair.source}: no intervals, {pair.outcomes_error}")
        key = (a.key, b.key)
        if key not in newest or (comparison.stamp, comparison.source) >= newest[key][:2]:
            newest[key] = (comparison.stamp, comparison.source, comparison)
    pairwise = [c for _, _, c in sorted(newest.values(), key=lambda v: (v[2].model_a, v[2].model_b))]
    return Collection(scores, pairwise, naming.notes)


# --- tables ----------------------------------------------------------------------------------------


def _order(family: TaskFamily, columns: set[str]) -> tuple[list[str], dict[str, list[str]]]:
    """Columns in the order of the family's averages (each group sorted), the rest after them."""
    averages = family.average_columns(sorted(columns)).items()
    groups = {label: sorted(set(cols)) for label, cols in averages if cols}
    ordered = list(dict.fromkeys(c for cols in groups.values() for c in cols))
    return ordered + sorted(columns - set(ordered)), groups


def _mean(values: list[float | None]) -> float | None:
    """The mean of ``values``, or ``None`` if any is absent (an average over fewer columns is another number)."""
    if not values or any(v is None for v in values):
        return None
    return sum(values) / len(values)  # type: ignore[arg-type]


def _reported_rows(
    family: TaskFamily, metric: str, columns: list[str], groups: dict[str, list[str]]
) -> list[Row]:
    """The paper's rows for this table (Tables 2, 6: per language; Table 4: one FLORES average)."""
    source = {"match": paper.TABLE6_MATCH, "judge_accuracy": paper.TABLE2_JUDGE_ACCURACY}.get(metric)
    rows = []
    if source is not None and family.name in paper.QA_COLUMNS:
        table = "Table 6" if metric == "match" else "Table 2"
        for model, benchmarks in source.items():
            reported = benchmarks[family.name]
            # the measured rows' averages, over the same columns (absent where the paper lacks one of
            # them); the paper's own average, over its languages, in a column labelled as such
            averages = {label: _mean([reported.get(c) for c in cols]) for label, cols in groups.items()}
            averages[paper.PAPER_AVERAGE] = sum(reported.values()) / len(reported)
            rows.append(
                Row(f"{model} (reported, {table})", {c: reported.get(c) for c in columns}, averages, True)
            )
    if family.name == paper.FLORES_FAMILY and metric in paper.TABLE4_METRICS:
        for model, averages in paper.TABLE4_FLORES_AVERAGES.items():
            rows.append(
                Row(
                    f"{model} (reported, Table 4)",
                    dict.fromkeys(columns),
                    {paper.PAPER_AVERAGE: averages[metric]},
                    True,
                )
            )
    return rows


def _table(family: TaskFamily, metric: str, per_model: dict[str, dict[str, Cell]], reported: bool) -> Table:
    columns, groups = _order(family, {c for cells in per_model.values() for c in cells})
    rows = []
    for model in sorted(per_model):
        cells = per_model[model]
        values = {c: cells[c].value if c in cells else None for c in columns}
        averages = {label: _mean([values[c] for c in cols]) for label, cols in groups.items()}
        rows.append(
            Row(model, values, averages, sources=sorted({c.source for c in cells.values()}), cells=cells)
        )
    if reported:
        rows += _reported_rows(family, metric, columns, groups)
    labels = list(groups) + [label for r in rows for label in r.averages if label not in groups]
    labels = list(dict.fromkeys(labels))
    notes = [
        f"{label}: mean of {', '.join(cols) or 'no column'}; absent when one of them is"
        for label, cols in groups.items()
    ]
    if any(r.reported for r in rows):
        notes.append(paper.REPORTED_NOTE)
    notes += _grouped(
        "missing", [(f"{r.label} {c}", cell.missing) for r in rows for c, cell in r.cells.items()]
    )
    notes += _grouped(
        "warning", [(f"{r.label} {c}", _coverage(metric, cell)) for r in rows for c, cell in r.cells.items()]
    )
    notes += [
        f"fewer items for {r.label} {c}: {cell.replaced}"
        for r in rows
        for c, cell in r.cells.items()
        if cell.replaced
    ]
    return Table(family.name, family.display_title, metric, columns, labels, rows, notes, groups)


def _coverage(metric: str, cell: Cell) -> str | None:
    """The language-coverage warning of a number: recorded by ``xllm score``, or in its signature."""
    if cell.warning:
        return cell.warning
    found = Signature.parse(cell.signature).get(COVERAGE_FIELD)
    if found is None:
        return None
    cls = get_metrics().get(metric)
    return (cls.coverage_warning(found.split(",")) if cls else None) or f"{metric}: {COVERAGE_FIELD}:{found}"


def build_tables(scores: dict[str, Scores] | Collection, include_reported: bool = True) -> list[Table]:
    """One table per registered task family and metric of ``TaskFamily.metrics`` that has a result."""
    if isinstance(scores, Collection):
        scores = scores.scores
    cells: dict[tuple[str, str], dict[str, dict[str, Cell]]] = {}
    families = get_families()
    for model, entry in scores.items():
        for (task, metric), cell in entry.values.items():
            found = family_of(task)
            if found is None or metric not in family_metrics(found[0]):
                continue
            cells.setdefault((found[0].name, metric), {}).setdefault(model, {})[found[1]] = cell
    tables = []
    for family in families:
        for metric in family_metrics(family):
            if (family.name, metric) in cells:
                tables.append(_table(family, metric, cells[(family.name, metric)], include_reported))
    return tables


def pairwise_table(comparisons: list[Pairwise], intervals: bool = True) -> Table | None:
    """MI-Eval: win/tie/loss shares of system A against B per language (``<lang> win`` etc. columns).

    With ``intervals``, each share gets a bootstrap interval over items from the judge's details file
    (when its outcomes give the recorded counts).
    """
    if not comparisons:
        return None
    present = {lang for c in comparisons for lang in c.per_language}
    langs = sorted(present - {"all"}) + (["all"] if "all" in present else [])  # `all`: summed over languages
    columns = [f"{lang} {k}" for lang in langs for k in OUTCOMES]
    rows = []
    for comp in comparisons:
        values: dict[str, float | None] = dict.fromkeys(columns)
        cells: dict[str, Cell] = {}
        for lang, counts in comp.per_language.items():
            total = sum(counts.values()) or 1.0
            for k in OUTCOMES:
                values[f"{lang} {k}"] = counts[k] / total
                cells[f"{lang} {k}"] = Cell(counts[k] / total, comp.stamp, comp.source)
        if intervals:
            _share_intervals(comp, cells)
        wins = [values[f"{lang} win"] for lang in comp.per_language if lang != "all"]
        label = f"{comp.model_a} vs {comp.model_b}"
        rows.append(Row(label, values, {"avg win": _mean(wins)}, sources=[comp.source], cells=cells))
    notes = [
        "avg win: mean win share of A over the languages (not `all`, which sums the items of every language)"
    ]
    if intervals:
        notes += _grouped(
            "no interval",
            [
                (r.label, "no judge_pairwise_<date>.details.jsonl with outcomes that give its counts")
                for r in rows
                if not any(c.interval for c in r.cells.values())
            ],
        )
    return Table(PAIRWISE, "MI-Eval (pairwise judge)", "win_tie_loss", columns, ["avg win"], rows, notes)


def consistency_tables(paths: Sequence[Path], warn: Warn) -> list[Table]:
    """Per parallel task family: P(right in X | right in English) and Cohen's kappa with its interval,
    one row per model (and per judge), one column per language (:mod:`xllm_harness.analysis.consistency`);
    none when no family has an English task and another language with saved samples."""
    from xllm_harness.analysis.consistency import consistency, consistency_matrix

    try:
        results = consistency(paths)
    except InputError:
        return []
    except XllmError as err:
        warn(f"no consistency table: {err}")
        return []
    families = get_families()
    tables = []
    for family in sorted({r.family for r in results}):
        subset = [r for r in results if r.family == family]
        title = families[family].display_title if family in families else family
        for statistic in ("x_given_en", "kappa"):
            matrix = consistency_matrix(subset, statistic)
            rows = []
            for entry in matrix["rows"]:
                label = entry["model"] + ("" if entry["source"] == "match" else f" ({entry['source']})")
                cells = {
                    lang: Cell(
                        value,
                        "",
                        f"{entry['model']}: {entry['n'].get(lang, 0)} items in both languages",
                        interval=tuple(entry["intervals"][lang]) if entry["intervals"][lang] else None,
                    )
                    for lang, value in entry["values"].items()
                    if value is not None
                }
                values = {c: entry["values"][c] for c in matrix["columns"]}
                rows.append(Row(label, values, {"avg": _mean(list(values.values()))}, cells=cells))
            notes = [
                "items matched on the question id across languages; outcomes from the per-item 0/1 metric "
                "(match) and, where present, the QA judge's verdicts; see docs/compare.md",
                "avg: mean over the languages; absent when one of them is",
            ]
            if statistic == "kappa":
                notes.append("intervals: percentile bootstrap over paragraphs (items where none is known)")
            tables.append(
                Table(
                    family + CONSISTENCY_SUFFIX,
                    title,
                    f"consistency_{statistic}",
                    matrix["columns"],
                    ["avg"],
                    rows,
                    notes,
                )
            )
    return tables


def _share_intervals(comp: Pairwise, cells: dict[str, Cell]) -> None:
    from xllm_harness.analysis.significance import score_interval

    outcomes = dict(comp.outcomes)
    if outcomes and "all" in comp.per_language:
        outcomes["all"] = [o for lang, items in comp.outcomes.items() if lang != "all" for o in items]
    for lang, counts in comp.per_language.items():
        items = outcomes.get(lang, [])
        if not items or any(items.count(k) != counts[k] for k in OUTCOMES):
            continue
        for k in OUTCOMES:
            stats = np.asarray([[float(o == k)] for o in items])
            cells[f"{lang} {k}"].interval = score_interval(Share(), stats).bounds


# --- intervals and the baseline ---------------------------------------------------------------------


def _metric(name: str) -> Metric | None:
    if name == "judge_accuracy":
        return Share()
    cls = get_metrics().get(name)
    return cls() if cls is not None else None


def _recompute(metric: Metric, cell: Cell, samples_cache: dict[str, Any]) -> str | None:
    """Fill ``cell.stats`` from its samples file with the default metric; returns why not, or ``None``.

    Whether they are the statistics of the recorded number is checked afterwards (:func:`_reproduces`).
    """
    from xllm_harness.scoring import metric_for, read_samples

    if cell.samples is None or not Path(cell.samples).is_file():
        return "no samples file (run with --log_samples)"
    if metric.loads_model:
        return "model-based metrics are not rerun here; `xllm score` records their statistics"
    try:
        if cell.samples not in samples_cache:
            samples_cache[cell.samples] = read_samples(Path(cell.samples))
        samples = samples_cache[cell.samples]
        metric = metric_for(metric.name, samples)  # with the options the task recorded
        stats = metric.statistics(samples.hypotheses, samples.references, samples.sources, samples.lang)
    except NotImplementedError:
        return f"{metric.name} provides no statistics"
    except (MissingDependencyError, InputError) as err:  # incl. a samples file cut short or malformed
        return str(err)
    cell.stats, cell.doc_ids = stats, samples.doc_ids
    return None


def _reproduces(metric: Metric, cell: Cell, factor: float) -> bool:
    from xllm_harness.analysis.significance import observed_score

    observed = observed_score(metric, cell.stats) * factor
    return bool(np.isclose(observed, cell.value, rtol=1e-6, atol=1e-9))


def _factor(metric: str, cell: Cell) -> float:
    return _table_factor(metric, cell.signature) or 1.0


def add_intervals(scores: dict[str, Scores], n_resamples: int = 1000, level: float = 0.95) -> None:
    """An interval for every measured cell with statistics (stored or recomputed): Wilson for
    proportions, else the percentile bootstrap; QA items resampled by paragraph, with the design
    effect (:func:`xllm_harness.analysis.significance.score_interval`)."""
    from xllm_harness.console import progress_bar

    samples_cache: dict[str, Any] = {}
    cells = [
        (name, cell)
        for entry in scores.values()
        for (_, name), cell in entry.values.items()
        if cell.value is not None and not cell.no_interval
    ]
    for name, cell in progress_bar(cells, desc="intervals (bootstrap)", unit="cell", enabled=bool(cells)):
        try:
            _interval(name, cell, samples_cache, n_resamples, level)
        except (
            XllmError
        ) as err:  # this interval cannot be computed (e.g. no resample is scorable): it alone is missing
            cell.stats, cell.interval, cell.no_interval = None, None, str(err)


def _interval(name: str, cell: Cell, samples_cache: dict[str, Any], n_resamples: int, level: float) -> None:
    from xllm_harness.analysis.clusters import sample_clusters
    from xllm_harness.analysis.significance import score_interval

    metric = _metric(name)
    if metric is None:
        cell.no_interval = f"{name} is not a registered metric"
        return
    if cell.stats is None:
        cell.no_interval = _recompute(metric, cell, samples_cache)
        if cell.no_interval:
            return
    factor = _factor(name, cell)
    if not _reproduces(metric, cell, factor):
        reason = "its statistics (from the samples, default metric settings) do not give the recorded score"
        cell.stats, cell.no_interval = None, reason
        return
    clusters = None
    if cell.samples and cell.doc_ids is not None and Path(cell.samples).is_file():
        clusters = sample_clusters(cell.samples, cell.doc_ids)
    found = score_interval(metric, cell.stats, clusters, n_resamples=n_resamples, level=level)
    cell.interval = (found.low * factor, found.high * factor)
    cell.design_effect = found.design_effect


def compare_to_baseline(
    tables: list[Table], baseline: str, alpha: float = 0.05, n_resamples: int = 1000
) -> int:
    """Mark cells significantly higher/lower than ``baseline``'s (paired tests, Holm over all compared cells).

    Needs :func:`add_intervals` first (it provides the statistics). Returns the number of cells compared.
    """
    from xllm_harness.analysis.clusters import sample_clusters
    from xllm_harness.analysis.significance import holm, paired_comparison
    from xllm_harness.console import progress_bar

    measured = {r.label for t in tables for r in t.rows if not r.reported}
    if baseline not in measured:
        raise unknown_name("--baseline model", baseline, measured, "Give a model name the tables show.")
    compared: list[tuple[Cell, float, Table]] = []
    for table in progress_bar(tables, desc=f"vs {baseline} (paired bootstrap)", unit="table"):
        base = next((r for r in table.rows if r.label == baseline and not r.reported), None)
        if base is None:
            continue
        metric = _metric(table.metric)
        for row in table.rows:
            if row is base or row.reported:
                continue
            for column, cell in row.cells.items():
                ref = base.cells.get(column)
                if metric is None or ref is None or ref.stats is None or cell.stats is None:
                    continue
                if cell.doc_ids != ref.doc_ids or cell.stats.shape != ref.stats.shape:
                    continue
                clusters = None  # QA: paragraphs resampled together, as in `xllm compare`
                if ref.samples and ref.doc_ids is not None and Path(ref.samples).is_file():
                    clusters = sample_clusters(ref.samples, ref.doc_ids)
                result = paired_comparison(
                    metric, ref.stats, cell.stats, n_resamples=n_resamples, clusters=clusters, alpha=alpha
                )
                compared.append((cell, result.p, table))
                cell.vs_baseline = "higher" if result.delta > 0 else "lower"
    if compared:
        adjusted = holm([p for _, p, _ in compared])
        for (cell, _, _), p_holm in zip(compared, adjusted, strict=True):
            cell.p_holm = p_holm
            if p_holm >= alpha:
                cell.vs_baseline = None
    for table in tables:
        if any(r.label == baseline for r in table.rows):
            table.notes.append(
                f"▲/▼: significantly higher/lower than {baseline} (paired test per cell, Holm-adjusted over the "
                f"{len(compared)} cells compared, p < {alpha}); cells without statistics on the same items are not compared"
            )
    _disagreement_notes(tables, baseline)
    return len(compared)


def _disagreement_notes(tables: list[Table], baseline: str) -> None:
    """Under each family's tables: where two metrics both differ significantly from the baseline on one
    column (direction) but prefer different models, each metric read in its own direction."""
    prefer: dict[tuple[str, str, str], dict[str, list[str]]] = {}
    for table in tables:
        cls = get_metrics().get(table.metric)
        higher_is_better = cls.higher_is_better if cls is not None else True
        for row in table.rows:
            for column, cell in row.cells.items():
                if cell.vs_baseline and not row.reported:
                    winner = row.label if (cell.vs_baseline == "higher") == higher_is_better else baseline
                    key = (table.family, row.label, column)
                    prefer.setdefault(key, {}).setdefault(winner, []).append(metric_title(table.metric))
    for (family, model, column), winners in prefer.items():
        if len(winners) < 2:
            continue
        said = "; ".join(f"{', '.join(titles)} prefer {winner}" for winner, titles in winners.items())
        note = f"metrics disagree for {model} against {baseline} on {column}: {said} (each significantly)"
        for table in tables:
            if table.family == family:
                table.notes.append(note)


def _grouped(what: str, places: list[tuple[str, str | None]]) -> list[str]:
    """One note per reason: ``<what> for <places>: <reason>`` (places abridged after four)."""
    reasons: dict[str, list[str]] = {}
    for place, reason in places:
        if reason:
            reasons.setdefault(reason, []).append(place)
    notes = []
    for reason, where in reasons.items():
        shown = ", ".join(where[:4]) + (f" and {len(where) - 4} more" if len(where) > 4 else "")
        notes.append(f"{what} for {shown}: {reason}")
    return notes


def interval_notes(tables: list[Table]) -> None:
    """Under each table: which measured cells have no interval, and why."""
    for table in tables:
        places = [
            (f"{row.label} {column}", cell.no_interval)
            for row in table.rows
            for column, cell in row.cells.items()
            if cell.value is not None and cell.interval is None
        ]
        table.notes += _grouped("no interval", places)
