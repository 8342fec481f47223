"""The one reader of lm-eval output folders, and of the files xllm-harness writes beside them.

lm-eval (and ``xllm eval``) with ``--output_path OUT --log_samples`` writes, per model,
``OUT/<model>/results_<timestamp>.json`` and one ``samples_<task>_<timestamp>.jsonl`` per task.
``xllm score``, ``xllm judge`` and ``xllm compare`` write ``xllm_scores_<ts>.json``,
``judge_qa_<ts>.json``, ``judge_pairwise_<ts>.json`` and ``compare_<ts>.json`` beside them
(their readers and writers: :mod:`~xllm_harness.results.scores`, :mod:`~xllm_harness.results.judge_files`,
:mod:`~xllm_harness.results.reports`).

Rules every command shares (``score``, ``judge``, ``leaderboard``, ``compare``, ``scaling_law``):

- **runs**: lm-eval stamps the results and samples files of one run with one timestamp and writes
  every run of a model into one folder; a samples file belongs to the results file of its timestamp
  (:class:`Run`), and a samples file is checked against the ``n-samples`` that file records.
- **newest**: of several files of one kind (and task), the one with the latest timestamp in its name
  (lm-eval's ``%Y-%m-%dT%H-%M-%S.%f``); equal timestamps are ordered by path. Never mtime.
- **response**: the model's answer in a sample line is its first filtered response.
- **model identity**: lm-eval's ``model`` (type) and full ``model_args``, from ``config`` of a
  results file; :func:`model_identity`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xllm_harness.errors import InputError, MissingFileError
from xllm_harness.results.jsonio import is_int, read_jsonl, read_text

TIMESTAMP = r"\d{4}-\d{2}-\d{2}T[0-9.\-]+"
STAMPED_RE = re.compile(rf"^(?P<kind>.+?)_(?P<ts>{TIMESTAMP})\.(?P<ext>jsonl?)$")
SAMPLES_RE = re.compile(rf"^samples_(?P<task>.+)_(?P<ts>{TIMESTAMP})\.jsonl$")
RESULTS_RE = re.compile(rf"^results_(?P<ts>{TIMESTAMP})\.json$")
OUR_KINDS = ("xllm_scores", "judge_qa", "judge_pairwise", "compare")
"""The result files xllm-harness writes beside lm-eval's (``<kind>_<timestamp>.json``)."""
OUTCOMES = ("win", "tie", "loss")
"""The outcomes of a pairwise judgement, from system A's side (``judge_pairwise_*`` files)."""
MISSING_PREFIX = "missing: "
"""A ``<metric>_signature`` value that starts so records the metric as not computed, with the reason."""


def file_timestamp(path: str | Path) -> str:
    """The timestamp in a stamped file name (``results_<ts>.json``, ``samples_<task>_<ts>.jsonl``...), or ``""``."""
    match = STAMPED_RE.match(Path(path).name)
    return match["ts"] if match else ""


def newest(paths: Iterable[Path]) -> Path | None:
    """The newest of ``paths`` by the timestamp in their names (ties: the later path)."""
    ordered = sorted((file_timestamp(p), str(p), Path(p)) for p in paths)
    return ordered[-1][2] if ordered else None


def _require_folder(folder: str | Path, what: str) -> Path:
    folder = Path(folder)
    if not folder.is_dir():
        raise MissingFileError(f"{folder}: not a folder (expected {what})")
    return folder


def sample_files(folder: str | Path, recursive: bool = True) -> dict[str, Path]:
    """The newest samples file of each task under ``folder``."""
    folder = _require_folder(folder, "an lm-eval --output_path written with --log_samples")
    by_task: dict[str, list[Path]] = {}
    for path in folder.rglob("samples_*.jsonl") if recursive else folder.glob("samples_*.jsonl"):
        match = SAMPLES_RE.match(path.name)
        if match:
            by_task.setdefault(match["task"], []).append(path)
    if not by_task:
        raise MissingFileError(
            f"{folder}: no samples_<task>_<date>.jsonl files; run lm_eval / xllm eval with "
            "--output_path and --log_samples"
        )
    return {task: newest(paths) for task, paths in sorted(by_task.items())}  # type: ignore[misc]


