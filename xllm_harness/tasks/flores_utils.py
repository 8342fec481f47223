"""lm-eval code of the ``flores_xllm_{src}-{tgt}`` tasks (``tasks/flores_xllm/``).

Each direction scores FLORES-101 devtest and draws few-shot examples from dev. Options (lm-eval
``--metadata`` JSON, or the environment variable in brackets):

- ``metrics`` (``XLLM_FLORES_METRICS``): corpus metrics computed inside lm-eval, any of the family's
  (:func:`xllm_harness.taskgen.family_metrics`: ``spbleu,chrf,comet,bleurt,off_target`` and plugin
  metrics that join it); by default those that load no model (``spbleu,chrf,off_target``): ``comet``
  and ``bleurt`` (``Metric.loads_model``) are opt-in here, because they load a second model next to the
  evaluated one (``xllm score`` computes them afterwards from ``--log_samples``).
- ``language_names`` (``XLLM_FLORES_LANGUAGE_NAMES``): ``english`` (default, "Greek") or ``iso639``
  (x-LLM's spelling, "Modern Greek (1453-)"; the default under ``reproduce: x-llm``).
- ``<metric>_model`` for a metric that loads a model (``comet_model``, ``bleurt_model``; else the
  metric's own variable, ``XLLM_COMET_MODEL``...: ``Metric.configured_model``): model id or local path.
- ``reproduce``: ``x-llm`` (see docs/differences.md).

``off_target`` is scored against the target language. The aggregations ``agg_<metric>`` and
``agg_<metric>_signature`` the generated YAMLs name exist for every metric (module ``__getattr__``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from xllm_harness.errors import InputError
from xllm_harness.languages import get_language
from xllm_harness.metric_inputs import document_segment
from xllm_harness.metrics import get_metrics
from xllm_harness.taskgen import family_task_metrics, get_family
from xllm_harness.tasks import task_metrics
from xllm_harness.tasks.flores_docs import FEWSHOT_SPLIT, TEST_SPLIT, build_docs
from xllm_harness.text.prompts import LANGUAGE_NAME_STYLES

FAMILY = "flores_xllm"


def task_metric_names() -> tuple[str, ...]:
    """The metrics the tasks can compute: the family's (:func:`~xllm_harness.taskgen.family_metrics`)."""
    return family_task_metrics(get_family(FAMILY))


def default_metric_names() -> list[str]:
    """The family's registered metrics that load no model (``Metric.loads_model``)."""
    registered = get_metrics()
    return [m for m in task_metric_names() if m in registered and not registered[m].loads_model]


def hint() -> str:
    return f'--metadata \'{{"metrics": "{",".join(task_metric_names())}"}}\' (or XLLM_FLORES_METRICS)'


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
    allowed = task_metric_names()
    unknown = [m for m in names if m not in allowed]
    if unknown or not names:
        raise InputError(
            f"FLORES task option metrics={value!r}: unknown {unknown or 'empty list'}; choose from "
            f"{', '.join(allowed)} ({hint()})"
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
    metrics = parse_metrics(
        _option(metadata, "metrics", "XLLM_FLORES_METRICS", ",".join(default_metric_names()))
    )
    options: dict[str, dict[str, Any]] = {}
    registered = get_metrics()
    for name in metrics:
        cls = registered.get(name)
        model = cls.configured_model(metadata.get(f"{name}_model")) if cls and cls.loads_model else None
        if model:
            options[name] = {"model": str(model)}
    fields = task_metrics.plan(f"flores_xllm_{src}-{tgt}", metrics, options, hint())
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
    segment = document_segment(doc, results, where=f"task {doc.get('task')} document")
    return task_metrics.document_results(doc, segment)


__getattr__ = task_metrics.aggregations_by_name
