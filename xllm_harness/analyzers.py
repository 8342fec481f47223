"""The analyzer contract: small classes run by ``xllm analyze <name>``.

An analyzer is a class with a ``name``, a one-line ``help``, a plain-text ``description`` and
``example`` for its help page (no reST markup: the help page prints them as written), ``Options``
(a dataclass, subclass of :class:`AnalyzerOptions`, whose fields declared with :func:`option` are its
command-line options) and ``run(options) -> dict``, which writes its JSON, CSV and PNG files into
``options.output`` and returns a JSON-serialisable summary (including the paths it wrote under
``"files"``). The analyzer never sees a command line: ``xllm analyze`` turns the fields into
options and the parsed options into an ``Options`` object. Plugins contribute analyzer classes
through the ``xllm_analyzers`` hook; the built-ins (``scaling_law``, ``similarity``, ``allocator``,
``alignment``) are plugins like any other. Module imports must stay cheap: import
numpy/scipy/torch/matplotlib inside ``run``.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from xllm_harness.errors import InputError
from xllm_harness.registry import get_registry
from xllm_harness.results import files


def option(
    help: str,
    *,
    default: Any = dataclasses.MISSING,
    choices: Sequence[str] | None = None,
    metavar: str | None = None,
) -> Any:
    """A dataclass field that is a command-line option: ``batch_size: int = option("...", default=16)``
    is ``--batch-size N``. The field's type says the rest: ``bool`` is a switch, ``int``/``float``
    are converted, ``tuple[str, ...]`` (or ``| None``) is repeatable; no default means required."""
    metadata = {"help": help, "choices": tuple(choices) if choices else None, "metavar": metavar}
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(kw_only=True)
class AnalyzerOptions:
    """What every analyzer gets; an analyzer's ``Options`` subclass adds its own :func:`option` fields."""

    output: Path
    """The folder for its JSON, CSV and PNG files (``--output``, made by :func:`output_dir`)."""


class Analyzer:
    """Base class of every analyzer (subclass it, or just provide the same attributes)."""

    name: ClassVar[str] = ""
    help: ClassVar[str] = ""
    """One line for ``xllm analyze --help``."""
    description: ClassVar[str] = ""
    """Plain text at the top of ``xllm analyze <name> --help`` (default: ``help``)."""
    example: ClassVar[str] = ""
    """An example command line (or several), shown at the end of the help page."""
    Options: ClassVar[type[AnalyzerOptions]] = AnalyzerOptions
    """The analyzer's options (a dataclass of :func:`option` fields)."""

    def run(self, options: Any) -> dict[str, Any]:
        """Do the analysis, write outputs into ``options.output``, return a summary."""
        raise NotImplementedError


def get_analyzers() -> dict[str, type[Analyzer]]:
    """All registered analyzer classes by name; two plugins may not claim the same name."""
    return get_registry().named(
        "xllm_analyzers",
        "analyzer",
        lambda cls: isinstance(cls, type) and callable(getattr(cls, "run", None)),
        "an analyzer class (with `name` and `run`)",
        lambda cls: getattr(cls, "name", None),
    )


# ----------------------------------------------------------------------------------------------
# Input helpers shared by the analyzers: every value they use is checked, errors name where it was


def finite_number(value: Any, where: str) -> float:
    """A JSON/CSV value that must be a finite number (a number or a numeric string; not a boolean).
    ``where`` names it (``p.csv row 2: score``); the error reads ``<where> 'x' is not a number``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InputError(f"{where} {value!r} is not a number")
    try:
        number = float(value)
    except ValueError:
        raise InputError(f"{where} {value!r} is not a number") from None
    if not math.isfinite(number):
        raise InputError(f"{where} {value!r} is not a finite number")
    return number


def text_field(row: Mapping[str, Any], field: str, where: str) -> str:
    """A row's text field, stripped (``""`` when absent or empty); any other type is an error."""
    value = row.get(field)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputError(f"{where}: {field} {value!r} is not text")
    return value.strip()


# ----------------------------------------------------------------------------------------------
# Output helpers shared by the analyzers


def output_dir(path: str | Path) -> Path:
    """Create (if needed) and return the output folder."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise InputError(f"--output {out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    return out


def write_json(path: Path, data: Any) -> Path:
    """Write ``data`` as JSON, whole (non-finite numbers become null: a number is right or absent)."""
    return files.write_json(path, files.json_safe(data))


def write_csv(path: Path, rows: Sequence[Mapping[str, Any]], fields: Iterable[str] | None = None) -> Path:
    """Write ``rows`` as CSV, whole (missing and non-finite values are empty cells)."""
    fields = list(fields) if fields is not None else list(rows[0]) if rows else []
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in files.json_safe(dict(row)).items()})
    return files.write_text(path, buffer.getvalue())


def pyplot():
    """matplotlib's pyplot on the non-interactive Agg backend (safe on headless machines)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def warn(message: str) -> None:
    """A warning on stderr, one line: ``warning: <message>``."""
    print(f"warning: {message}", file=sys.stderr)


def format_count(value: float, _position: object = None) -> str:
    """``1200000`` → ``1.2M``, ``50000`` → ``50k``, ``800`` → ``800`` (a matplotlib tick formatter too)."""
    for factor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.4g}{suffix}"
    return f"{value:.4g}"


def count_axis(axis) -> None:
    """Label a matplotlib axis holding example counts with :func:`format_count` (300k, 1.2M)."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(format_count))


def save_figure(fig, path: Path) -> Path:
    """Save ``fig`` whole (a temporary file beside ``path``, then one rename), in the format of its suffix."""
    with files.atomic_path(path) as tmp:
        fig.savefig(tmp, format=Path(path).suffix.lstrip(".") or "png", dpi=120, bbox_inches="tight")
    pyplot().close(fig)
    return path
