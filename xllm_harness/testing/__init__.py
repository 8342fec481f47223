"""Helpers for tests and benchmarks: tiny metric models, a local judge server, data layouts,
throw-away plugins (the tiny Llama builder the demo also needs is :mod:`xllm_harness.models.tiny_llama`).

Nothing here is used by an evaluation or by the core; it builds what a test needs without a download.
"""
