"""Helpers for tests, benchmarks and the demo: tiny models, a local judge server, data layouts.

Nothing here is used by an evaluation; it builds what a test needs without a download.
"""
