"""Data sources and where their files live.

A :class:`DataSource` (registered by plugins through ``xllm_data_sources``) names the official files
of a dataset; ``xllm data fetch NAME`` installs them into ``<data dir>/NAME`` (:mod:`xllm_harness.data.fetch`,
over the resumable, verified downloads of :mod:`xllm_harness.data.download`). The data directory is
``XLLM_DATA_DIR`` or ``~/.cache/xllm_harness/data``; :func:`resolve` finds a file in it or says how
to get it.
"""

from __future__ import annotations

import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from xllm_harness.errors import MissingFileError
from xllm_harness.registry import get_registry


class MissingDataError(MissingFileError):
    """A dataset file is not there; the message names the command that fetches it."""


@dataclass(frozen=True)
class RemoteFile:
    """One file of a data source."""

    url: str
    sha256: str | None
    """Pinned checksum; ``None`` only where no checksum was ever published (then printed, not checked)."""
    filename: str | None = None
    """Name to save as (default: the URL's last path component)."""
    extract: bool = False
    strip_components: int = 0
    """Leading path components to drop from archive members (like ``tar --strip-components``)."""
    members: tuple[str, ...] = ()
    """Only extract members under these prefixes (after stripping); empty means all."""

    @property
    def name(self) -> str:
        return self.filename or urllib.parse.urlparse(self.url).path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class DataSource:
    """A named dataset that ``xllm data fetch NAME`` installs into ``<data dir>/NAME``."""

    name: str
    description: str
    files: tuple[RemoteFile, ...]
    license: str = ""
    checksum_note: str = ""


def data_dir() -> Path:
    """The data directory: ``XLLM_DATA_DIR`` or ``~/.cache/xllm_harness/data``."""
    root = os.environ.get("XLLM_DATA_DIR")
    if root:
        return Path(root).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache"))
    return Path(cache) / "xllm_harness" / "data"


def get_sources() -> dict[str, DataSource]:
    """Registered data sources by name; two plugins claiming one name is an error."""
    return get_registry().named(
        "xllm_data_sources", "data source", lambda x: isinstance(x, DataSource), "a DataSource"
    )


def resolve(location: str, **fmt: str) -> Path:
    """Path of a dataset location (``xquad/xquad.ar.json`` or an absolute path); raises if missing."""
    location = location.format(**fmt) if fmt else location
    path = Path(location).expanduser()
    if path.is_absolute():
        if not path.exists():
            raise MissingDataError(f"Dataset file {path} does not exist (given as an absolute location).")
        return path
    full = data_dir() / path
    if not full.exists():
        source = path.parts[0]
        hint = (
            f"run `xllm data fetch {source}`"
            if source in get_sources()
            else "put the file there (no registered data source is named " + repr(source) + ")"
        )
        raise MissingDataError(
            f"Dataset file {full} is missing: {hint} "
            f"(data directory: {data_dir()}, set XLLM_DATA_DIR to change it; "
            "XLLM_DATA_DIR=$(xllm data path --samples) tries the small bundled samples)."
        )
    return full
