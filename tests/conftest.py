"""Shared fixtures: offline mode, tiny models (LM, COMET, BLEURT, SentencePiece), the full data files when CI
provides them, throw-away plugins."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_ENV = "XLLM_SHARED_DATA"


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path_factory):
    """No hub access in tests; a private cache dir per session."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")
    monkeypatch.setenv("XLLM_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "xllm_cache"))


def shared_data_dir() -> Path | None:
    root = os.environ.get(SHARED_ENV)
    return Path(root) if root and Path(root).is_dir() else None


@pytest.fixture(autouse=True, scope="session")
def _no_missing_metric_summary_after_the_run():
    """In-process evaluations register the end-of-run summary of missing metrics (meant for a CLI run);
    the test session ends with pytest's own summary line instead."""
    yield
    task_metrics = sys.modules.get("xllm_harness.tasks.task_metrics")
    if task_metrics is not None:
        task_metrics.REPORT.missing.clear()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The full real data files (../shared/data); skips when XLLM_SHARED_DATA is not set."""
    root = shared_data_dir()
    if root is None:
        pytest.skip(f"full data files not available: set {SHARED_ENV} to the shared data folder (CI does)")
    return root


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """The small bundled samples (always available)."""
    from xllm_harness.data.samples import SAMPLES_DIR

    return SAMPLES_DIR


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, samples_dir) -> Path:
    """A tiny random Llama with a tokenizer trained on the bundled samples."""
    from xllm_harness.data.samples import tokenizer_corpus
    from xllm_harness.models.tiny_llama import build_tiny_llama

    return build_tiny_llama(tmp_path_factory.mktemp("tiny") / "model", tokenizer_corpus())


@pytest.fixture
def subprocess_env(tmp_path) -> dict[str, str]:
    """Environment for subprocesses: offline, no repo root on sys.path, private caches."""
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        PYTHONPATH="",
    )
    return env


@pytest.fixture
def install_plugin(tmp_path, monkeypatch):
    """Make a throw-away plugin visible to this process's registry (fresh registry per test)."""
    from xllm_harness import registry
    from xllm_harness.testing.plugins import write_plugin

    def install(dist: str, entry_name: str, module: str, source: str) -> Path:
        root = write_plugin(tmp_path / "site", dist, entry_name, module, source)
        monkeypatch.syspath_prepend(str(root))
        registry.get_registry.cache_clear()
        return root

    yield install
    registry.get_registry.cache_clear()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository checkout the tests run from."""
    return REPO


@pytest.fixture(scope="session")
def metric_corpus() -> list[str]:
    from xllm_harness.data.samples import tokenizer_corpus

    return tokenizer_corpus()


@pytest.fixture(scope="session")
def tiny_comet(tmp_path_factory, metric_corpus) -> Path:
    """A tiny random COMET RegressionMetric: ``<dir>/checkpoints/model.ckpt`` + ``<dir>/hparams.yaml``."""
    from xllm_harness.testing.tiny_metric_models import build_tiny_comet

    return build_tiny_comet(tmp_path_factory.mktemp("comet") / "tiny-comet", metric_corpus)


@pytest.fixture(scope="session")
def tiny_bleurt(tmp_path_factory, metric_corpus) -> Path:
    from xllm_harness.testing.tiny_metric_models import build_tiny_bleurt

    return build_tiny_bleurt(tmp_path_factory.mktemp("bleurt") / "tiny-bleurt", metric_corpus)


@pytest.fixture(scope="session")
def sacrebleu_home(tmp_path_factory, metric_corpus) -> Path:
    """A ``$SACREBLEU`` folder whose ``models/`` holds a test SentencePiece model (not the FLORES one)."""
    from xllm_harness.testing.tiny_metric_models import build_test_spm

    home = tmp_path_factory.mktemp("sacrebleu")
    from xllm_harness.testing.tiny_metric_models import SPM_NAME

    build_test_spm(home / "models" / SPM_NAME, metric_corpus)
    return home


@pytest.fixture
def use_sacrebleu_home(monkeypatch, sacrebleu_home) -> Path:
    """Point sacrebleu (in this process and in subprocesses) at :func:`sacrebleu_home`."""
    from sacrebleu.tokenizers import tokenizer_spm

    monkeypatch.setenv("SACREBLEU", str(sacrebleu_home))
    monkeypatch.setattr(tokenizer_spm, "SACREBLEU_DIR", str(sacrebleu_home))
    return sacrebleu_home
