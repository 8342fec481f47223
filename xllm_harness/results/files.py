"""Writing the project's files whole: a temporary file in the same folder, then one rename.

Every output of every command goes through here, so a killed or failed run leaves either the previous
file or the new one, never a shorter valid one. ``check_writable`` tests an output folder before any
expensive work starts. ``timestamp`` is the one time stamp in our file names (lm-eval's own form).
Folders written by several files (checkpoints, a saved model) are built under a temporary name and
renamed (``atomic_dir``, ``replace_dir``), or their finished files moved in one by one
(``move_files``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from xllm_harness.errors import InputError


def timestamp(now: dt.datetime | None = None) -> str:
    """``2026-12-07T16-43-37.123456``: lm-eval's ``results_<timestamp>.json`` form, microseconds always."""
    return (now or dt.datetime.now()).strftime("%Y-%m-%dT%H-%M-%S.%f")


def check_writable(folder: str | Path, what: str = "output folder", *, create: bool = True) -> Path:
    """Create ``folder`` if needed and prove a file can be written in it; raise naming it otherwise.

    ``create=False`` creates nothing (for a check before other checks that may still fail): the
    nearest existing folder on the way must be a folder in which a file can be written."""
    folder = Path(folder)
    try:
        if create:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder
        else:
            probe = next(p for p in (folder, *folder.parents) if p.exists() or p == p.parent)
            if not probe.is_dir():
                raise NotADirectoryError(20, f"{probe} is not a folder")
        with tempfile.NamedTemporaryFile(dir=probe, prefix=".xllm-write-check-"):
            pass
    except OSError as err:
        reason = err.strerror or str(err)
        raise InputError(
            f"{what} {folder} cannot be written ({reason}); choose a writable location"
        ) from None
    return folder


OUTPUT_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR, errno.EFBIG}
)
"""Why an output location cannot take a file: a user's problem to fix (one line), not a bug."""


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path``; renamed onto ``path`` when the block ends without an error.

    For writers that need a file name of their own (``torch.save``, ``savefig``). On an error the
    temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    tmp_path = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        tmp_path = Path(tmp)
        yield tmp_path
        os.replace(tmp_path, path)
    except OSError as err:
        if err.errno not in OUTPUT_ERRNOS:
            raise
        raise InputError(
            f"cannot write {path} ({err.strerror or err}); free space or choose a writable location "
            "(the previous file, if any, is unchanged)"
        ) from None
    finally:
        if tmp_path is not None:
            tmp_path.unlink(missing_ok=True)


def write_bytes(path: str | Path, data: bytes, *, sync: bool = True) -> Path:
    """Write ``data`` to ``path`` whole (flushed to disk before the rename). ``sync=False`` skips the
    flush to disk for files rewritten very often (a training log): still whole when the process is
    killed, only a crash of the machine could lose the last version."""
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        handle.write(data)
        if sync:
            handle.flush()
            os.fsync(handle.fileno())
    return path


def write_text(path: str | Path, text: str, *, sync: bool = True) -> Path:
    """Write UTF-8 ``text`` to ``path`` whole."""
    return write_bytes(path, text.encode("utf-8"), sync=sync)


def write_json(path: str | Path, obj: Any, indent: int | None = 2) -> Path:
    """Write ``obj`` as JSON whole; a value JSON cannot hold (NaN, infinity) is a bug, not a file."""
    return write_text(path, json.dumps(obj, indent=indent, ensure_ascii=False, allow_nan=False) + "\n")


def write_jsonl(path: str | Path, records: Iterable[Any]) -> Path:
    """Write one JSON record per line, whole."""
    lines = [json.dumps(r, ensure_ascii=False, allow_nan=False) for r in records]
    return write_text(path, "".join(line + "\n" for line in lines))


def json_safe(value: Any) -> Any:
    """A JSON-safe copy of ``value``: NaN and infinities become ``None`` (a number is right or absent),
    numpy values Python ones, paths strings."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def replace_dir(tmp: str | Path, path: str | Path) -> Path:
    """Rename the finished folder ``tmp`` onto ``path`` (same parent). An existing ``path`` is moved
    aside first and deleted after, so ``path`` is always either the old folder or the new one whole."""
    tmp, path = Path(tmp), Path(path)
    old = None
    if path.exists():
        old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".old"))
        os.replace(path, old / path.name)
    os.replace(tmp, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return path


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """A temporary folder beside ``path``, renamed onto it (:func:`replace_dir`) when the block ends
    without an error; on an error it is removed and ``path`` is left as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        yield tmp
        replace_dir(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def move_files(folder: str | Path, dest: str | Path, last: tuple[str, ...] = ()) -> list[Path]:
    """Move every file of the finished ``folder`` into ``dest``, each by one rename, the names in
    ``last`` last (e.g. the file that makes ``dest`` loadable), then remove ``folder``.

    For outputs that share ``dest`` with other files: each file is whole, old or new."""
    folder, dest = Path(folder), Path(dest)
    names = sorted(p.name for p in folder.iterdir())
    names = [n for n in names if n not in last] + [n for n in last if n in names]
    moved = []
    for name in names:
        os.replace(folder / name, dest / name)
        moved.append(dest / name)
    folder.rmdir()
    return moved


def remove_leftovers(path: str | Path) -> list[Path]:
    """Delete the temporaries a killed writer of ``path`` left beside it (``.NAME.*.tmp`` files or
    folders of :func:`atomic_path` / :func:`atomic_dir`, ``.NAME.*.old`` of :func:`replace_dir`).

    Call it where one process owns ``path`` (before it writes ``path`` again); returns what it deleted."""
    path = Path(path)
    if not path.parent.is_dir():
        return []
    found = [*path.parent.glob(f".{path.name}.*.tmp"), *path.parent.glob(f".{path.name}.*.old")]
    for leftover in found:
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
    return found
