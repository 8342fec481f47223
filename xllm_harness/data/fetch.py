"""``xllm data fetch``: install a data source into the data directory, all or nothing.

A fetch downloads into ``<name>.partial/`` (kept across failed fetches, so they resume), verifies
every sha256, extracts into ``<name>.building/`` and only then renames that folder into place: a
dataset folder is either complete or absent. Each installed folder holds a manifest
(:data:`MANIFEST`) recording the URL, sha256 and how each file was verified.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import sys
import tarfile
import zipfile
from pathlib import Path

from xllm_harness.data import DataSource, RemoteFile, data_dir, get_sources
from xllm_harness.data.download import ChecksumError, download, sha256_file
from xllm_harness.errors import InputError, XllmError, unknown_name
from xllm_harness.results import files

MANIFEST = ".xllm-source.json"
"""Written into every fetched folder: where each file came from and how it was verified."""


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
    """
    source = _source(name)
    overrides = dict(sha256 or {})
    checksums = _checksums(source, overrides)
    root = data_dir()
    target = root / name
    if target.exists() and not force:
        return target
    files.check_writable(root, "data directory (XLLM_DATA_DIR)")
    with _exclusive(root / f".{name}.lock"):
        staging = root / f"{name}.partial"  # downloads survive an interrupted fetch
        staging.mkdir(exist_ok=True)
        build = root / f"{name}.building"
        shutil.rmtree(build, ignore_errors=True)
        build.mkdir()
        try:
            manifest = [
                _install_file(source, remote, checksums[remote.name], remote.name in overrides, staging, build,
                              progress=progress, retries=retries)
                for remote in source.files
            ]  # fmt: skip
            files.write_json(build / MANIFEST, {"source": name, "files": manifest})
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)
            raise
        files.replace_dir(build, target)  # the old folder is removed only once the new one is in place
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _source(name: str) -> DataSource:
    sources = get_sources()
    if name not in sources:
        raise unknown_name("data source", name, sources, "`xllm data list` shows them")
    return sources[name]


def _install_file(
    source: DataSource,
    remote: RemoteFile,
    expected: str | None,
    overridden: bool,
    staging: Path,
    build: Path,
    *,
    progress: bool,
    retries: int | None,
) -> dict[str, str]:
    """Download, verify and copy or extract one file into ``build``; returns its manifest entry."""
    if overridden:
        print(f"{remote.name}: verifying the sha256 given with --sha256", file=sys.stderr)
    elif expected is None:
        print(f"warning: {remote.url} has no published checksum; not verified", file=sys.stderr)
    rerun = f"`xllm data fetch {source.name}`"
    try:
        path = download(remote.url, staging / remote.name, expected, progress, retries, rerun)
    except ChecksumError as err:
        raise ChecksumError(f"{err}{_mismatch_hint(source, remote.name)}") from None
    if not remote.extract:
        shutil.copy2(path, build / remote.name)
    elif not extract_archive(path, build, remote.strip_components, remote.members):
        raise XllmError(
            f"{source.name}: {remote.name} holds no files under {remote.members or 'its root'} after "
            f"dropping {remote.strip_components} leading folder(s); the archive layout changed?"
        )
    verified = "override" if overridden else ("pinned" if expected else "no")
    return {
        "url": remote.url,
        "file": remote.name,
        "sha256": expected or sha256_file(path),
        "verified": verified,
    }


def extract_archive(archive: Path, target: Path, strip: int, members: tuple[str, ...]) -> int:
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


def _mismatch_hint(source: DataSource, filename: str) -> str:
    if not source.checksum_note:
        return ""
    return (
        f" Note on this source: {source.checksum_note} If you have verified the file yourself, pass "
        f"its checksum: `xllm data fetch {source.name} --sha256 {filename}=<sha256>`."
    )
