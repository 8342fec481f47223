"""Datasets from their official sources: locations, checksums, and ``xllm data fetch``.

Files live under the data directory (``XLLM_DATA_DIR``, default ``~/.cache/xllm_harness/data``), one
folder per data source. A fetch downloads into ``<name>.partial/`` (resuming an interrupted download
with an HTTP range request), verifies every sha256, extracts, and only then renames the folder into
place: a dataset folder is either complete or absent. ``XLLM_DATA_MIRROR`` replaces the scheme and
host of every URL (an offline mirror of the official files).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tarfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from xllm_harness.registry import collect

CHUNK = 1 << 16


class MissingDataError(FileNotFoundError):
    """A dataset file is not there; the message names the command that fetches it."""


class ChecksumError(RuntimeError):
    """A downloaded file does not match its pinned sha256."""


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
    homepage: str = ""
    checksum_note: str = ""
    keep_archives: bool = False
    extra: dict = field(default_factory=dict, compare=False)


def data_dir() -> Path:
    """The data directory: ``XLLM_DATA_DIR`` or ``~/.cache/xllm_harness/data``."""
    root = os.environ.get("XLLM_DATA_DIR")
    if root:
        return Path(root).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache"))
    return Path(cache) / "xllm_harness" / "data"


def get_sources() -> dict[str, DataSource]:
    return {src.name: src for src in collect("xllm_data_sources")}


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
            f"(data directory: {data_dir()}, set XLLM_DATA_DIR to change it)."
        )
    return full


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _mirror(url: str) -> str:
    mirror = os.environ.get("XLLM_DATA_MIRROR")
    if not mirror:
        return url
    parts = urllib.parse.urlparse(url)
    return mirror.rstrip("/") + "/" + parts.netloc + parts.path


def _progress(desc: str, total: int | None, initial: int):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, desc=desc, file=sys.stderr)


def download(url: str, dest: Path, expected_sha256: str | None, progress: bool = True) -> Path:
    """Download ``url`` to ``dest``, resuming ``dest.part`` if present, then verify the checksum."""
    if dest.exists() and (expected_sha256 is None or sha256_file(dest) == expected_sha256):
        return dest
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(_mirror(url), headers={"User-Agent": "xllm-harness"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as err:
        if err.code == 416 and have:  # the partial file is already complete
            response = None
        else:
            raise RuntimeError(f"Download of {url} failed: HTTP {err.code} {err.reason}") from None
    except urllib.error.URLError as err:
        raise RuntimeError(
            f"Download of {url} failed: {err.reason}. Offline? Copy the file to {dest} "
            "or set XLLM_DATA_MIRROR to a mirror."
        ) from None
    if response is not None:
        with response:
            resumed = have and response.status == 206
            if not resumed:
                have = 0
            length = response.headers.get("Content-Length")
            total = have + int(length) if length else None
            bar = _progress(dest.name, total, have) if progress else None
            with open(part, "ab" if resumed else "wb") as fh:
                for chunk in iter(lambda: response.read(CHUNK), b""):
                    fh.write(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
            if bar is not None:
                bar.close()
    actual = sha256_file(part)
    if expected_sha256 is not None and actual != expected_sha256:
        part.unlink()
        raise ChecksumError(
            f"Checksum mismatch for {url}: expected sha256 {expected_sha256}, got {actual}. "
            "The partial download was deleted; run the fetch again."
        )
    part.rename(dest)
    return dest


def _extract(archive: Path, target: Path, strip: int, members: tuple[str, ...]) -> None:
    def keep(name: str) -> str | None:
        parts = Path(name).parts[strip:]
        if not parts:
            return None
        rel = "/".join(parts)
        if ".." in parts or rel.startswith("/"):
            raise RuntimeError(f"Refusing unsafe archive member {name!r} in {archive}")
        if members and not any(rel == m or rel.startswith(m.rstrip("/") + "/") for m in members):
            return None
        return rel

    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                rel = keep(info.filename)
                if rel is None or info.is_dir():
                    continue
                out = target / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst)
        return
    with tarfile.open(archive) as tf:
        for member in tf.getmembers():
            rel = keep(member.name)
            if rel is None or not member.isfile():
                continue
            out = target / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            src = tf.extractfile(member)
            assert src is not None
            with src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)


def fetch(name: str, *, force: bool = False, progress: bool = True) -> Path:
    """Install data source ``name`` into the data directory; returns its folder."""
    sources = get_sources()
    if name not in sources:
        raise KeyError(f"Unknown data source {name!r}; known: {', '.join(sorted(sources))}")
    source = sources[name]
    target = data_dir() / name
    if target.exists() and not force:
        return target
    staging = data_dir() / f"{name}.partial"  # downloads survive an interrupted fetch
    staging.mkdir(parents=True, exist_ok=True)
    build = data_dir() / f"{name}.building"
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir(parents=True)
    for remote in source.files:
        if remote.sha256 is None:
            print(f"warning: {remote.url} has no published checksum; not verified", file=sys.stderr)
        path = download(remote.url, staging / remote.name, remote.sha256, progress=progress)
        if remote.extract:
            _extract(path, build, remote.strip_components, remote.members)
        else:
            shutil.copy2(path, build / remote.name)
    if target.exists():
        shutil.rmtree(target)
    build.rename(target)
    shutil.rmtree(staging, ignore_errors=True)
    return target
