"""FLORES-101 translation documents for lm-eval: loading, prompting, and corpus-level scoring.

Referenced from ``tasks/flores_xllm/`` (``custom_dataset``, ``process_results`` and the
``aggregation`` functions). Each direction ``flores_xllm_{src}-{tgt}`` scores the devtest split and
draws few-shot examples from dev. The prompt is x-LLM's test prompt inside the Alpaca wrapper:
``Translate the following sentences from {source} to {target}.`` with the source sentence as input.

Options (lm-eval ``--metadata`` JSON, or the environment variable in brackets):

- ``language_names`` (``XLLM_FLORES_LANGUAGE_NAMES``): ``english`` (default, "Greek") or ``iso639``
  (x-LLM's spelling from the ``iso-639`` package, "Modern Greek (1453-)").
- ``metrics`` (``XLLM_FLORES_METRICS``): corpus metrics computed inside lm-eval, default
  ``spbleu,chrf``. ``comet`` and ``bleurt`` are opt-in here, because they load a second model next to
  the evaluated one; ``xllm score`` computes them afterwards from ``--log_samples`` output.
- ``comet_model`` (``XLLM_COMET_MODEL``), ``bleurt_model`` (``XLLM_BLEURT_MODEL``): metric model id
  or local path.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xllm_harness.data import resolve
from xllm_harness.errors import InputError, UnknownNameError
from xllm_harness.languages import Language, get_language
from xllm_harness.metrics import MetricResult, get_metrics
from xllm_harness.prompts import alpaca_prompt

INSTRUCTION = "Translate the following sentences from {source} to {target}."
TEST_SPLIT = "devtest"
FEWSHOT_SPLIT = "dev"
LANGUAGE_NAME_STYLES = ("english", "iso639")
DEFAULT_TASK_METRICS = ("spbleu", "chrf")
TASK_METRICS = ("spbleu", "chrf", "comet", "bleurt")
"""Metrics the task YAML declares an aggregation for (each also gets a ``<name>_signature``)."""
PIVOT = "en"


def language_name(lang: Language, style: str = "english") -> str:
    """The name used in the prompt: plain English (default) or x-LLM's ``iso-639`` spelling."""
    if style not in LANGUAGE_NAME_STYLES:
        raise InputError(f"language_names={style!r}: use one of {', '.join(LANGUAGE_NAME_STYLES)}")
    if style == "iso639":
        return lang.iso639_name or lang.name
    return lang.name


def translation_prompt(source: Language, target: Language, sentence: str, names: str = "english") -> str:
    """x-LLM's test-time translation prompt in the Alpaca wrapper."""
    instruction = INSTRUCTION.format(source=language_name(source, names), target=language_name(target, names))
    return alpaca_prompt(instruction, sentence.strip())


def flores_tasks(lang: Language) -> list[tuple[str, dict[str, Any]]]:
    """The two directions (en→X, X→en) a language with a ``flores`` location gets (TaskFamily hook)."""
    if not lang.flores or lang.code == PIVOT:
        return []
    return [
        (f"flores_xllm_{src}-{tgt}", {"dataset_kwargs": {"src": src, "tgt": tgt}})
        for src, tgt in ((PIVOT, lang.code), (lang.code, PIVOT))
    ]


