"""Datasets from their official sources: locations, checksums, and ``xllm data fetch``.

Files live under the data directory (``XLLM_DATA_DIR``, default ``~/.cache/xllm_harness/data``), one
folder per data source. A fetch downloads into ``<name>.partial/``, verifies every sha256, extracts
into ``<name>.building/`` and only then renames that folder into place: a dataset folder is either
complete or absent. A cut download is resumed with an HTTP range request (``RETRIES`` times within a
fetch, and by the next fetch); a file that fails its checksum is deleted, never resumed from.
``XLLM_DATA_MIRROR`` replaces the scheme and host of every URL (``<mirror>/<host>/<path>``; ``http(s)://``
or ``file://``), for offline copies of the official files. Each installed folder holds a manifest
(``.xllm-source.json``) recording the URL, sha256 and how each file was verified.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import re
import shutil
import sys
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from xllm_harness.errors import InputError, MissingFileError, UnknownNameError, XllmError
from xllm_harness.registry import collect

CHUNK = 1 << 16
TIMEOUT_S = 60
RETRIES = 3
"""Automatic resumes of an interrupted download within one fetch."""
RETRY_DELAY_S = 2.0
MANIFEST = ".xllm-source.json"
"""Written into every fetched folder: where each file came from and how it was verified."""


class MissingDataError(MissingFileError):
    """A dataset file is not there; the message names the command that fetches it."""


class ChecksumError(XllmError, RuntimeError):
    """A downloaded file does not match its pinned sha256."""


class DownloadError(XllmError, RuntimeError):
    """A download failed for good (after its retries); what was received is kept for a resume."""


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
            f"(data directory: {data_dir()}, set XLLM_DATA_DIR to change it; "
            "XLLM_DATA_DIR=$(xllm data path --samples) tries the small bundled samples)."
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


def _redact(url: str) -> str:
    """``url`` without any ``user:password@`` part (for messages)."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]))


def _progress(desc: str, total: int | None, initial: int, enabled: bool = True):
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        initial=initial,
        unit="B",
        unit_scale=True,
        desc=desc,
        file=sys.stderr,
        disable=not enabled,
    )


class _Interrupted(Exception):
    """A transfer that stopped early; the bytes received so far stay in the ``.part`` file."""


class _Refused(Exception):
    """A request that retrying will not fix (HTTP 4xx, no route to the server)."""


def _range_start(content_range: str | None) -> int | None:
    """First byte of a ``Content-Range: bytes START-END/TOTAL`` header."""
    if not content_range or not content_range.startswith("bytes "):
        return None
    try:
        return int(content_range[6:].split("-", 1)[0])
    except ValueError:
        return None


def _transfer(url: str, part: Path, progress: bool) -> None:
    """One request: append to ``part`` from where it ends (Range), or restart it from zero."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "xllm-harness"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as err:
        if err.code == 416 and have:  # nothing left to send: the partial file is complete
            return
        if err.code >= 500 or err.code == 429:
            raise _Interrupted(f"HTTP {err.code} {err.reason}") from None
        raise _Refused(f"HTTP {err.code} {err.reason}") from None
    except urllib.error.URLError as err:
        if isinstance(err.reason, (TimeoutError, ConnectionResetError, ConnectionAbortedError)):
            raise _Interrupted(str(err.reason)) from None
        raise _Refused(
            f"{err.reason}. Offline? Set XLLM_DATA_MIRROR to a mirror of the official files "
            "(see docs/data.md)"
        ) from None
    except (TimeoutError, ConnectionError) as err:
        raise _Interrupted(f"{type(err).__name__}: {err}") from None
    with response:
        resumed = bool(have) and response.status == 206
        if resumed and _range_start(response.headers.get("Content-Range")) != have:
            raise _Interrupted(f"server answered the range request for byte {have} with another range")
        if not resumed:
            have = 0  # the server sent the whole file
        length = response.headers.get("Content-Length")
        expected = int(length) if length and length.isdigit() else None
        received = 0
        total = None if expected is None else have + expected
        bar = _progress(part.name.removesuffix(".part"), total, have, progress)
        with bar, open(part, "ab" if resumed else "wb") as fh:
            while True:
                try:
                    chunk = response.read(CHUNK)
                except (http.client.HTTPException, OSError) as err:
                    raise _Interrupted(
                        f"connection lost after {have + received} bytes ({type(err).__name__})"
                    ) from None
                if not chunk:
                    break
                fh.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    if expected is not None and received < expected:
        raise _Interrupted(f"connection closed after {have + received} of {have + expected} bytes")


def download(
    url: str,
    dest: Path,
    expected_sha256: str | None,
    progress: bool = True,
    retries: int | None = None,
    rerun: str = "the fetch",
) -> Path:
    """Download ``url`` to ``dest`` and verify its sha256 (``rerun`` names the command in errors).

    The bytes go to ``dest.part`` first. An interrupted transfer is resumed with an HTTP range
    request, up to ``retries`` times here and again by any later call; the ``.part`` file only
    becomes ``dest`` once its checksum matches (it is deleted when it does not).
    """
    if dest.exists() and (expected_sha256 is None or sha256_file(dest) == expected_sha256):
        return dest
    retries = RETRIES if retries is None else retries
    part = dest.with_name(dest.name + ".part")
    source = _mirror(url)
    via = f" (via {_redact(source)})" if source != url else ""
    for attempt in range(retries + 1):
        try:
            _transfer(source, part, progress)
            break
        except _Refused as err:
            raise DownloadError(f"Download of {url}{via} failed: {err}.") from None
        except _Interrupted as err:
            kept = part.stat().st_size if part.exists() else 0
            if attempt == retries:
                raise DownloadError(
                    f"Download of {url}{via} failed after {retries + 1} attempt(s): {err}. "
                    f"The {kept} bytes received are kept in {part}; run {rerun} again to resume."
                ) from None
            delay = RETRY_DELAY_S * (attempt + 1)
            print(f"{dest.name}: {err}; resuming at byte {kept} in {delay:g} s", file=sys.stderr)
            time.sleep(delay)
    actual = sha256_file(part)
    if expected_sha256 is not None and actual != expected_sha256:
        part.unlink()
        raise ChecksumError(
            f"Checksum mismatch for {dest.name} from {url}{via}: expected sha256 {expected_sha256}, "
            f"got {actual}. The download was deleted (a corrupted transfer, or the file changed upstream); "
            f"run {rerun} again."
        )
    part.replace(dest)
    return dest


def _extract(archive: Path, target: Path, strip: int, members: tuple[str, ...]) -> int:
    """Extract regular files of ``archive`` into ``target``; returns how many were written."""

    def keep(name: str) -> str | None:
        parts = Path(name).parts[strip:]
        if not parts:
            return None
        rel = "/".join(parts)
        if ".." in parts or rel.startswith("/"):
            raise XllmError(f"Refusing unsafe archive member {name!r} in {archive}")
        if members and not any(rel == m or rel.startswith(m.rstrip("/") + "/") for m in members):
            return None
        return rel

    written = 0
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
                written += 1
        return written
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
            written += 1
    return written


@contextlib.contextmanager
def _exclusive(lock_path: Path):
    """Hold an exclusive lock on ``lock_path`` (two fetches of one source never share files)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no locking
        yield
        return
    with open(lock_path, "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another fetch holding {lock_path}", file=sys.stderr)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _checksums(source: DataSource, overrides: dict[str, str]) -> dict[str, str | None]:
    """File name -> sha256 to verify: the pinned one, or the user's ``--sha256`` override."""
    pinned = {remote.name: remote.sha256 for remote in source.files}
    for name, value in overrides.items():
        if name not in pinned:
            raise InputError(
                f"--sha256: data source {source.name!r} has no file {name!r}; its files: {', '.join(pinned)}"
            )
        if not re.fullmatch(r"[0-9a-f]{64}", value):
            raise InputError(f"--sha256 {name}={value}: expected 64 lowercase hex digits")
    return {**pinned, **overrides}


