"""Errors a user can fix.

Every error that bad input, a missing file, model or optional dependency can cause derives from
:class:`XllmError`. The CLI turns exactly these into one line, ``xllm <command>: error: <message>``,
and exit code 2; any other exception is a bug and keeps its traceback. The subclasses also derive
from the matching built-in exception, so ``except ValueError`` in library code keeps working.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class XllmError(Exception):
    """An error the user can fix; its message names the file, field or option and what to do."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else self.__class__.__name__


class InputError(XllmError, ValueError):
    """A value, option or file content that cannot be right."""


class MissingFileError(XllmError, FileNotFoundError):
    """A file or folder the user named (or a default one) does not exist."""


class UnknownNameError(XllmError, KeyError):
    """A task, metric, language, analyzer... name that is not registered."""


class PluginConflictError(InputError):
    """Two plugins contribute the same name (a metric, judge, language...); the message names both."""


class MissingDependencyError(XllmError):
    """An optional package or a model file is not installed; the message says how to get it."""


def did_you_mean(name: str, choices: Iterable[str], n: int = 3, prefix: str = "") -> str:
    """`` (did you mean 'a', 'b'?)`` for the closest registered names, or ``""``. Names are compared
    without ``prefix`` and shown with it (a folder's siblings: ``./runs/`` + ``tiny-coit``)."""
    close = difflib.get_close_matches(name, list(choices), n=n, cutoff=0.6)
    return f" (did you mean {', '.join(repr(prefix + c) for c in close)}?)" if close else ""


def unknown_name(kind: str, name: str, choices: Iterable[str], hint: str = "") -> UnknownNameError:
    """An :class:`UnknownNameError` for ``name`` with a "did you mean" and the registered names."""
    choices = sorted(set(choices))
    listing = ", ".join(choices) if len(choices) <= 30 else ", ".join(choices[:30]) + ", ..."
    message = f"unknown {kind} {name!r}{did_you_mean(name, choices)}; registered: {listing}"
    return UnknownNameError(f"{message}. {hint}" if hint else message)
