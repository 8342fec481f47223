"""The judge client's settings: sampling, retries, spend cap and the Batch API's limits, range-checked."""

from __future__ import annotations

import math
from dataclasses import dataclass

from xllm_harness.errors import InputError
from xllm_harness.judging.accounting import check_amount
from xllm_harness.judging.backend import MAX_SAMPLES
from xllm_harness.judging.batch_files import MAX_BYTES_PER_FILE, MAX_REQUESTS_PER_FILE


@dataclass
class JudgeSettings:
    temperature: float = 0.0
    max_tokens: int = 512
    k: int = 1
    """Samples per item (each its own request and cache entry)."""
    concurrency: int = 8
    max_retries: int = 6
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_retry_after: float = 300.0
    max_connection_failures: int = 5
    """Consecutive connection failures (any request) after which the run stops."""
    price_input: float | None = None
    """USD per 1M prompt tokens (default: the known list price of the model, else unknown)."""
    price_output: float | None = None
    max_cost: float | None = None
    """Stop before new spending in this run could pass this many USD."""
    batch_discount: float = 0.5
    """Price factor of Batch-API (and imported) replies."""
    batch_max_requests: int = MAX_REQUESTS_PER_FILE
    batch_max_bytes: int = MAX_BYTES_PER_FILE
    batch_poll_interval: float = 5.0
    """First wait between two polls of a batch (grows 1.5x per poll up to ``batch_poll_max``)."""
    batch_poll_max: float = 60.0
    batch_rounds: int = 3
    """Batches per request: items that failed inside a batch are resubmitted up to ``batch_rounds - 1`` times."""
    batch_deadline: float = 26 * 3600.0
    """Seconds to wait for batches in one run; then the run ends and a rerun resumes them."""
    progress: bool = True

    def __post_init__(self) -> None:
        """Range-check every number; the error names the option."""
        if not 1 <= self.k <= MAX_SAMPLES:
            raise InputError(f"--k (samples per item) must be in 1..{MAX_SAMPLES}, got {self.k}")
        for name in (
            "concurrency", "max_tokens", "max_connection_failures", "batch_rounds", "batch_max_requests",
            "batch_max_bytes",
        ):  # fmt: skip
            if getattr(self, name) < 1:
                raise InputError(f"{_option(name)} must be >= 1, got {getattr(self, name)}")
        if self.max_retries < 0:
            raise InputError(f"--max-retries must be >= 0, got {self.max_retries}")
        if not (math.isfinite(self.temperature) and 0.0 <= self.temperature <= 2.0):
            raise InputError(f"--temperature must be in [0, 2], got {self.temperature}")
        for name in ("backoff_base", "backoff_max", "max_retry_after"):
            check_amount(_option(name), getattr(self, name))
        for name in ("batch_poll_interval", "batch_poll_max", "batch_deadline"):
            check_amount(_option(name), getattr(self, name), positive=True)


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")