def sample_folders(folder: str | Path) -> list[Path]:
    """The folders under (or equal to) ``folder`` that hold samples files (one per evaluated model)."""
    sample_files(folder)  # the one message when there are none
    return sorted({p.parent for p in Path(folder).rglob("samples_*.jsonl") if SAMPLES_RE.match(p.name)})


class IncompleteSamples(InputError):
    """A samples file whose documents do not match the count its results file records (cut short)."""


SAMPLES_SHAPE = "an lm-eval --log_samples line: {'doc_id': int, 'doc': {...}, 'filtered_resps': [...], ...}"


def _check_sample(path: Path, number: int, record: Any) -> dict[str, Any]:
    """One samples line of the shape the project reads, else an error naming ``path:line`` and the field."""
    where = f"{path}:{number}"
    if not isinstance(record, dict):
        raise InputError(f"{where}: a JSON {type(record).__name__}, expected {SAMPLES_SHAPE}")
    for name in ("doc_id", "doc", "filtered_resps"):
        if name not in record:
            raise InputError(f"{where}: no {name!r}; not {SAMPLES_SHAPE}")
    if not is_int(record["doc_id"]) or record["doc_id"] < 0:
        raise InputError(f"{where}: 'doc_id' is {record['doc_id']!r}, expected a document number (int >= 0)")
    if not isinstance(record["doc"], dict):
        raise InputError(f"{where}: 'doc' is a {type(record['doc']).__name__}, expected the document object")
    if not isinstance(record.get("filter", "none"), str):
        raise InputError(f"{where}: 'filter' is {record['filter']!r}, expected the lm-eval filter's name")
    return record


def read_sample_lines(path: Path) -> list[dict[str, Any]]:
    """The sample lines of one file (each with ``doc`` and ``doc_id``), ordered by ``doc_id``.

    Every line is checked (:func:`_check_sample`); a ``doc_id`` twice under one filter is refused; the
    documents per filter must be the ``n-samples`` its run's results file records (else
    :class:`IncompleteSamples`: a file cut short is never read as whole).
    """
    path = Path(path)
    lines = []
    seen: dict[tuple[str, int], int] = {}
    for number, record in read_jsonl(path):
        record = _check_sample(path, number, record)
        key = (record.get("filter", "none"), record["doc_id"])
        if key in seen:
            raise InputError(
                f"{path}:{number}: doc_id {record['doc_id']} twice (first on line {seen[key]}); "
                "a samples file holds each document once: rerun the task"
            )
        seen[key] = number
        lines.append(record)
    _check_count(path, lines)
    return sorted(lines, key=lambda r: r["doc_id"])


def _check_count(path: Path, lines: list[dict[str, Any]]) -> None:
    match = SAMPLES_RE.match(path.name)
    results = path.parent / f"results_{match['ts']}.json" if match else None
    if results is None or not results.is_file():
        return
    expected = effective_samples(read_results(results), match["task"])
    if expected is None:
        return
    per_filter: dict[str, int] = {}
    for line in lines:
        name = line.get("filter", "none")
        per_filter[name] = per_filter.get(name, 0) + 1
    for name, count in sorted(per_filter.items()) or [("none", 0)]:
        if count != expected:
            what = "incomplete" if count < expected else "inconsistent"
            raise IncompleteSamples(
                f"{path}: {what}: {count} documents (filter {name}) but its run's {results.name} records "
                f"n-samples {expected} for {match['task']}; the run was cut short: rerun the task"
            )


def effective_samples(results: dict[str, Any], task: str) -> int | None:
    """The documents lm-eval evaluated for ``task`` (``n-samples``' ``effective``), if recorded."""
    entry = (results.get("n-samples") or {}).get(task)
    return entry["effective"] if isinstance(entry, dict) and "effective" in entry else None


