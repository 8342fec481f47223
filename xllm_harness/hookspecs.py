"""The plugin contract: every hook xllm-harness calls.

A plugin is a module with ``@hookimpl`` functions, registered through the ``xllm_harness``
entry-point group. The built-in plugins use the same group. Every hook returns a list; pluggy
gathers the lists of all plugins.
"""

from __future__ import annotations

import pluggy

PROJECT = "xllm_harness"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def xllm_languages() -> list:
    """Return :class:`xllm_harness.languages.Language` objects this plugin adds."""


@hookspec
def xllm_task_dirs() -> list:
    """Return folders of lm-eval task YAMLs to make visible to lm-eval."""


@hookspec
def xllm_task_families() -> list:
    """Return :class:`xllm_harness.taskgen.TaskFamily` objects that turn languages into tasks."""


@hookspec
def xllm_metrics() -> list:
    """Return metric classes (sample- or corpus-level) usable by tasks and ``xllm score``."""


@hookspec
def xllm_judges() -> list:
    """Return judge classes (LLM-as-a-judge backends) usable by ``xllm judge``."""


@hookspec
def xllm_analyzers() -> list:
    """Return analyzer classes run by ``xllm analyze <name>``."""


@hookspec
def xllm_data_sources() -> list:
    """Return :class:`xllm_harness.data.DataSource` objects fetchable by ``xllm data fetch``."""


@hookspec
def xllm_train_sources() -> list:
    """Return instruction-data sources for ``xllm data build`` / ``xllm train`` specs (``alpaca_en``...)."""
