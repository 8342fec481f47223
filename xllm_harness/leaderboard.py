"""Leaderboards from result folders: lm-eval runs, ``xllm score`` and ``xllm judge`` outputs.

:func:`collect` walks the given folders for ``results_*.json`` (lm-eval / ``xllm eval``),
``xllm_scores_*.json`` (``xllm score``), ``judge_qa_*.json`` and ``judge_pairwise_*.json``
(``xllm judge``). :func:`build_tables` turns them into one table per benchmark family and metric
(columns: languages or directions, then the average the paper reports), with the paper's own rows
added and marked ``reported``. Rendering lives in :mod:`xllm_harness.leaderboard_render`.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xllm_harness import paper
from xllm_harness.errors import InputError, MissingFileError

QA_METRICS = ("match", "exact_match", "f1", "judge_accuracy")
FLORES_METRICS = ("spbleu", "chrf", "comet", "bleurt")
NEURAL_METRICS = ("comet", "bleurt")
TASK_RE = re.compile(r"^(?P<family>xquad|mlqa|flores)_xllm_(?P<column>[a-z_]+(?:-[a-z_]+)?)$")
FAMILY_TITLES = {"xquad": "XQuAD", "mlqa": "MLQA", "flores": "FLORES-101", "mi_eval": "MI-Eval"}
METRIC_TITLES = {
    "match": "match (x-LLM)",
    "exact_match": "exact match",
    "f1": "F1",
    "judge_accuracy": "judge accuracy",
    "spbleu": "spBLEU",
    "chrf": "chrF++",
    "comet": "COMET (x100)",
    "bleurt": "BLEURT (x100)",
    "win_tie_loss": "win / tie / loss shares of A against B",
}


@dataclass
class Scores:
    """Every score found for one model: (task, metric) -> (value, timestamp, source file)."""

    model: str
    values: dict[tuple[str, str], tuple[float, float, str]] = field(default_factory=dict)

    def add(self, task: str, metric: str, value: Any, stamp: float, source: Path) -> None:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return
        old = self.values.get((task, metric))
        if old is None or stamp >= old[1]:  # the newest run wins
            self.values[(task, metric)] = (float(value), stamp, str(source))


@dataclass
class Pairwise:
    """One pairwise comparison: per language win/tie/loss of system A against B."""

    model_a: str
    model_b: str
    per_language: dict[str, dict[str, float]]
    source: str


@dataclass
class Row:
    label: str
    values: dict[str, float | None]
    average: float | None
    reported: bool = False
    sources: list[str] = field(default_factory=list)


@dataclass
class Table:
    family: str
    metric: str
    columns: list[str]
    rows: list[Row]
    average_note: str

    @property
    def title(self) -> str:
        return f"{FAMILY_TITLES.get(self.family, self.family)}: {METRIC_TITLES.get(self.metric, self.metric)}"


def model_name(results: dict[str, Any], path: Path) -> str:
    """A readable model name from an lm-eval results file (the pretrained path's last part)."""
    config = results.get("config") or {}
    args = config.get("model_args")
    pretrained = args.get("pretrained") if isinstance(args, dict) else None
    if isinstance(args, str):
        match = re.search(r"(?:^|,)(?:pretrained|model)=([^,]+)", args)
        pretrained = match.group(1) if match else None
    name = pretrained or results.get("model_name") or path.parent.name
    return Path(str(name).rstrip("/")).name or str(name)


def _read(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: not a readable JSON result file ({err})") from None


def collect(
    paths: list[Path], aliases: dict[str, str] | None = None
) -> tuple[dict[str, Scores], list[Pairwise]]:
    """Read every result file under ``paths``; ``aliases`` renames models (old -> new)."""
    aliases = aliases or {}
    scores: dict[str, Scores] = {}
    pairwise: list[Pairwise] = []
    names_by_dir: dict[Path, str] = {}

    def entry(name: str) -> Scores:
        name = aliases.get(name, name)
        return scores.setdefault(name, Scores(name))

    files: list[Path] = []
    for root in paths:
        root = Path(root)
        if not root.exists():
            raise MissingFileError(f"Result folder {root} does not exist")
        files += [root] if root.is_file() else sorted(p for p in root.rglob("*.json") if p.is_file())
    results_files = [p for p in files if p.name.startswith("results_")]
    for path in results_files:
        data = _read(path)
        if "results" not in data:
            continue
        name = model_name(data, path)
        names_by_dir[path.parent] = name
        stamp = path.stat().st_mtime
        for task, metrics in data["results"].items():
            for key, value in metrics.items():
                metric, _, filt = key.partition(",")
                if (filt and filt != "none") or metric.endswith("_stderr"):
                    continue
                entry(name).add(task, metric, value, stamp, path)
    for path in files:
        if path.name.startswith("xllm_scores_"):
            data = _read(path)
            name = data.get("model_name") or names_by_dir.get(path.parent) or path.parent.name
            name = Path(str(name).rstrip("/")).name
            for task, metrics in (data.get("results") or {}).items():
                for metric, value in metrics.items():
                    entry(name).add(task, metric, value, path.stat().st_mtime, path)
        elif path.name.startswith("judge_qa_"):
            data = _read(path)
            name = data.get("model_name") or names_by_dir.get(path.parent) or path.parent.name
            name = Path(str(name).rstrip("/")).name
            for task, metrics in (data.get("results") or {}).items():
                if isinstance(metrics, dict) and "judge_accuracy" in metrics:
                    entry(name).add(
                        task, "judge_accuracy", metrics["judge_accuracy"], path.stat().st_mtime, path
                    )
        elif path.name.startswith("judge_pairwise_"):
            pairwise.extend(_read_pairwise(_read(path), path, aliases))
    return scores, pairwise


def _read_pairwise(data: dict[str, Any], path: Path, aliases: dict[str, str]) -> list[Pairwise]:
    models = data.get("models") or {}
    a = aliases.get(str(models.get("a", "A")), str(models.get("a", "A")))
    b = aliases.get(str(models.get("b", "B")), str(models.get("b", "B")))
    per_language: dict[str, dict[str, float]] = {}
    for lang, result in (data.get("results") or data.get("per_language") or {}).items():
        if not isinstance(result, dict):
            continue
        counts = {k: result.get(k) for k in ("win", "tie", "loss")}
        if all(isinstance(v, (int, float)) for v in counts.values()):
            per_language[lang] = {k: float(v) for k, v in counts.items()}
    return [Pairwise(a, b, per_language, str(path))] if per_language else []


def _order(columns: set[str], family: str) -> list[str]:
    if family == "flores":
        en_x = sorted(c for c in columns if c.startswith("en-"))
        x_en = sorted(c for c in columns if c.endswith("-en"))
        return en_x + x_en + sorted(columns - set(en_x) - set(x_en))
    non_en = sorted(c for c in columns if c != "en")
    return non_en + (["en"] if "en" in columns else [])


def _average(values: dict[str, float | None], family: str) -> float | None:
    keep = [v for c, v in values.items() if v is not None and (family == "flores" or c != "en")]
    return sum(keep) / len(keep) if keep else None


def _reported_rows(family: str, metric: str, columns: list[str]) -> list[Row]:
    source = {"match": paper.TABLE6_MATCH, "judge_accuracy": paper.TABLE2_JUDGE_ACCURACY}.get(metric)
    rows = []
    if source is not None and family in ("xquad", "mlqa"):
        table = "Table 6" if metric == "match" else "Table 2"
        for model, families in source.items():
            values = {c: families[family].get(c) for c in columns}
            rows.append(
                Row(f"{model} (reported, {table})", values, _average(families[family], family), reported=True)
            )
    if family == "flores" and metric in ("spbleu", "comet", "bleurt"):
        for model, averages in paper.TABLE4_FLORES_AVERAGES.items():
            values = dict.fromkeys(columns)
            rows.append(Row(f"{model} (reported, Table 4)", values, averages[metric], reported=True))
    return rows


def build_tables(scores: dict[str, Scores], include_reported: bool = True) -> list[Table]:
    """One table per (family, metric) that has at least one measured value."""
    cells: dict[tuple[str, str], dict[str, dict[str, tuple[float, str]]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    for model, entry in scores.items():
        for (task, metric), (value, _, source) in entry.values.items():
            match = TASK_RE.match(task)
            if match is None:
                continue
            family = match["family"]
            if metric not in (FLORES_METRICS if family == "flores" else QA_METRICS):
                continue
            if metric in NEURAL_METRICS and value <= 1.5:  # COMET/BLEURT on the paper's 0-100 scale
                value *= 100
            cells[(family, metric)][model][match["column"]] = (value, source)
    order = {name: i for i, name in enumerate(("xquad", "mlqa", "flores"))}
    metric_order = {m: i for i, m in enumerate(QA_METRICS + FLORES_METRICS)}
    tables = []
    for (family, metric), per_model in sorted(
        cells.items(), key=lambda kv: (order[kv[0][0]], metric_order[kv[0][1]])
    ):
        columns = _order({c for values in per_model.values() for c in values}, family)
        rows = []
        for model in sorted(per_model):
            values = {c: per_model[model].get(c, (None, ""))[0] for c in columns}
            sources = sorted({s for _, s in per_model[model].values()})
            rows.append(Row(model, values, _average(values, family), sources=sources))
        if include_reported:
            rows += _reported_rows(family, metric, columns)
        note = (
            "mean over all directions shown"
            if family == "flores"
            else "mean over the non-English languages shown (the paper's averages exclude English); "
            "reported rows give the paper's own average over all its languages"
        )
        tables.append(Table(family, metric, columns, rows, note))
    return tables


def pairwise_table(comparisons: list[Pairwise]) -> Table | None:
    """MI-Eval: win/tie/loss shares of system A against B per language (``<lang> win`` etc. columns)."""
    if not comparisons:
        return None
    present = {lang for c in comparisons for lang in c.per_language}
    langs = sorted(present - {"all"}) + (["all"] if "all" in present else [])  # `all`: summed over languages
    columns = [f"{lang} {k}" for lang in langs for k in ("win", "tie", "loss")]
    rows = []
    for comp in comparisons:
        values: dict[str, float | None] = dict.fromkeys(columns)
        for lang, counts in comp.per_language.items():
            total = sum(counts.values()) or 1.0
            for k in ("win", "tie", "loss"):
                values[f"{lang} {k}"] = counts[k] / total
        wins = [values[f"{lang} win"] for lang in comp.per_language if lang != "all"]
        average = sum(wins) / len(wins) if wins else None
        label = f"{Path(comp.model_a).name} vs {Path(comp.model_b).name}"
        rows.append(Row(label, values, average, sources=[comp.source]))
    return Table(
        "mi_eval", "win_tie_loss", columns, rows, "mean win share of A over the languages (not `all`)"
    )