def results_files(folder: str | Path, recursive: bool = True) -> list[Path]:
    """Every lm-eval ``results_<ts>.json`` under ``folder`` (or ``[folder]`` if it is one), oldest first."""
    folder = Path(folder)
    if folder.is_file():
        return [folder]
    folder = _require_folder(folder, "an lm-eval --output_path")
    found = [
        p for p in (folder.rglob if recursive else folder.glob)("results_*.json") if RESULTS_RE.match(p.name)
    ]
    return sorted(found, key=lambda p: (file_timestamp(p), str(p)))


def newest_results(folder: str | Path) -> Path:
    """The newest ``results_*.json`` under ``folder`` (or ``folder`` itself if it is a file)."""
    files = results_files(folder)
    if not files:
        raise MissingFileError(
            f"{folder}: no lm-eval results_<date>.json; run lm_eval / xllm eval with --output_path"
        )
    return files[-1]


RESULTS_SHAPE = "expected a JSON object with 'results': {task: {'metric,filter': value}}, 'config': {...}"


def read_results(path: str | Path) -> dict[str, Any]:
    """An lm-eval results file, every field the project reads checked (else an error naming file and field).

    Checked: ``results`` maps tasks to objects; ``config`` (if present) an object whose ``model`` is a
    string and ``model_args`` a string or object; ``model_name`` a string; ``n-samples`` maps tasks to
    ``{"original": int, "effective": int}`` with ``effective`` at most ``original``.
    """
    path = Path(path)
    stat = _stat(path)
    cached = _RESULTS_CACHE.get(str(path))
    if cached is not None and cached[0] == stat:
        return cached[1]
    text = read_text(path, "lm-eval results file")
    try:
        data = json.loads(text)
    except ValueError as err:
        raise InputError(f"{path}: not valid JSON ({err})") from None
    _check_results(path, data)
    _RESULTS_CACHE[str(path)] = (stat, data)
    return data


_RESULTS_CACHE: dict[str, tuple[tuple[int, int], dict[str, Any]]] = {}


def _stat(path: Path) -> tuple[int, int]:
    try:
        found = path.stat()
    except FileNotFoundError:
        raise MissingFileError(f"lm-eval results file {path} not found") from None
    except OSError as err:
        raise InputError(f"{path}: cannot read ({err.strerror or err})") from None
    return (found.st_mtime_ns, found.st_size)


def _check_results(path: Path, data: Any) -> None:
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
        raise InputError(f"{path}: not an lm-eval results file ({RESULTS_SHAPE})")
    for task, values in data["results"].items():
        if not isinstance(values, dict):
            raise InputError(f"{path}: field results.{task} is a {type(values).__name__}, expected an object")
    config = data.get("config", {})
    if config is not None and not isinstance(config, dict):
        raise InputError(f"{path}: field config is a {type(config).__name__}, expected an object")
    config = config or {}
    if config.get("model") is not None and not isinstance(config["model"], str):
        raise InputError(f"{path}: field config.model is {config['model']!r}, expected lm-eval's model type")
    if config.get("model_args") is not None and not isinstance(config["model_args"], (str, dict)):
        raise InputError(f"{path}: field config.model_args is {config['model_args']!r}, expected a string")
    if data.get("model_name") is not None and not isinstance(data["model_name"], str):
        raise InputError(f"{path}: field model_name is {data['model_name']!r}, expected a string")
    counts = data.get("n-samples", {})
    if not isinstance(counts, dict):
        raise InputError(f"{path}: field n-samples is a {type(counts).__name__}, expected {{task: {{...}}}}")
    for task, entry in counts.items():
        where = f"{path}: field n-samples.{task}"
        if not isinstance(entry, dict):
            raise InputError(f"{where} is {entry!r}, expected {{'original': int, 'effective': int}}")
        for key in ("original", "effective"):
            if key in entry and (not is_int(entry[key]) or entry[key] < 0):
                raise InputError(f"{where}.{key} is {entry[key]!r}, expected a count of documents")
        if (
            is_int(entry.get("original"))
            and is_int(entry.get("effective"))
            and entry["effective"] > entry["original"]
        ):
            raise InputError(f"{where}: effective {entry['effective']} > original {entry['original']}")


@dataclass(frozen=True)
class Missing:
    """A metric recorded as not computed, with the reason (instead of a number)."""

    reason: str


