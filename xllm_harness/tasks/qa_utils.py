"""lm-eval code of the ``xquad_xllm_<lang>`` and ``mlqa_xllm_<lang>`` tasks (``_qa_xllm_yaml``).

Per question: ``match``, ``exact_match`` and ``f1`` from the registered QA metrics (the same classes
``xllm score`` uses, with the same language, so both give the same per-sample values); per task:
``off_target``, the share of answers not in the document's language. Options (``--metadata``):

- ``qa_normalization``: ``language`` (default: each language's own, ``Language.qa_normalization``)
  or ``squad`` (SQuAD v1.1 for every language, as XTREME scores XQuAD);
- ``reproduce``: ``x-llm`` scores ``match`` as x-LLM did, ``answers[0].strip().lower()`` contained
  in the lowercased output (docs/differences.md).
"""

from __future__ import annotations

from typing import Any

from xllm_harness.bridge.internals import process_results_metric
from xllm_harness.metric_inputs import document_segment
from xllm_harness.tasks import qa_docs as qa
from xllm_harness.tasks import task_metrics

SAMPLE_METRICS = ("match", "exact_match", "f1")
CORPUS_METRICS = ("off_target",)
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


@task_metrics.one_line_errors
def load_dataset(lang: str, benchmark: str, **metadata: Any):
    """lm-eval ``custom_dataset``: the questions, with the metric plan checked before generation."""
    fields = task_metrics.plan(
        f"{benchmark}_xllm_{lang}", SAMPLE_METRICS + CORPUS_METRICS, metric_options(metadata), HINT
    )
    ds = qa.load_dataset(lang, benchmark)
    return ds.map(lambda _: fields)


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    """lm-eval ``process_results``: per-question QA scores, the answer for ``off_target``."""
    segment = document_segment(doc, results, where=f"task {doc.get('task')} document {doc.get('id')}")
    names = SAMPLE_METRICS + CORPUS_METRICS
    return {
        **task_metrics.sample_scores(doc, SAMPLE_METRICS, segment),
        **task_metrics.corpus_items(doc, CORPUS_METRICS, segment),
        **task_metrics.missing_items(doc, names),
    }


f1 = process_results_metric("f1")  # the YAML's `metric:` of f1 (lm-eval 0.5 has an f1 of its own)
agg_match_signature = task_metrics.signature_aggregation("match")
agg_exact_match_signature = task_metrics.signature_aggregation("exact_match")
agg_f1_signature = task_metrics.signature_aggregation("f1")
agg_off_target = task_metrics.score_aggregation("off_target")
agg_off_target_signature = task_metrics.signature_aggregation("off_target")
