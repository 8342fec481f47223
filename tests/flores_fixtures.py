"""Fixtures of the FLORES/translation-metric tests: tiny COMET, BLEURT and SentencePiece models.

Imported by ``tests/test_flores_*.py`` (``from flores_fixtures import ...``); built once per session.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SPM_NAME = "sacrebleu_tokenizer_spm.model"


@pytest.fixture(scope="session")
def metric_corpus() -> list[str]:
    from xllm_harness.samples import tokenizer_corpus

    return tokenizer_corpus()


@pytest.fixture(scope="session")
def tiny_comet(tmp_path_factory, metric_corpus) -> Path:
    """A tiny random COMET RegressionMetric: ``<dir>/checkpoints/model.ckpt`` + ``<dir>/hparams.yaml``."""
    from xllm_harness.tiny_metric_models import build_tiny_comet

    return build_tiny_comet(tmp_path_factory.mktemp("comet") / "tiny-comet", metric_corpus)


@pytest.fixture(scope="session")
def tiny_bleurt(tmp_path_factory, metric_corpus) -> Path:
    from xllm_harness.tiny_metric_models import build_tiny_bleurt

    return build_tiny_bleurt(tmp_path_factory.mktemp("bleurt") / "tiny-bleurt", metric_corpus)


@pytest.fixture(scope="session")
def sacrebleu_home(tmp_path_factory, metric_corpus) -> Path:
    """A ``$SACREBLEU`` folder whose ``models/`` holds a test SentencePiece model (not the FLORES one)."""
    from xllm_harness.tiny_metric_models import build_test_spm

    home = tmp_path_factory.mktemp("sacrebleu")
    build_test_spm(home / "models" / SPM_NAME, metric_corpus)
    return home


@pytest.fixture
def use_sacrebleu_home(monkeypatch, sacrebleu_home) -> Path:
    """Point sacrebleu (in this process and in subprocesses) at :func:`sacrebleu_home`."""
    from sacrebleu.tokenizers import tokenizer_spm

    monkeypatch.setenv("SACREBLEU", str(sacrebleu_home))
    monkeypatch.setattr(tokenizer_spm, "SACREBLEU_DIR", str(sacrebleu_home))
    return sacrebleu_home