def metric_entry(values: dict[str, Any], metric: str, filter_name: str = "none") -> float | Missing | None:
    """A metric of one task's results: its number, :class:`Missing` (recorded without a number), or ``None``.

    A metric that could not be computed has ``"<metric>_signature,<filter>": "missing: <reason>"``
    (:data:`MISSING_PREFIX`) and no number, or ``NaN`` (it failed when lm-eval aggregated it). ``null``,
    a string or ``{"missing": reason}`` in place of the number are read as missing too.
    """
    signature = _signature_value(values, metric, filter_name)
    reason = signature[len(MISSING_PREFIX) :] if signature.startswith(MISSING_PREFIX) else None
    for key in (f"{metric},{filter_name}", metric):
        if key not in values:
            continue
        value = values[key]
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return Missing(reason) if reason else float(value)
        if isinstance(value, dict):
            reason = reason or value.get("missing") or value.get("reason") or value.get("error")
        elif isinstance(value, str) and value.strip():
            reason = reason or value
        return Missing(str(reason) if reason else f"recorded as {value!r}, not a number")
    return Missing(reason) if reason else None


def _signature_value(values: dict[str, Any], metric: str, filter_name: str) -> str:
    value = values.get(f"{metric}_signature,{filter_name}", values.get(f"{metric}_signature"))
    return value if isinstance(value, str) else ""


def metric_value(values: dict[str, Any], metric: str, filter_name: str = "none") -> float | None:
    """A metric from one task's results (``"f1,none"`` or plain ``"f1"``); ``None`` if absent or not a number."""
    entry = metric_entry(values, metric, filter_name)
    return entry if isinstance(entry, float) else None


def metric_signature(values: dict[str, Any], metric: str, filter_name: str = "none") -> str:
    """The signature recorded beside a metric (``<metric>_signature``), or ``""`` (also when it is missing)."""
    signature = _signature_value(values, metric, filter_name)
    return "" if signature.startswith(MISSING_PREFIX) else signature


@dataclass(frozen=True)
class ModelIdentity:
    """Which model a result belongs to: lm-eval's model type and its full ``model_args``."""

    model: str
    """lm-eval's model type (``hf``, ``vllm``...)."""
    model_args: str
    """The full ``model_args`` string as lm-eval recorded it (``pretrained=/a/tiny,dtype=float32``)."""
    pretrained: str
    """The ``pretrained=`` (or ``model=``) value, or lm-eval's ``model_name``."""
    settings: str = ""
    """The run's evaluation settings that change its numbers beyond the model (``num_fewshot=5``: the
    few-shot count given on lm-eval's command line), empty for the tasks' own settings."""

    @property
    def key(self) -> str:
        """A stable identity: two results are of the same model and settings exactly when their keys
        are equal. Without ``model``/``model_args`` (a file that names its model only), the name is the
        identity."""
        if self.model or self.model_args:
            return f"{self.model}|{self.model_args}" + (f"|{self.settings}" if self.settings else "")
        return f"name|{self.pretrained}"

    def to_dict(self) -> dict[str, str]:
        """The ``{"model": ..., "model_args": ...}`` form xllm-harness writes into its result files
        (with ``"settings"`` when the run had any)."""
        out = {"model": self.model, "model_args": self.model_args}
        if self.settings:
            out["settings"] = self.settings
        return out


def _args_string(args: Any) -> str:
    if isinstance(args, dict):
        return ",".join(f"{k}={v}" for k, v in args.items())
    return str(args or "")


def identity_from(model: Any, model_args: Any, name: Any = None, settings: Any = "") -> ModelIdentity:
    """A :class:`ModelIdentity` from lm-eval's model type, ``model_args`` (str or dict), a fallback name
    and the run's settings."""
    args = _args_string(model_args)
    match = re.search(r"(?:^|,)(?:pretrained|model)=([^,]+)", args)
    pretrained = match.group(1) if match else str(name or "")
    return ModelIdentity(str(model or ""), args, pretrained, str(settings or ""))


