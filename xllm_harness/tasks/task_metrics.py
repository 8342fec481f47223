"""How the xllm tasks compute registry metrics inside lm-eval (shared by every task folder).

Metrics are reached by name through the registry (:func:`xllm_harness.metrics.get_metric`), never
imported. Two kinds of use:

- *sample* metrics (QA ``match``, ``exact_match``, ``f1``): scored per document in
  ``process_results`` (the number in lm-eval's samples file), averaged by lm-eval;
- *corpus* metrics (spBLEU, chrF++, COMET, BLEURT, ``off_target``): ``process_results`` passes the
  segment on, the aggregation scores the whole corpus once.

Before generation (the task's ``custom_dataset``, which lm-eval runs when it builds the task)
:func:`plan` resolves every metric and checks its backend and model
(:meth:`~xllm_harness.metrics.Metric.check_available`); the missing ones are announced at once, and
the plan is stored in every document, so no generation is wasted on a metric that cannot run.

Which metrics a task computes is its family's list (``taskgen.family_task_metrics``), stored in each
document by :func:`plan`; :func:`document_results` is every task's ``process_results`` over it (metrics
``scored_per_document`` per document, the others per corpus), and :func:`aggregations_by_name` gives the
``agg_<metric>``/``metric_<metric>`` names the generated ``metric_list`` refers to.

Results: a computed metric ``M`` has ``"M,none": <number>`` and ``"M_signature,none": <signature>``.
A metric that cannot be computed has ``"M_signature,none": "missing: <reason>"`` and no ``"M,none"``
(known before generation) or ``"M,none": NaN`` (failed when aggregating: a model that did not load,
outputs the metric cannot measure, e.g. ``off_target`` on answers too short to identify, or a score
that is not a finite number; lm-eval needs a number there, and every reader takes it as missing with
the signature's reason). The run ends with a message naming the ``xllm score`` command that fills it
in from the saved samples (and the ``--output_path`` lm-eval saved under, from its tracker).
"""

from __future__ import annotations

import atexit
import functools
import json
import math
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from xllm_harness.bridge.internals import (
    no_stderr,
    process_results_metric,
    remember_output_path,
    saved_output_path,
)
from xllm_harness.bridge.quiet import install_lm_eval_quieting
from xllm_harness.errors import InputError, UnknownNameError, XllmError
from xllm_harness.metric_inputs import Segment, metric_options
from xllm_harness.metrics import Metric, MetricResult, get_metric, require_finite
from xllm_harness.models.metric_models import MissingMetricModelError
from xllm_harness.results.lm_eval import MISSING_PREFIX as MISSING

SIGNATURE_SUFFIX = "_signature"
REPRODUCE = ("x-llm",)
"""Values of the ``reproduce`` task option (``--metadata '{"reproduce": "x-llm"}'``)."""


def option(
    metadata: dict[str, Any], key: str, choices: Sequence[str] | None = None, default: Any = None
) -> Any:
    """A task option from lm-eval's ``--metadata`` (checked against ``choices`` when given)."""
    value = metadata.get(key)
    if value is None:
        return default
    if choices is not None and value not in choices:
        raise InputError(
            f"--metadata {key}={value!r}: use one of {', '.join(map(str, choices))} "
            f'(e.g. --metadata \'{{"{key}": "{choices[0]}"}}\'); see docs/tasks'
        )
    return value


def reproduce(metadata: dict[str, Any]) -> str | None:
    """The ``reproduce`` option; ``x-llm`` also reminds the user how to turn the stop strings off."""
    mode = option(metadata, "reproduce", REPRODUCE)
    if mode == "x-llm":
        _notice(
            "reproduce=x-llm: x-LLM's scoring and prompts. For its generation (no stop strings: EOS or "
            "512 new tokens) also pass --gen_kwargs until=None (lm-eval takes generation settings from "
            "the command line, not from --metadata); see docs/differences.md."
        )
    return mode


