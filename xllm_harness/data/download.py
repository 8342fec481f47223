"""HTTP downloads that resume and verify: range requests, retries, mirrors, sha256.

The bytes go to ``<dest>.part`` first. A cut transfer is resumed with an HTTP range request
(:data:`RETRIES` times within one call, and by any later call); the ``.part`` file only becomes
``dest`` once its sha256 matches, and is deleted when it does not. ``XLLM_DATA_MIRROR`` replaces the
scheme and host of every URL (``<mirror>/<host>/<path>``; ``http(s)://`` or ``file://``).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from xllm_harness.errors import XllmError

CHUNK = 1 << 16
TIMEOUT_S = 60
RETRIES = 3
"""Automatic resumes of an interrupted download within one call."""
RETRY_DELAY_S = 2.0


class ChecksumError(XllmError, RuntimeError):
    """A downloaded file does not match its pinned sha256."""


class DownloadError(XllmError, RuntimeError):
    """A download failed for good (after its retries); what was received is kept for a resume."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def mirror_url(url: str) -> str:
    mirror = os.environ.get("XLLM_DATA_MIRROR")
    if not mirror:
        return url
    parts = urllib.parse.urlparse(url)
    return mirror.rstrip("/") + "/" + parts.netloc + parts.path


def redact_url(url: str) -> str:
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
    source = mirror_url(url)
    via = f" (via {redact_url(source)})" if source != url else ""
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
