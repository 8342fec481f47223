"""lm-eval code of the ``flores_xllm_{src}-{tgt}`` tasks (``tasks/flores_xllm/``).

Each direction scores FLORES-101 devtest and draws few-shot examples from dev. Options (lm-eval
``--metadata`` JSON, or the environment variable in brackets):

- ``metrics`` (``XLLM_FLORES_METRICS``): corpus metrics computed inside lm-eval, default
  ``spbleu,chrf,off_target``; ``comet`` and ``bleurt`` are opt-in here, because they load a second
  model next to the evaluated one (``xllm score`` computes them afterwards from ``--log_samples``).
- ``language_names`` (``XLLM_FLORES_LANGUAGE_NAMES``): ``english`` (default, "Greek") or ``iso639``
  (x-LLM's spelling, "Modern Greek (1453-)"; the default under ``reproduce: x-llm``).
- ``comet_model`` (``XLLM_COMET_MODEL``), ``bleurt_model`` (``XLLM_BLEURT_MODEL``): metric model id
  or local path.
- ``reproduce``: ``x-llm`` (see docs/differences.md).

``off_target`` is scored against the target language.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from xllm_harness.errors import InputError
from xllm_harness.languages import get_language
from xllm_harness.scoring import clean_hypothesis
from xllm_harness.tasks import task_metrics
from xllm_harness.tasks.flores_docs import FEWSHOT_SPLIT, TEST_SPLIT, build_docs
from xllm_harness.text.prompts import LANGUAGE_NAME_STYLES

TASK_METRICS = ("spbleu", "chrf", "comet", "bleurt", "off_target")
"""Metrics the task YAML declares aggregations for (each with a ``<name>_signature``)."""
DEFAULT_METRICS = ("spbleu", "chrf", "off_target")
MODEL_OPTIONS = {
    "comet": ("comet_model", "XLLM_COMET_MODEL"),
    "bleurt": ("bleurt_model", "XLLM_BLEURT_MODEL"),
}
HINT = '--metadata \'{"metrics": "spbleu,chrf,comet,bleurt,off_target"}\' (or XLLM_FLORES_METRICS)'


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
            f"{', '.join(TASK_METRICS)} ({HINT})"
        )
    return list(dict.fromkeys(names))


@task_metrics.one_line_errors
def load_dataset(src: str, tgt: str, **metadata: Any):
    """lm-eval ``custom_dataset``: devtest (scored) and dev (few-shot) of ``src``→``tgt``.

    Receives ``--metadata`` values; the metric plan (checked here, before generation) is stored in
    every document so that ``process_results`` and the aggregations (which only see documents)
    honour it.
    """
    import datasets

    mode = task_metrics.reproduce(metadata)
    default_names = "iso639" if mode == "x-llm" else "english"
    names = str(_option(metadata, "language_names", "XLLM_FLORES_LANGUAGE_NAMES", default_names)).lower()
    if names not in LANGUAGE_NAME_STYLES:
        raise InputError(f"language_names={names!r}: use one of {', '.join(LANGUAGE_NAME_STYLES)}")
    get_language(src), get_language(tgt)  # unknown codes fail here, with the registered ones named
    metrics = parse_metrics(_option(metadata, "metrics", "XLLM_FLORES_METRICS", ",".join(DEFAULT_METRICS)))
    options: dict[str, dict[str, Any]] = {}
    for name, (key, env) in MODEL_OPTIONS.items():
        model = str(_option(metadata, key, env, ""))
        if model and name in metrics:
            options[name] = {"model": model}
    fields = task_metrics.plan(f"flores_xllm_{src}-{tgt}", metrics, options, HINT)
    return datasets.DatasetDict(
        {
            split: datasets.Dataset.from_list(
                [{**doc, **fields} for doc in build_docs(src, tgt, split, names)]
            )
            for split in (TEST_SPLIT, FEWSHOT_SPLIT)
        }
    )


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    """lm-eval ``process_results``: the segment for every corpus metric (and its signature)."""
    hypothesis = clean_hypothesis(results[0])
    return {
        **task_metrics.corpus_items(
            doc, TASK_METRICS, hypothesis, [doc["target"]], doc["source"], doc["tgt_lang"]
        ),
        **task_metrics.missing_items(doc, TASK_METRICS),
    }


agg_spbleu = task_metrics.score_aggregation("spbleu")
agg_chrf = task_metrics.score_aggregation("chrf")
agg_comet = task_metrics.score_aggregation("comet")
agg_bleurt = task_metrics.score_aggregation("bleurt")
agg_off_target = task_metrics.score_aggregation("off_target")
agg_spbleu_signature = task_metrics.signature_aggregation("spbleu")
agg_chrf_signature = task_metrics.signature_aggregation("chrf")
agg_comet_signature = task_metrics.signature_aggregation("comet")
agg_bleurt_signature = task_metrics.signature_aggregation("bleurt")
agg_off_target_signature = task_metrics.signature_aggregation("off_target")