def run_settings(config: dict[str, Any]) -> str:
    """The settings of an lm-eval run's ``config`` that make its numbers differ from another run of the
    same model (see :attr:`ModelIdentity.settings`); ``--limit`` is not one: a limited run is the same
    evaluation on fewer items, said where it replaces a larger one."""
    shots = config.get("num_fewshot")
    return "" if shots is None else f"num_fewshot={shots}"


def named_identity(name: str) -> ModelIdentity:
    """The identity of a result that names its model only (older judge files, ``--a-name``)."""
    return ModelIdentity("", "", str(name))


def model_identity(results: dict[str, Any]) -> ModelIdentity:
    """The :class:`ModelIdentity` recorded in an lm-eval results file."""
    config = results.get("config") or {}
    return identity_from(
        config.get("model"), config.get("model_args"), results.get("model_name"), run_settings(config)
    )


def recorded_identity(record: Any) -> ModelIdentity | None:
    """The identity in an xllm-harness file's ``{"model": ..., "model_args": ...}`` record, if well formed."""
    if isinstance(record, dict) and isinstance(record.get("model"), str) and "model_args" in record:
        return identity_from(record["model"], record["model_args"], settings=record.get("settings", ""))
    return None


def folder_identity(folder: str | Path, recursive: bool = True) -> ModelIdentity | None:
    """The identity in the newest readable ``results_*.json`` under ``folder`` (``None`` if there is none).

    ``recursive=False``: only a results file directly in ``folder`` (the model a file beside it belongs to).
    """
    folder = Path(folder)
    for path in reversed(results_files(folder, recursive) if folder.is_dir() else []):
        try:
            return model_identity(read_results(path))
        except (InputError, MissingFileError):
            continue
    return None


def samples_of_results(results_path: Path) -> dict[str, Path]:
    """The samples files lm-eval wrote with ``results_path`` (same folder, same timestamp), by task."""
    stamp = file_timestamp(results_path)
    out = {}
    for path in Path(results_path).parent.glob(f"samples_*_{stamp}.jsonl"):
        match = SAMPLES_RE.match(path.name)
        if match and match["ts"] == stamp:
            out[match["task"]] = path
    return out


def stamped_files(folder: str | Path, kind: str) -> list[Path]:
    """Every ``<kind>_<timestamp>.json`` under ``folder`` (one of :data:`OUR_KINDS`), oldest first."""
    if kind not in OUR_KINDS:
        raise ValueError(f"unknown result kind {kind!r}; one of {OUR_KINDS}")
    folder = Path(folder)
    candidates = [folder] if folder.is_file() else folder.rglob(f"{kind}_*.json")
    found = [p for p in candidates if (m := STAMPED_RE.match(p.name)) and m["kind"] == kind]
    return sorted(found, key=lambda p: (file_timestamp(p), str(p)))


def model_name(identity: ModelIdentity | None, folder: str | Path) -> str:
    """The one rule for a model's name in our files: its ``pretrained`` path, else its folder's name."""
    return identity.pretrained if identity and identity.pretrained else Path(folder).resolve().name


# --- runs: a results file and the samples files lm-eval wrote with it --------------------------------


@dataclass(frozen=True)
class Run:
    """One lm-eval run of one model: ``results_<ts>.json`` and its ``samples_<task>_<ts>.jsonl`` files.

    lm-eval stamps every file of one run with the same timestamp, and writes every run of a model into
    the same folder; samples files are attributed to their run by that timestamp, never by recency.
    Samples files without a results file of their timestamp form a run of their own (``results`` None).
    """

    folder: Path
    timestamp: str
    results: Path | None
    samples: dict[str, Path]

    def identity(self) -> ModelIdentity | None:
        """The model (and settings) this run's results file records (``None``: no results file)."""
        return model_identity(read_results(self.results)) if self.results is not None else None

    def model_name(self) -> str:
        """The run's model name by the one naming rule (:func:`model_name`)."""
        return model_name(self.identity(), self.folder)

    def describe(self) -> str:
        """``<ts> (results_<ts>.json: task, task...)``: how a message names the run."""
        source = self.results.name if self.results else "no results file"
        return f"{self.timestamp} ({source}: {', '.join(sorted(self.samples)) or 'no samples'})"


