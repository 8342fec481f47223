"""Shared fixtures: offline mode, a tiny model, and the full data files when CI provides them."""

from __future__ import annotations

import json
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
    from xllm_harness.samples import SAMPLES_DIR

    return SAMPLES_DIR


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, samples_dir) -> Path:
    """A tiny random Llama with a tokenizer trained on the bundled samples."""
    from xllm_harness.samples import tokenizer_corpus
    from xllm_harness.tiny_model import build_tiny_llama

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


def python() -> str:
    return sys.executable


def read_json(path: Path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_plugin(root: Path, dist: str, entry_name: str, module: str, source: str) -> Path:
    """Lay out an installed-looking distribution (dist-info with an ``xllm_harness`` entry point) in root."""
    root.mkdir(parents=True, exist_ok=True)
    info = root / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[xllm_harness]\n{entry_name} = {module}\n")
    (root / f"{module}.py").write_text(source, encoding="utf-8")
    return root


@pytest.fixture
def install_plugin(tmp_path, monkeypatch):
    """Make a throw-away plugin visible to this process's registry (fresh registry per test)."""
    from xllm_harness import registry

    def install(dist: str, entry_name: str, module: str, source: str) -> Path:
        root = write_plugin(tmp_path / "site", dist, entry_name, module, source)
        monkeypatch.syspath_prepend(str(root))
        registry.get_registry.cache_clear()
        return root

    yield install
    registry.get_registry.cache_clear()