def fetch(
    name: str,
    *,
    force: bool = False,
    progress: bool = True,
    sha256: dict[str, str] | None = None,
    retries: int | None = None,
) -> Path:
    """Install data source ``name`` into the data directory; returns its folder.

    ``sha256`` maps file names of the source to checksums that replace the pinned ones (for a
    source whose published checksum is missing or unconfirmed, see ``DataSource.checksum_note``).
    The folder appears only once every file is verified and extracted; downloads are staged in
    ``<name>.partial/`` so that a failed fetch resumes where it stopped.
    """
    sources = get_sources()
    if name not in sources:
        raise UnknownNameError(f"Unknown data source {name!r}; known: {', '.join(sorted(sources))}")
    source = sources[name]
    overrides = dict(sha256 or {})
    checksums = _checksums(source, overrides)
    root = data_dir()
    target = root / name
    if target.exists() and not force:
        return target
    root.mkdir(parents=True, exist_ok=True)
    with _exclusive(root / f".{name}.lock"):
        staging = root / f"{name}.partial"  # downloads survive an interrupted fetch
        staging.mkdir(exist_ok=True)
        build = root / f"{name}.building"
        shutil.rmtree(build, ignore_errors=True)
        build.mkdir()
        try:
            manifest = []
            for remote in source.files:
                expected = checksums[remote.name]
                if remote.name in overrides:
                    print(f"{remote.name}: verifying the sha256 given with --sha256", file=sys.stderr)
                elif expected is None:
                    print(f"warning: {remote.url} has no published checksum; not verified", file=sys.stderr)
                rerun = f"`xllm data fetch {name}`"
                try:
                    path = download(remote.url, staging / remote.name, expected, progress, retries, rerun)
                except ChecksumError as err:
                    raise ChecksumError(f"{err}{_mismatch_hint(source, remote.name)}") from None
                if remote.extract:
                    if not _extract(path, build, remote.strip_components, remote.members):
                        raise XllmError(
                            f"{name}: {remote.name} holds no files under {remote.members or 'its root'} after "
                            f"dropping {remote.strip_components} leading folder(s); the archive layout changed?"
                        )
                else:
                    shutil.copy2(path, build / remote.name)
                manifest.append(
                    {
                        "url": remote.url,
                        "file": remote.name,
                        "sha256": expected or sha256_file(path),
                        "verified": "override"
                        if remote.name in overrides
                        else ("pinned" if expected else "no"),
                    }
                )
            (build / MANIFEST).write_text(json.dumps({"source": name, "files": manifest}, indent=2) + "\n")
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)
            raise
        if target.exists():
            old = root / f"{name}.old"
            shutil.rmtree(old, ignore_errors=True)
            target.rename(old)
            build.rename(target)
            shutil.rmtree(old)
        else:
            build.rename(target)
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _mismatch_hint(source: DataSource, filename: str) -> str:
    if not source.checksum_note:
        return ""
    return (
        f" Note on this source: {source.checksum_note} If you have verified the file yourself, pass "
        f"its checksum: `xllm data fetch {source.name} --sha256 {filename}=<sha256>`."
    )
