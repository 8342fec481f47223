"""The plugin contract: every hook xllm-harness calls.

A plugin is a module with ``@hookimpl`` functions, registered through the ``xllm_harness``
entry-point group (the built-in plugins use the same group). No hook takes arguments; each returns a
list, and :func:`xllm_harness.registry.collect` flattens the lists of all plugins in registration
order. Hooks are called lazily, the first time the registry is asked for what they contribute, and
their results are cached for the life of the process.

The contract classes the hooks return are imported for type checkers only (``TYPE_CHECKING``, as in
pytest's own hookspec module): the contracts use the registry, which uses this module, and nothing
here imports them when the program runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from xllm_harness.analyzers import Analyzer
    from xllm_harness.data import DataSource
    from xllm_harness.judging.backend import Judge
    from xllm_harness.languages import Language
    from xllm_harness.metrics import Metric
    from xllm_harness.taskgen import TaskFamily
    from xllm_harness.train_sources import TrainSource

PROJECT = "xllm_harness"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def xllm_languages() -> list[Language]:
    """Languages this plugin adds (code, English name, QA prompt pieces, FLORES code, normalization).

    :return: :class:`~xllm_harness.languages.Language` objects; a code registered twice is an error.

    Called when the language table is first needed: task generation for plugin languages, scoring,
    ``xllm plugins``.
    """


@hookspec
def xllm_task_dirs() -> list[Path]:
    """Folders of lm-eval task YAMLs (with the Python they reference) to make visible to lm-eval.

    :return: folder paths; every route into lm-eval (bare ``lm_eval``, ``--include_path "$(xllm
        tasks-dir)"``, ``xllm eval``) indexes them.

    Called when lm-eval builds a TaskManager and by ``xllm tasks`` / ``xllm tasks-dir``.
    """


@hookspec
def xllm_task_families() -> list[TaskFamily]:
    """Task families that turn each registered language into tasks (and a leaderboard table).

    :return: :class:`~xllm_harness.taskgen.TaskFamily` objects.

    Called when the generated task folder for plugin languages is built and by ``xllm leaderboard``.
    """


@hookspec
def xllm_metrics() -> list[type[Metric]]:
    """Metric classes usable by tasks (through the registry) and ``xllm score``.

    :return: subclasses of :class:`~xllm_harness.metrics.Metric`, each with a unique ``name``.

    Called by :func:`xllm_harness.metrics.get_metrics` when a task aggregates or ``xllm score`` runs.
    """


@hookspec
def xllm_judges() -> list[type[Judge]]:
    """LLM-as-a-judge backends usable by ``xllm judge``.

    :return: subclasses of :class:`~xllm_harness.judging.backend.Judge`, each with a unique ``name``.

    Called when ``xllm judge`` picks its backend (``--judge NAME``).
    """


@hookspec
def xllm_analyzers() -> list[type[Analyzer]]:
    """Analyzers run by ``xllm analyze <name>``.

    :return: subclasses of :class:`~xllm_harness.analyzers.Analyzer`, each with a unique ``name``.

    Called when ``xllm analyze`` builds its subcommands.
    """


@hookspec
def xllm_data_sources() -> list[DataSource]:
    """Datasets ``xllm data fetch NAME`` can install.

    :return: :class:`~xllm_harness.data.DataSource` objects (official URLs with pinned sha256).

    Called by ``xllm data list|fetch`` and when a missing data file's message names its fetch command.
    """


@hookspec
def xllm_train_sources() -> list[TrainSource]:
    """Instruction-data sources for ``xllm data build`` / ``xllm train`` specs (``alpaca_en``...).

    :return: :class:`~xllm_harness.train_sources.TrainSource` objects, one per ``kind``.

    Called when a data spec is parsed.
    """
