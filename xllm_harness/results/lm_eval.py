"""The one reader of lm-eval output folders, and of the files xllm-harness writes beside them.

lm-eval (and ``xllm eval``) with ``--output_path OUT --log_samples`` writes, per model,
``OUT/<model>/results_<timestamp>.json`` and one ``samples_<task>_<timestamp>.jsonl`` per task.
``xllm score``, ``xllm judge`` and ``xllm compare`` write ``xllm_scores_<ts>.json``,
``judge_qa_<ts>.json``, ``judge_pairwise_<ts>.json`` and ``compare_<ts>.json`` beside them.

Rules every command shares (``score``, ``judge``, ``leaderboard``, ``compare``, ``scaling_law``):

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
from xllm_harness.results.jsonio import read_jsonl

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


def read_sample_lines(path: Path) -> list[dict[str, Any]]:
    """The sample lines of one file (each with ``doc`` and ``doc_id``), ordered by ``doc_id``."""
    lines = []
    for number, record in read_jsonl(path):
        if not isinstance(record, dict) or "doc" not in record or "doc_id" not in record:
            raise InputError(
                f"{path}:{number}: not an lm-eval --log_samples line; expected JSON with 'doc', "
                "'doc_id' and 'filtered_resps'"
            )
        lines.append(record)
    return sorted(lines, key=lambda r: r["doc_id"])


def response(record: dict[str, Any]) -> str:
    """The model's (filtered) generation of one sample line."""
    filtered = record.get("filtered_resps")
    if filtered:
        first = filtered[0]
        return first if isinstance(first, str) else str(first[0])
    resps = record.get("resps") or [[""]]
    return str(resps[0][0]) if resps[0] else ""


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


def read_results(path: str | Path) -> dict[str, Any]:
    """An lm-eval results file: a JSON object with a ``results`` mapping (else an error naming the file)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise MissingFileError(f"{path}: cannot read ({err.strerror})") from None
    except ValueError as err:
        raise InputError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
        raise InputError(
            f"{path}: not an lm-eval results file (expected a JSON object with 'results': {{task: ...}})"
        )
    return data


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

    @property
    def key(self) -> str:
        """A stable identity: two results are of the same model exactly when their keys are equal.

        Without ``model``/``model_args`` (a file that names its model only), the name is the identity.
        """
        if self.model or self.model_args:
            return f"{self.model}|{self.model_args}"
        return f"name|{self.pretrained}"

    def to_dict(self) -> dict[str, str]:
        """The ``{"model": ..., "model_args": ...}`` form xllm-harness writes into its result files."""
        return {"model": self.model, "model_args": self.model_args}


def _args_string(args: Any) -> str:
    if isinstance(args, dict):
        return ",".join(f"{k}={v}" for k, v in args.items())
    return str(args or "")


def identity_from(model: Any, model_args: Any, name: Any = None) -> ModelIdentity:
    """A :class:`ModelIdentity` from lm-eval's model type, ``model_args`` (str or dict) and a fallback name."""
    args = _args_string(model_args)
    match = re.search(r"(?:^|,)(?:pretrained|model)=([^,]+)", args)
    pretrained = match.group(1) if match else str(name or "")
    return ModelIdentity(str(model or ""), args, pretrained)


def named_identity(name: str) -> ModelIdentity:
    """The identity of a result that names its model only (older judge files, ``--a-name``)."""
    return ModelIdentity("", "", str(name))


def model_identity(results: dict[str, Any]) -> ModelIdentity:
    """The :class:`ModelIdentity` recorded in an lm-eval results file."""
    config = results.get("config") or {}
    return identity_from(config.get("model"), config.get("model_args"), results.get("model_name"))


def recorded_identity(record: Any) -> ModelIdentity | None:
    """The identity in an xllm-harness file's ``{"model": ..., "model_args": ...}`` record, if well formed."""
    if isinstance(record, dict) and isinstance(record.get("model"), str) and "model_args" in record:
        return identity_from(record["model"], record["model_args"])
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


def results_for_samples(model_dir: Path, timestamps: Iterable[str]) -> Path | None:
    """lm-eval's results file written with samples of ``timestamps`` (same timestamp), else the newest."""
    by_stamp = {file_timestamp(p): p for p in results_files(model_dir, recursive=False)}
    if not by_stamp:
        return None
    for stamp in sorted(timestamps, reverse=True):
        if stamp in by_stamp:
            return by_stamp[stamp]
    return by_stamp[max(by_stamp)]


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


def judge_verdicts(judge_file: str | Path) -> dict[str, tuple[list[Any], list[float]]]:
    """Per task, the doc ids and 0/1 verdicts of ``judge_qa_<ts>.details.jsonl`` beside ``judge_file``.

    Items without a verdict (unparseable replies, failed requests) are left out, as the accuracy does;
    ``{}`` when there is no details file.
    """
    details = Path(judge_file).with_suffix(".details.jsonl")
    if not details.is_file():
        return {}
    out: dict[str, tuple[list[Any], list[float]]] = {}
    for number, record in read_jsonl(details):
        if not isinstance(record, dict) or "task" not in record or "doc_id" not in record:
            raise InputError(
                f"{details}:{number}: expected a judge detail with 'task', 'doc_id' and 'verdict'"
            )
        verdict = record.get("verdict")
        if verdict in ("YES", "NO"):
            ids, values = out.setdefault(str(record["task"]), ([], []))
            ids.append(record["doc_id"])
            values.append(1.0 if verdict == "YES" else 0.0)
    return out


def pairwise_outcomes(judge_file: str | Path) -> dict[str, list[str]]:
    """Per language, the win/tie/loss outcome of every scored item in ``judge_pairwise_<ts>.details.jsonl``.

    Items without an outcome (failed or unparseable) are left out, as the counts do; ``{}`` without details.
    """
    details = Path(judge_file).with_suffix(".details.jsonl")
    if not details.is_file():
        return {}
    out: dict[str, list[str]] = {}
    for number, record in read_jsonl(details):
        if not isinstance(record, dict) or "lang" not in record:
            raise InputError(f"{details}:{number}: expected a judge detail with 'lang' and 'outcome'")
        if record.get("outcome") in OUTCOMES:
            out.setdefault(str(record["lang"]), []).append(record["outcome"])
    return out


def recorded_model_name(folder: str | Path) -> str:
    """The model name lm-eval recorded in the newest ``results_*.json`` under ``folder``, else its name."""
    identity = folder_identity(folder)
    return identity.pretrained if identity and identity.pretrained else Path(folder).resolve().name
