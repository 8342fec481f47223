"""Fixtures for the analyzer tests.

``english_copy`` registers, through the real plugin hook, a language ``enx`` whose FLORES files are
copies of English: any similarity or alignment measure must rate it as identical to English.
"""

from __future__ import annotations

import shutil

import pytest

from xllm_harness.hookspecs import hookimpl
from xllm_harness.languages import Language


@pytest.fixture
def english_copy(tmp_path, samples_dir):
    from xllm_harness.registry import _collect, get_registry

    folder = tmp_path / "english_copy"
    for split in ("dev", "devtest"):
        (folder / split).mkdir(parents=True)
        shutil.copy(samples_dir / "flores101" / split / f"eng.{split}", folder / split / f"enx.{split}")

    class EnglishCopyPlugin:
        @hookimpl
        def xllm_languages(self):
            return [Language(code="enx", name="English copy", flores=str(folder / "{split}" / "enx.{split}"))]

    plugin = EnglishCopyPlugin()
    registry = get_registry()
    registry.register(plugin, name="test-english-copy")
    try:
        yield "enx"
    finally:
        registry.pm.unregister(plugin)
        _collect.cache_clear()
