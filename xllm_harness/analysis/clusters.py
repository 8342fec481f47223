"""Which evaluation items are correlated: the paragraph a QA question is asked on.

XQuAD's 1190 questions per language sit in 240 paragraphs and MLQA's questions share contexts too;
answers to questions on one paragraph are correlated, so intervals and tests resample paragraphs
(:mod:`xllm_harness.analysis.significance`). A paragraph is identified by the document's ``context`` as
lm-eval stores it in each sample line (``doc``). Documents without a context (translation,
MI-Eval) are independent items: no clusters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from xllm_harness.results.lm_eval import read_sample_lines

CLUSTER_KEY = "context"
"""The document field whose value identifies an item's cluster (the paragraph)."""


def cluster_map(docs: Mapping[Any, Mapping[str, Any]]) -> dict[Any, int] | None:
    """doc_id → cluster number (documents with the same context share one), or ``None`` when some
    document has no context (the items are then independent)."""
    if not docs or not all(isinstance(doc.get(CLUSTER_KEY), str) for doc in docs.values()):
        return None
    numbers: dict[str, int] = {}
    return {doc_id: numbers.setdefault(doc[CLUSTER_KEY], len(numbers)) for doc_id, doc in docs.items()}


def clusters_for(mapping: Mapping[Any, int] | None, doc_ids: Iterable[Any]) -> np.ndarray | None:
    """The cluster number of each of ``doc_ids`` (in that order), or ``None`` without clusters."""
    if mapping is None:
        return None
    return np.fromiter((mapping[d] for d in doc_ids), dtype=np.int64)


def sample_clusters(path: str | Path, doc_ids: Sequence[Any]) -> np.ndarray | None:
    """The cluster of each of ``doc_ids`` from an lm-eval samples file (``None`` without contexts or
    when a doc_id is not in the file)."""
    docs = {row["doc_id"]: row["doc"] for row in read_sample_lines(Path(path))}
    if any(d not in docs for d in doc_ids):
        return None
    return clusters_for(cluster_map(docs), doc_ids)