def read_lines(path: Path) -> list[str]:
    """One sentence per line (FLORES ``<code>.<split>`` files), trailing newline ignored."""
    text = Path(path).read_text(encoding="utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _flores_path(lang: Language, split: str) -> Path:
    if not lang.flores:
        raise InputError(f"Language {lang.code!r} declares no flores location (Language.flores)")
    return resolve(lang.flores, split=split)


def _option(metadata: dict[str, Any], key: str, env: str, default: Any) -> Any:
    value = metadata.get(key)
    if value is None:
        value = os.environ.get(env) or default
    return value


def parse_metrics(value: str | Sequence[str]) -> list[str]:
    """``"spbleu,chrf,comet"`` or a list → validated metric names for the task route."""
    names = (
        [m.strip() for m in value.split(",")] if isinstance(value, str) else [str(m).strip() for m in value]
    )
    names = [m for m in names if m]
    unknown = [m for m in names if m not in TASK_METRICS]
    if unknown or not names:
        raise InputError(
            f"FLORES task option metrics={value!r}: unknown {unknown or 'empty list'}; choose from "
            f'{", ".join(TASK_METRICS)} (--metadata \'{{"metrics": "spbleu,chrf,comet"}}\' or XLLM_FLORES_METRICS)'
        )
    return list(dict.fromkeys(names))


def build_docs(src: str, tgt: str, split: str, names: str = "english") -> list[dict[str, Any]]:
    """The documents of one direction and split (line-aligned FLORES files)."""
    source, target = get_language(src), get_language(tgt)
    src_path, tgt_path = _flores_path(source, split), _flores_path(target, split)
    src_lines, tgt_lines = read_lines(src_path), read_lines(tgt_path)
    if len(src_lines) != len(tgt_lines):
        raise InputError(
            f"FLORES files are not parallel: {src_path} has {len(src_lines)} lines, {tgt_path} has "
            f"{len(tgt_lines)}; re-fetch with `xllm data fetch flores101 --force`."
        )
    return [
        {
            "id": i,
            "src_lang": src,
            "tgt_lang": tgt,
            "source": s,
            "target": t,
            "prompt": translation_prompt(source, target, s, names),
        }
        for i, (s, t) in enumerate(zip(src_lines, tgt_lines, strict=True))
    ]


def load_dataset(src: str, tgt: str, **metadata: Any):
    """lm-eval ``custom_dataset``: devtest (scored) and dev (few-shot) of ``src``→``tgt``.

    Receives ``--metadata`` values; the scoring options are stored in every document so that
    ``process_results`` and the aggregations (which only see documents) can honour them.
    """
    import datasets

    names = str(_option(metadata, "language_names", "XLLM_FLORES_LANGUAGE_NAMES", "english")).lower()
    language_name(get_language(src), names)  # validates the option
    metrics = parse_metrics(
        _option(metadata, "metrics", "XLLM_FLORES_METRICS", ",".join(DEFAULT_TASK_METRICS))
    )
    options = {
        "metrics": ",".join(metrics),
        "comet_model": str(_option(metadata, "comet_model", "XLLM_COMET_MODEL", "")),
        "bleurt_model": str(_option(metadata, "bleurt_model", "XLLM_BLEURT_MODEL", "")),
    }
    splits = {}
    for split in (TEST_SPLIT, FEWSHOT_SPLIT):
        splits[split] = datasets.Dataset.from_list(
            [{**doc, **options} for doc in build_docs(src, tgt, split, names)]
        )
    return datasets.DatasetDict(splits)


def clean_hypothesis(text: str) -> str:
    """The generated translation as scored: surrounding whitespace removed."""
    return text.strip()


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    """lm-eval ``process_results``: one corpus item per enabled metric (and its signature)."""
    item = {
        "hyp": clean_hypothesis(results[0]),
        "ref": doc["target"],
        "src": doc["source"],
        "lang": doc["tgt_lang"],
        "model": "",
    }
    out: dict[str, Any] = {}
    for name in doc["metrics"].split(","):
        model = doc.get(f"{name}_model", "") if name in ("comet", "bleurt") else ""
        out[name] = {**item, "model": model}
        out[f"{name}_signature"] = {"model": model}  # signatures do not depend on the segments
    return out


# --- corpus-level aggregation -----------------------------------------------------------------

_MEMO: dict[str, MetricResult] = {}
_LAST: dict[tuple[str, str], MetricResult] = {}


def make_metric(name: str, model: str = "", **kwargs: Any):
    """Instantiate a registered metric plugin; ``model`` goes to metrics that take one."""
    metrics = get_metrics()
    if name not in metrics:
        raise UnknownNameError(f"No metric plugin named {name!r}; registered: {', '.join(sorted(metrics))}")
    cls = metrics[name]
    if model:
        kwargs["model"] = model
    return cls(**kwargs)


def corpus_result(name: str, items: Sequence[dict[str, Any]]) -> MetricResult:
    """Corpus score of ``items`` (from :func:`process_results`), memoized so the score and its
    signature aggregation compute the metric once."""
    if not items:
        raise InputError(f"{name}: no segments to score")
    model = items[0].get("model", "")
    blob = json.dumps(
        [name, model, [(i["hyp"], i["ref"], i["src"], i["lang"]) for i in items]], ensure_ascii=False
    )
    key = hashlib.sha256(blob.encode()).hexdigest()
    if key not in _MEMO:
        langs = {i["lang"] for i in items}
        metric = make_metric(name, model)
        _MEMO[key] = metric.corpus_score(
            [i["hyp"] for i in items],
            [[i["ref"]] for i in items],
            sources=[i["src"] for i in items],
            lang=langs.pop() if len(langs) == 1 else None,
        )
    _LAST[(name, model)] = _MEMO[key]
    return _MEMO[key]


def corpus_signature(name: str, items: Sequence[dict[str, Any]]) -> str:
    """The signature of the score just aggregated for ``name`` (or the metric's own, if none yet)."""
    model = items[0].get("model", "") if items else ""
    if (name, model) in _LAST:
        return _LAST[(name, model)].signature
    metric = make_metric(name, model)
    signature = getattr(metric, "signature", None)
    return signature() if callable(signature) else ""


def agg_spbleu(items: list[dict[str, Any]]) -> float:
    return corpus_result("spbleu", items).score


def agg_chrf(items: list[dict[str, Any]]) -> float:
    return corpus_result("chrf", items).score


def agg_comet(items: list[dict[str, Any]]) -> float:
    return corpus_result("comet", items).score


def agg_bleurt(items: list[dict[str, Any]]) -> float:
    return corpus_result("bleurt", items).score


def agg_spbleu_signature(items: list[dict[str, Any]]) -> str:
    return corpus_signature("spbleu", items)


def agg_chrf_signature(items: list[dict[str, Any]]) -> str:
    return corpus_signature("chrf", items)


def agg_comet_signature(items: list[dict[str, Any]]) -> str:
    return corpus_signature("comet", items)


def agg_bleurt_signature(items: list[dict[str, Any]]) -> str:
    return corpus_signature("bleurt", items)