def runs_in(model_dir: str | Path) -> list[Run]:
    """The runs with samples files directly in ``model_dir``, oldest first."""
    folder = _require_folder(model_dir, "an lm-eval model folder")
    by_stamp: dict[str, dict[str, Path]] = {}
    for path in folder.glob("samples_*.jsonl"):
        match = SAMPLES_RE.match(path.name)
        if match:
            by_stamp.setdefault(match["ts"], {})[match["task"]] = path
    results = {file_timestamp(p): p for p in results_files(folder, recursive=False)}
    return [
        Run(folder, ts, results.get(ts), dict(sorted(tasks.items())))
        for ts, tasks in sorted(by_stamp.items())
    ]


def run_of(results_path: str | Path) -> Run:
    """The run of one ``results_<ts>.json`` (its samples files: same folder, same timestamp)."""
    path = Path(results_path)
    if not RESULTS_RE.match(path.name):
        raise InputError(f"{path}: not an lm-eval results_<timestamp>.json file")
    if not path.is_file():
        raise MissingFileError(f"lm-eval results file {path} not found")
    return Run(path.parent, file_timestamp(path), path, dict(sorted(samples_of_results(path).items())))


def choose_run(path: str | Path, stamp: str | None, option: str, side: str) -> Run:
    """The one run ``path`` designates: a ``results_<ts>.json``, or a model folder holding one run, or
    the run ``stamp`` (``option``'s value: a timestamp or results file name) among several.

    A folder of several runs without ``stamp`` is an error naming them: their numbers would mix.
    """
    path = Path(path)
    if path.is_file():
        run = run_of(path)
    else:
        folders = sample_folders(path)
        if len(folders) > 1:
            listing = ", ".join(str(p) for p in folders)
            raise InputError(
                f"{side} {path} holds the samples of several models ({listing}); give one of them"
            )
        runs = runs_in(folders[0])
        wanted = [r for r in runs if stamp in (r.timestamp, r.results.name if r.results else None)]
        if stamp is not None and not wanted:
            found = "; ".join(r.describe() for r in runs)
            raise InputError(
                f"{option} {stamp}: no run of that timestamp in {folders[0]}; runs found: {found}"
            )
        if stamp is None and len(runs) > 1:
            found = "; ".join(r.describe() for r in runs)
            raise InputError(
                f"{side} {folders[0]} holds {len(runs)} runs, whose numbers must not mix: {found}; choose one "
                f"with {option} TIMESTAMP or give its results_<timestamp>.json"
            )
        run = wanted[0] if wanted else runs[0]
    if not run.samples:
        raise MissingFileError(
            f"{run.results}: no samples_<task>_{run.timestamp}.jsonl beside it; run with --log_samples"
        )
    return run


@dataclass(frozen=True)
class RunGroup:
    """The runs of one model folder made with one configuration (model, ``model_args``, ``limit``):
    their samples may be read together (the newest file of each task); other configurations never."""

    identity: ModelIdentity | None
    limit: Any
    runs: tuple[Run, ...]

    @property
    def samples(self) -> dict[str, Path]:
        """The newest samples file of each task among the group's runs."""
        out: dict[str, Path] = {}
        for run in self.runs:  # oldest first: newer runs replace
            out.update(run.samples)
        return dict(sorted(out.items()))


def run_groups(model_dir: str | Path) -> list[RunGroup]:
    """The runs of ``model_dir`` grouped by configuration (lm-eval's model, ``model_args`` and
    ``limit`` in each run's results file); samples files without one form a group of their own."""
    groups: dict[str, list[Run]] = {}
    meta: dict[str, tuple[ModelIdentity | None, Any]] = {}
    for run in runs_in(model_dir):
        identity, limit = None, None
        if run.results is not None:
            data = read_results(run.results)
            identity, limit = model_identity(data), (data.get("config") or {}).get("limit")
        key = json.dumps([identity.key if identity else None, limit], default=str)
        groups.setdefault(key, []).append(run)
        meta[key] = (identity, limit)
    return [RunGroup(*meta[key], tuple(runs)) for key, runs in groups.items()]
