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
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xllm_harness.errors import InputError, MissingFileError
from xllm_harness.jsonio import read_jsonl

TIMESTAMP = r"\d{4}-\d{2}-\d{2}T[0-9.\-]+"
STAMPED_RE = re.compile(rf"^(?P<kind>.+?)_(?P<ts>{TIMESTAMP})\.(?P<ext>jsonl?)$")
SAMPLES_RE = re.compile(rf"^samples_(?P<task>.+)_(?P<ts>{TIMESTAMP})\.jsonl$")
RESULTS_RE = re.compile(rf"^results_(?P<ts>{TIMESTAMP})\.json$")
OUR_KINDS = ("xllm_scores", "judge_qa", "judge_pairwise", "compare")
"""The result files xllm-harness writes beside lm-eval's (``<kind>_<timestamp>.json``)."""


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


def sample_timestamp(path: Path) -> str:
    """lm-eval's timestamp in a samples file name (``""`` if the name is not lm-eval's)."""
    match = SAMPLES_RE.match(Path(path).name)
    return match["ts"] if match else ""


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


def metric_value(values: dict[str, Any], metric: str, filter_name: str = "none") -> float | None:
    """A metric from one task's results (``"f1,none"`` or plain ``"f1"``); ``None`` if absent or not a number."""
    for key in (f"{metric},{filter_name}", metric):
        value = values.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None


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
        """A stable identity: two results are of the same model exactly when their keys are equal."""
        return f"{self.model}|{self.model_args}"


def _args_string(args: Any) -> str:
    if isinstance(args, dict):
        return ",".join(f"{k}={v}" for k, v in args.items())
    return str(args or "")


def model_identity(results: dict[str, Any]) -> ModelIdentity:
    """The :class:`ModelIdentity` recorded in an lm-eval results file."""
    config = results.get("config") or {}
    args = _args_string(config.get("model_args"))
    match = re.search(r"(?:^|,)(?:pretrained|model)=([^,]+)", args)
    pretrained = match.group(1) if match else str(results.get("model_name") or "")
    return ModelIdentity(str(config.get("model") or ""), args, pretrained)


def recorded_model_name(folder: str | Path) -> str:
    """The model name lm-eval recorded in the newest ``results_*.json`` under ``folder``, else its name."""
    files = results_files(folder) if Path(folder).is_dir() else []
    for path in reversed(files):
        try:
            name = json.loads(path.read_text(encoding="utf-8")).get("model_name")
        except (OSError, ValueError, AttributeError):
            continue
        if name:
            return str(name)
    return Path(folder).resolve().name
