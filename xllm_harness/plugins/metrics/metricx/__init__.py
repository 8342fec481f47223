"""The MetricX-24 metric plugin: ``metricx`` (reference-based) and ``metricx_qe`` (QE).

Google's MetricX-24 hybrid models (``google/metricx-24-hybrid-{large,xl,xxl}-v2p6``) run by our own
code on transformers' mT5, with the input format, truncation and output of Google's reference
implementation (github.com/google-research/metricx, ``metricx24/``): scores 0–25, lower is better.

- :mod:`.checkpoints`: model and tokenizer names, where they are, the supported classes;
- :mod:`.inputs`: input text, tokenization and length-bucketed batches;
- :mod:`.model`: loading and scoring (the only module that imports torch);
- :mod:`.metric`: the two metrics.

Parity with Google's code: ``tests/plugins/metrics/test_metricx_parity.py`` against fixtures made by
``scripts/parity/metricx_fixtures.py``.
"""

from __future__ import annotations

from xllm_harness.hookspecs import hookimpl
from xllm_harness.metrics import Metric
from xllm_harness.plugins.metrics.metricx.metric import MetricX, MetricXQE


@hookimpl
def xllm_metrics() -> list[type[Metric]]:
    return [MetricX, MetricXQE]