def _under_lm_eval_cli() -> bool:
    """Whether this process is lm-eval's own command line (``lm_eval ...`` or ``python -m lm_eval``): its
    ``__main__`` is the ``lm_eval`` console script or lm-eval's package."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    script = os.path.basename(str(getattr(main, "__file__", "") or ""))
    return script in ("lm_eval", "lm-eval") or (
        spec is not None and spec.name in ("lm_eval.__main__", "lm_eval")
    )


def one_line_errors(load: Callable[..., Any]) -> Callable[..., Any]:
    """For a task's ``custom_dataset``: under lm-eval's own command line, a user error (missing data, a
    bad option) is one line and exit status 2, as under ``xllm``, instead of lm-eval's traceback.
    Elsewhere (``xllm eval``, Python) the error is raised as usual."""

    @functools.wraps(load)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return load(*args, **kwargs)
        except XllmError as err:
            if not _under_lm_eval_cli():
                raise
            print(f"xllm-harness: error: {err}", file=sys.stderr, flush=True)
            REPORT.missing.clear()  # nothing ran: no end-of-run summary
            raise SystemExit(2) from None

    return wrapped


def _instance(name: str, options: dict[str, dict[str, Any]]) -> Metric:
    return get_metric(name)(**options.get(name, {}))


def plan(task: str, names: Sequence[str], options: dict[str, dict[str, Any]], hint: str) -> dict[str, str]:
    """Check ``names`` before generation; the document fields that carry the plan.

    ``hint`` is the task option that chooses other metrics (named in the message).
    """
    remember_output_path()  # for the end-of-run message
    install_lm_eval_quieting()  # every route, the hook off too: signatures stay out of the printed table
    available: list[str] = []
    missing: dict[str, str] = {}
    errors: dict[str, Exception] = {}
    for name in names:
        try:
            _instance(name, options).check_available()
        except (MissingMetricModelError, UnknownNameError) as err:
            missing[name], errors[name] = str(err).strip("'\""), err
            REPORT.add(name, task, missing[name], fix=getattr(err, "fix", None))
            continue
        available.append(name)
    by_reason: dict[str, list[str]] = {}
    for name, reason in missing.items():
        by_reason.setdefault(reason, []).append(name)
    for same in by_reason.values():
        _notice(_missing_notice(same, errors[same[0]], hint))
    return {
        "task": task,
        "metrics": ",".join(available),
        "missing_metrics": json.dumps(missing, ensure_ascii=False),
        "metric_options": json.dumps(options, ensure_ascii=False, sort_keys=True),
    }


def _missing(doc: dict[str, Any]) -> dict[str, str]:
    return json.loads(doc.get("missing_metrics") or "{}")


def _enabled(doc: dict[str, Any], names: Sequence[str]) -> list[str]:
    on = set(filter(None, doc["metrics"].split(",")))
    return [n for n in names if n in on]


def sample_scores(doc: dict[str, Any], names: Sequence[str], segment: Segment) -> dict[str, Any]:
    """``process_results`` entries of per-document metrics: the score and its signature."""
    options = metric_options(doc, f"task {doc.get('task')}")
    out: dict[str, Any] = {}
    for name in _enabled(doc, names):
        metric = _instance(name, options)
        source = segment.source if metric.needs_sources else None
        result = metric.sentence_score(segment.hypothesis, segment.references, source, lang=segment.lang)
        out[name] = result.score
        out[f"{name}_signature"] = {"signature": str(result.signature)}
    return out


def corpus_items(doc: dict[str, Any], names: Sequence[str], segment: Segment) -> dict[str, Any]:
    """``process_results`` entries of corpus metrics: the segment, passed on to the aggregation."""
    item = {
        "task": doc["task"],
        "hyp": segment.hypothesis,
        "refs": list(segment.references),
        "src": segment.source,
        "lang": segment.lang,
        "options": doc["metric_options"],
    }
    out: dict[str, Any] = {}
    for name in _enabled(doc, names):
        out[name] = item
        out[f"{name}_signature"] = item
    return out


def missing_items(doc: dict[str, Any], names: Sequence[str] | None = None) -> dict[str, Any]:
    """``process_results`` entries of the planned metrics that are missing (their reason); all of them
    without ``names``."""
    return {f"{n}_signature": {"missing": r} for n, r in _missing(doc).items() if names is None or n in names}


def document_results(doc: dict[str, Any], segment: Segment) -> dict[str, Any]:
    """``process_results`` entries of every metric in the document's plan: the score of each metric
    scored per document (``Metric.scored_per_document``), the segment for the others, the reasons of
    the missing ones."""
    planned = [n for n in doc["metrics"].split(",") if n]
    per_document = [n for n in planned if get_metric(n).scored_per_document()]
    return {
        **sample_scores(doc, per_document, segment),
        **corpus_items(doc, [n for n in planned if n not in per_document], segment),
        **missing_items(doc),
    }


@functools.lru_cache(maxsize=8)
def _corpus(name: str, options: str, segments: tuple) -> MetricResult | str:
    """The corpus result of ``segments`` (or the reason it cannot be computed).

    Content-addressed and bounded: the score and the signature aggregation of one metric share one
    computation, whatever order lm-eval aggregates them in.
    """
    hyps = [s[0] for s in segments]
    refs = [list(s[1]) for s in segments]
    sources = [s[2] for s in segments]
    langs = {s[3] for s in segments}
    try:
        metric = _instance(name, json.loads(options))
        result = metric.corpus_score(
            hyps,
            refs,
            sources=sources if metric.needs_sources else None,
            lang=langs.pop() if len(langs) == 1 else None,
        )
        require_finite(name, result.score)
        return result
    except XllmError as err:  # a missing model, or data the metric cannot measure: recorded, not fatal
        return str(err).strip("'\"")


def _corpus_of(name: str, items: list[dict[str, Any]]) -> MetricResult | str:
    segments = tuple((i["hyp"], tuple(i["refs"]), i["src"] or "", i["lang"]) for i in items)
    result = _corpus(name, items[0]["options"], segments)
    if isinstance(result, str):
        REPORT.add(name, items[0]["task"], result, late=True)
    return result


@functools.cache
def aggregations_by_name(attribute: str) -> Any:
    """A task utilities module's ``__getattr__``: ``agg_<metric>``, ``agg_<metric>_signature`` and
    ``metric_<metric>`` (the YAML ``metric:`` of a metric scored per document) for any metric, as the
    generated ``metric_list`` names them (``TaskFamily.aggregations``)."""
    if attribute.startswith("metric_"):
        return process_results_metric(attribute.removeprefix("metric_"))
    if not attribute.startswith("agg_"):
        raise AttributeError(attribute)
    name = attribute.removeprefix("agg_")
    if name.endswith(SIGNATURE_SUFFIX):
        return signature_aggregation(name.removesuffix(SIGNATURE_SUFFIX))
    return score_aggregation(name)


def score_aggregation(name: str) -> Callable[[list[dict[str, Any]]], float]:
    """lm-eval aggregation of a corpus metric: its score, NaN when it could not be computed (the
    reason is in ``<name>_signature``)."""

    def aggregate(items: list[dict[str, Any]]) -> float:
        REPORT.aggregated = True
        result = _corpus_of(name, items)
        return math.nan if isinstance(result, str) else result.score

    aggregate.__name__ = f"agg_{name}"
    return no_stderr(aggregate)


def signature_aggregation(name: str) -> Callable[[list[dict[str, Any]]], str]:
    """lm-eval aggregation of ``<name>_signature``: the signature, or ``missing: <reason>``."""

    def aggregate(items: list[dict[str, Any]]) -> str:
        REPORT.aggregated = True
        missing = sorted({i["missing"] for i in items if "missing" in i})
        if missing:
            return MISSING + " | ".join(missing)
        if "signature" in items[0]:  # a sample metric: the per-document signatures
            return " | ".join(sorted({i["signature"] for i in items}))
        result = _corpus_of(name, items)
        return MISSING + result if isinstance(result, str) else str(result.signature)

    aggregate.__name__ = f"agg_{name}_signature"
    return no_stderr(aggregate)


def _short(text: str) -> str:
    """``text`` with the home directory written as ``~``."""
    home = os.path.expanduser("~")
    return text.replace(home + "/", "~/") if home not in ("", "/") else text


def _missing_notice(names: list[str], err: Exception, hint: str) -> str:
    """One line, the same for every task (so it prints once per run): what will be missing and the fix."""
    fix = getattr(err, "fix", None)
    head = f"xllm-harness: {', '.join(names)} will be missing (the rest runs)"
    if fix:
        return f"{head}; fix: {fix}"
    reason = _short(str(err).strip("'\""))
    return f"{head}: {reason} To choose other metrics: {hint}."


@functools.lru_cache(maxsize=64)
def _notice(message: str) -> None:
    """Print ``message`` to stderr once per process."""
    print(message, file=sys.stderr, flush=True)


class MissingReport:
    """The metrics a run could not compute, summarised once when the process ends.

    If the process ends before any metric was aggregated (the run failed or was stopped), the summary
    says so instead of speaking of results that were never written.
    """

    def __init__(self) -> None:
        self.missing: dict[str, dict[str, str]] = {}
        self.fixes: dict[str, str] = {}
        self.aggregated = False
        self._registered = False

    def add(self, metric: str, task: str, reason: str, late: bool = False, fix: str | None = None) -> None:
        if late and task not in self.missing.get(metric, {}):
            _notice(f"xllm-harness: {metric} could not be computed for {task}: {_short(reason)}")
        self.missing.setdefault(metric, {})[task] = reason
        if fix:
            self.fixes[metric] = fix
        if not self._registered:
            atexit.register(self.summary)
            self._registered = True

    def summary(self) -> None:
        if not self.missing:
            return
        if not self.aggregated:
            print(
                "xllm-harness: the run ended before any metric was computed, so it wrote no results; "
                f"{', '.join(sorted(self.missing))} would have been missing (see the note above).",
                file=sys.stderr,
            )
            return
        out = saved_output_path() or "OUT"
        for metric, tasks in sorted(self.missing.items()):
            fix = (
                f"after `{self.fixes[metric]}`, "
                if metric in self.fixes
                else "if a model or file was missing, "
            )
            print(
                f"xllm-harness: {metric} is missing from the results of {_tasks(tasks)} (recorded as "
                f"{metric}_signature = 'missing: <reason>'); {fix}`xllm score {out} --metrics {metric}` "
                "scores the saved samples (--log_samples).",
                file=sys.stderr,
            )


def _tasks(tasks: dict[str, str]) -> str:
    names = sorted(tasks)
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


REPORT = MissingReport()
