"""The plugin contract reads like pytest's hookspec.py: typed returns and documented hooks."""

from __future__ import annotations

import inspect
import typing

import pytest

from xllm_harness import hookspecs
from xllm_harness.registry import HOOK_NAMES, get_registry

HOOKS = [getattr(hookspecs, name) for name in HOOK_NAMES]


def test_every_hook_is_a_registered_hookspec():
    assert len(HOOKS) == 8
    assert set(HOOK_NAMES) == {name for name in dir(get_registry().pm.hook) if name.startswith("xllm_")}


@pytest.mark.parametrize("hook", HOOKS, ids=HOOK_NAMES)
def test_hook_returns_a_typed_list(hook):
    returned = typing.get_type_hints(hook, globalns=vars(hookspecs) | _checking_names())["return"]
    assert typing.get_origin(returned) is list
    (item,) = typing.get_args(returned)
    assert item is not typing.Any


@pytest.mark.parametrize("hook", HOOKS, ids=HOOK_NAMES)
def test_hook_docstring_says_what_it_returns_and_when_it_is_called(hook):
    doc = inspect.getdoc(hook) or ""
    assert ":return:" in doc and "Called " in doc
    assert not inspect.signature(hook).parameters  # no parameters: documented in the module docstring


def _checking_names() -> dict:
    """The names hookspecs imports only for type checking."""
    from xllm_harness.analyzers import Analyzer
    from xllm_harness.data import DataSource
    from xllm_harness.judging.backend import Judge
    from xllm_harness.languages import Language
    from xllm_harness.metrics import Metric
    from xllm_harness.taskgen import TaskFamily
    from xllm_harness.train_sources import TrainSource

    return {
        "Analyzer": Analyzer,
        "DataSource": DataSource,
        "Judge": Judge,
        "Language": Language,
        "Metric": Metric,
        "TaskFamily": TaskFamily,
        "TrainSource": TrainSource,
    }
