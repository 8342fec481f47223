"""lm-eval code of the ``xquad_xllm_<lang>`` and ``mlqa_xllm_<lang>`` tasks (``_qa_xllm_yaml``).

The metrics are the QA family's (``plugins/builtin_tasks.py``: ``TaskFamily.metrics``; the YAMLs'
``metric_list`` is generated from it). Per question: ``match``, ``exact_match`` and ``f1`` (metrics scored
per document, the same classes ``xllm score`` uses on the same inputs, so both give the same per-sample
values); per task: ``off_target``, the share of answers not in the document's language. Options
(``--metadata``):

- ``qa_normalization``: ``language`` (default: each language's own, ``Language.qa_normalization``)
  or ``squad`` (SQuAD v1.1 for every language, as XTREME scores XQuAD);
- ``reproduce``: ``x-llm`` scores ``match`` as x-LLM did, ``answers[0].strip().lower()`` contained
  in the lowercased output (docs/differences.md).
"""

from __future__ import annotations

from typing import Any

from xllm_harness.metric_inputs import document_segment
from xllm_harness.taskgen import family_task_metrics, get_family
from xllm_harness.tasks import qa_docs as qa
from xllm_harness.tasks import task_metrics

NORMALIZATIONS = ("language", "squad")
HINT = "the QA metrics are fixed; enable the qa_metrics plugin (XLLM_DISABLE_PLUGINS) if it is off"


def metric_options(metadata: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Constructor options of the QA metrics from the task options."""
    options: dict[str, dict[str, Any]] = {}
    if task_metrics.reproduce(metadata) == "x-llm":
        options["match"] = {"golds": "first"}
    if task_metrics.option(metadata, "qa_normalization", NORMALIZATIONS, "language") == "squad":
        options["exact_match"] = options["f1"] = {"normalization": "squad"}
    return options


def metric_names(benchmark: str) -> tuple[str, ...]:
    """The metrics of the ``<benchmark>_xllm`` tasks (the family's)."""
    return family_task_metrics(get_family(f"{benchmark}_xllm"))


@task_metrics.one_line_errors
def load_dataset(lang: str, benchmark: str, **metadata: Any):
    """lm-eval ``custom_dataset``: the questions, with the metric plan checked before generation."""
    fields = task_metrics.plan(
        f"{benchmark}_xllm_{lang}", metric_names(benchmark), metric_options(metadata), HINT
    )
    ds = qa.load_dataset(lang, benchmark)
    return ds.map(lambda _: fields)


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    """lm-eval ``process_results``: per-question QA scores, the answer for ``off_target``."""
    segment = document_segment(doc, results, where=f"task {doc.get('task')} document {doc.get('id')}")
    return task_metrics.document_results(doc, segment)


__getattr__ = task_metrics.aggregations_by_name
