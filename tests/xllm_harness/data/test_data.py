"""``xllm data fetch`` against a real HTTP server on 127.0.0.1 (``XLLM_DATA_MIRROR`` points at it).

The server speaks HTTP range requests and can be scripted to cut the connection after N bytes or to
corrupt a file. It serves real files: the XQuAD JSON files (so that the pinned official sha256 values
are verified for real when the full data is there), and archives built here with the official
layouts of FLORES-101 (tar.gz) and MLQA (zip, XQuAD files under MLQA's names). Every test runs on the
bundled samples; the ``shared`` variants repeat it on the full files (``XLLM_SHARED_DATA``).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import sys
import tarfile
import threading
import zipfile
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from xllm_harness import data
from xllm_harness.cli import main
from xllm_harness.data import download
from xllm_harness.data import fetch as data_fetch
from xllm_harness.data.samples import SAMPLES_DIR
from xllm_harness.hookspecs import hookimpl
from xllm_harness.plugins.builtin_data import FLORES101, MLQA, XQUAD, XQUAD_SHA256
from xllm_harness.plugins.paper_languages import FLORES_CODES, MLQA_LANGS
from xllm_harness.registry import _collect, get_registry

XQUAD_PATH = "/github.com/deepmind/xquad/raw/master/xquad.{lang}.json"
FLORES_PATH = "/dl.fbaipublicfiles.com/flores101/dataset/flores101_dataset.tar.gz"
MLQA_PATH = "/dl.fbaipublicfiles.com/MLQA/MLQA_V1.zip"


def sha256(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


# --------------------------------------------------------------------------------------------------
# The local server
# --------------------------------------------------------------------------------------------------


@dataclass
class Mirror:
    """What the server serves, how it misbehaves, and what it was asked."""

    url: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    cuts: dict[str, list[int]] = field(default_factory=dict)
    """path -> for each of the next requests, the byte count after which the connection is cut"""
    corrupt: set[str] = field(default_factory=set)
    ignore_range: bool = False
    log: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def requests(self, path: str) -> list[dict]:
        with self.lock:
            return [entry for entry in self.log if entry["path"] == path]


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        mirror: Mirror = self.server.mirror  # type: ignore[attr-defined]
        body = mirror.files.get(self.path)
        asked = self.headers.get("Range")
        entry = {"path": self.path, "range": asked, "status": 404, "sent": 0}
        with mirror.lock:
            mirror.log.append(entry)
            cut = mirror.cuts[self.path].pop(0) if mirror.cuts.get(self.path) else None
        if body is None:
            self.send_error(404)
            return
        if self.path in mirror.corrupt:
            middle = len(body) // 2
            body = body[:middle] + bytes([body[middle] ^ 0xFF]) + body[middle + 1 :]
        start, status = 0, 200
        if asked and not mirror.ignore_range:
            match = re.fullmatch(r"bytes=(\d+)-", asked)
            assert match, f"unexpected Range header {asked!r}"
            start, status = int(match.group(1)), 206
            if start >= len(body):
                entry["status"] = 416
                self.send_error(416)
                return
        payload = body[start:]
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.end_headers()
        if cut is not None:
            payload = payload[:cut]  # then the connection closes: fewer bytes than announced
        self.wfile.write(payload)
        entry.update(status=status, sent=len(payload))

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A running local server; XLLM_DATA_MIRROR points at it, XLLM_DATA_DIR at an empty folder."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.mirror = Mirror(url=f"http://127.0.0.1:{server.server_address[1]}")  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    monkeypatch.setenv("XLLM_DATA_MIRROR", server.mirror.url)  # type: ignore[attr-defined]
    monkeypatch.setenv("XLLM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setattr(download, "RETRY_DELAY_S", 0.0)
    yield server.mirror  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


class _SourcesPlugin:
    def __init__(self, sources):
        self.sources = list(sources)

    @hookimpl
    def xllm_data_sources(self):
        return self.sources


@pytest.fixture
def register_sources():
    """Replace data sources: the built-in ``builtin_data`` plugin is swapped for one that holds its
    sources with the given ones in their place (two plugins may not claim one name); restored afterwards."""
    registry = get_registry()
    builtin = registry.pm.unregister(name="builtin_data")
    current = {source.name: source for source in builtin.xllm_data_sources()}
    plugin = _SourcesPlugin(list(current.values()))
    registry.register(plugin, name="test_data_sources")

    def add(*sources) -> None:
        current.update((source.name, source) for source in sources)
        plugin.sources = list(current.values())
        _collect.cache_clear()

    yield add
    registry.pm.unregister(plugin)
    registry.register(builtin, name="builtin_data")
    _collect.cache_clear()


@pytest.fixture(params=["samples", "shared"])
def data_root(request) -> Path:
    """The bundled samples, or the full shared data (skipped when XLLM_SHARED_DATA is unset)."""
    if request.param == "shared":
        return request.getfixturevalue("shared_data")
    return request.getfixturevalue("samples_dir")


def serve_xquad(mirror: Mirror, root: Path, register_sources) -> dict[str, bytes]:
    """Serve ``root``'s XQuAD files at the official URLs; returns {lang: bytes}.

    The full files are checked against the built-in source's pinned official checksums; the
    samples are not those files, so a test plugin re-registers ``xquad`` with their checksums.
    """
    blobs = {lang: (root / "xquad" / f"xquad.{lang}.json").read_bytes() for lang in XQUAD_SHA256}
    for lang, blob in blobs.items():
        mirror.files[XQUAD_PATH.format(lang=lang)] = blob
    if root == SAMPLES_DIR:
        files = tuple(replace(f, sha256=sha256(blobs[f.name.split(".")[1]])) for f in XQUAD.files)
        register_sources(replace(XQUAD, files=files))
    return blobs


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def leftovers(name: str) -> list[str]:
    """Anything a fetch of ``name`` left in the data directory besides its resumable downloads."""
    root = data.data_dir()
    return (
        sorted(p.name for p in root.glob(f"{name}*") if p.name != f"{name}.partial") if root.exists() else []
    )


def flores_archive(root: Path) -> bytes:
    """FLORES-101's official layout: flores101_dataset/{dev,devtest}/<code>.<split>, plus a README."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:

        def add(name: str, blob: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))

        add("flores101_dataset/README", b"FLORES-101\n")
        for split in ("dev", "devtest"):
            for code in sorted(FLORES_CODES.values()):
                add(
                    f"flores101_dataset/{split}/{code}.{split}",
                    (root / "flores101" / split / f"{code}.{split}").read_bytes(),
                )
    return buffer.getvalue()


def mlqa_archive(root: Path, top: str = "MLQA_V1/") -> bytes:
    """MLQA's layout, MLQA_V1/{dev,test}/<split>-context-<l>-question-<l>.json, with XQuAD files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for split in ("dev", "test"):
            for lang in sorted(MLQA_LANGS):
                zf.writestr(
                    f"{top}{split}/{split}-context-{lang}-question-{lang}.json",
                    (root / "xquad" / f"xquad.{lang}.json").read_bytes(),
                )
    return buffer.getvalue()


def n_questions(blob: bytes) -> int:
    return sum(len(p["qas"]) for a in json.loads(blob)["data"] for p in a["paragraphs"])


# --------------------------------------------------------------------------------------------------
# XQuAD: official URLs, pinned checksums, progress, resume, corruption
# --------------------------------------------------------------------------------------------------


def test_fetch_xquad_installs_verified_files(mirror, data_root, register_sources, capsys):
    blobs = serve_xquad(mirror, data_root, register_sources)
    code, out, err = run_cli(capsys, "data", "fetch", "xquad")
    assert code == 0, err
    target = data.data_dir() / "xquad"
    assert out.strip() == f"xquad: {target}"
    for lang, blob in blobs.items():
        assert (target / f"xquad.{lang}.json").read_bytes() == blob
        assert f"xquad.{lang}.json" in err  # a progress bar per file, on stderr
    assert "100%" in err
    manifest = json.loads((target / data_fetch.MANIFEST).read_text())
    assert {f["verified"] for f in manifest["files"]} == {"pinned"}
    if data_root != SAMPLES_DIR:  # the official checksums, verified on the real files
        assert {f["file"]: f["sha256"] for f in manifest["files"]} == {
            f"xquad.{lang}.json": sha for lang, sha in XQUAD_SHA256.items()
        }
    assert leftovers("xquad") == ["xquad"]
    # the task reads from there
    from xllm_harness.tasks.qa_docs import load_dataset

    assert len(load_dataset("ar", "xquad")["test"]) == n_questions(blobs["ar"])
    # an installed source is not fetched again
    before = len(mirror.log)
    assert run_cli(capsys, "data", "fetch", "xquad")[0] == 0
    assert len(mirror.log) == before
    code, out, _ = run_cli(capsys, "data", "list")
    assert re.search(r"^xquad\s+installed", out, re.M) and re.search(r"^mlqa\s+missing", out, re.M)


def test_resume_after_cut_connection_uses_range(mirror, data_root, register_sources, capsys):
    blobs = serve_xquad(mirror, data_root, register_sources)
    path = XQUAD_PATH.format(lang="hi")
    cut = len(blobs["hi"]) // 3
    mirror.cuts[path] = [cut]
    code, _, err = run_cli(capsys, "data", "fetch", "xquad")
    assert code == 0, err
    first, second = mirror.requests(path)
    assert (first["range"], first["status"], first["sent"]) == (None, 200, cut)
    assert (second["range"], second["status"]) == (f"bytes={cut}-", 206)
    assert second["sent"] == len(blobs["hi"]) - cut
    assert f"resuming at byte {cut}" in err
    installed = (data.data_dir() / "xquad" / "xquad.hi.json").read_bytes()
    assert sha256(installed) == sha256(blobs["hi"])
    if data_root != SAMPLES_DIR:
        assert sha256(installed) == XQUAD_SHA256["hi"]


def test_server_without_range_support_restarts_from_zero(mirror, samples_dir, register_sources, capsys):
    blobs = serve_xquad(mirror, samples_dir, register_sources)
    path = XQUAD_PATH.format(lang="tr")
    mirror.ignore_range = True
    mirror.cuts[path] = [len(blobs["tr"]) // 2]
    code, _, err = run_cli(capsys, "data", "fetch", "xquad")
    assert code == 0, err
    first, second = mirror.requests(path)
    assert first["sent"] == len(blobs["tr"]) // 2
    assert second["range"] == f"bytes={len(blobs['tr']) // 2}-" and second["status"] == 200
    assert (data.data_dir() / "xquad" / "xquad.tr.json").read_bytes() == blobs["tr"]


def test_complete_partial_file_is_verified_not_downloaded(mirror, samples_dir, register_sources, capsys):
    """A fetch killed between the last byte and the checksum: the server answers 416, nothing is sent."""
    blobs = serve_xquad(mirror, samples_dir, register_sources)
    staging = data.data_dir() / "xquad.partial"
    staging.mkdir(parents=True)
    (staging / "xquad.zh.json.part").write_bytes(blobs["zh"])
    code, _, err = run_cli(capsys, "data", "fetch", "xquad")
    assert code == 0, err
    assert mirror.requests(XQUAD_PATH.format(lang="zh")) == [
        {
            "path": XQUAD_PATH.format(lang="zh"),
            "range": f"bytes={len(blobs['zh'])}-",
            "status": 416,
            "sent": 0,
        }
    ]
    assert (data.data_dir() / "xquad" / "xquad.zh.json").read_bytes() == blobs["zh"]


def test_failed_fetch_keeps_partial_download_and_rerun_resumes(mirror, samples_dir, register_sources, capsys):
    blobs = serve_xquad(mirror, samples_dir, register_sources)
    path = XQUAD_PATH.format(lang="el")
    step = len(blobs["el"]) // 5
    mirror.cuts[path] = [step, step]  # both attempts of the first fetch are cut
    code, out, err = run_cli(capsys, "data", "fetch", "xquad", "--retries", "1")
    assert code == 2 and out == ""
    assert "failed after 2 attempt(s)" in err
    assert f"connection closed after {2 * step} of {len(blobs['el'])} bytes" in err
    assert "run `xllm data fetch xquad` again to resume" in err
    assert leftovers("xquad") == []  # no dataset folder, no half-built one
    part = data.data_dir() / "xquad.partial" / "xquad.el.json.part"
    assert part.stat().st_size == 2 * step
    # the server recovers: the rerun asks only for the rest and finishes with the right checksum
    code, _, err = run_cli(capsys, "data", "fetch", "xquad")
    assert code == 0, err
    assert [r["range"] for r in mirror.requests(path)] == [None, f"bytes={step}-", f"bytes={2 * step}-"]
    assert (data.data_dir() / "xquad" / "xquad.el.json").read_bytes() == blobs["el"]
    assert [r["range"] for r in mirror.requests(XQUAD_PATH.format(lang="ar"))] == [
        None
    ]  # kept, not refetched
    assert leftovers("xquad") == ["xquad"]
    assert not (data.data_dir() / "xquad.partial").exists()


def test_corrupted_download_raises_checksum_error_and_installs_nothing(
    mirror, data_root, register_sources, capsys
):
    blobs = serve_xquad(mirror, data_root, register_sources)
    path = XQUAD_PATH.format(lang="vi")
    mirror.corrupt.add(path)
    code, _, err = run_cli(capsys, "data", "fetch", "xquad")
    assert code == 2
    expected = {f.name: f.sha256 for f in data.get_sources()["xquad"].files}["xquad.vi.json"]
    assert "Checksum mismatch for xquad.vi.json" in err
    assert f"expected sha256 {expected}" in err
    assert "run `xllm data fetch xquad` again" in err
    assert "--sha256" not in err  # xquad's checksums are official: no override suggested
    assert leftovers("xquad") == []
    assert not (data.data_dir() / "xquad.partial" / "xquad.vi.json.part").exists()  # never resumed from
    mirror.corrupt.clear()
    code, _, err = run_cli(capsys, "data", "fetch", "xquad")
    assert code == 0, err
    assert (data.data_dir() / "xquad" / "xquad.vi.json").read_bytes() == blobs["vi"]
    assert mirror.requests(path)[-1]["range"] is None  # a fresh download, not a resume of bad bytes


# --------------------------------------------------------------------------------------------------
# Archives: FLORES-101 (tar.gz, checksum unconfirmed: --sha256) and MLQA (zip)
# --------------------------------------------------------------------------------------------------


def test_flores_archive_needs_confirmed_checksum(mirror, data_root, capsys):
    archive = flores_archive(data_root)
    mirror.files[FLORES_PATH] = archive
    # the pinned checksum is a third-party record: a mismatch explains that and the way out
    code, _, err = run_cli(capsys, "data", "fetch", "flores101")
    assert code == 2
    assert "Checksum mismatch for flores101_dataset.tar.gz" in err
    assert FLORES101.checksum_note in err
    assert "--sha256 flores101_dataset.tar.gz=<sha256>" in err
    assert leftovers("flores101") == []
    code, _, err = run_cli(capsys, "data", "fetch", "flores101", "--sha256", sha256(archive))
    assert code == 0, err
    assert "verifying the sha256 given with --sha256" in err
    target = data.data_dir() / "flores101"
    for split in ("dev", "devtest"):
        for code_ in FLORES_CODES.values():
            name = f"{code_}.{split}"
            assert (target / split / name).read_bytes() == (
                data_root / "flores101" / split / name
            ).read_bytes()
    assert not (target / "README").exists()  # only dev/ and devtest/ are installed
    manifest = json.loads((target / data_fetch.MANIFEST).read_text())
    assert manifest["files"] == [
        {
            "url": FLORES101.files[0].url,
            "file": "flores101_dataset.tar.gz",
            "sha256": sha256(archive),
            "verified": "override",
        }
    ]
    # the language table's FLORES location resolves into it
    from xllm_harness.languages import get_language

    assert (
        data.resolve(get_language("zh").flores, split="devtest") == target / "devtest" / "zho_simpl.devtest"
    )


def test_mlqa_zip_installs_test_files_for_the_tasks(mirror, data_root, register_sources, capsys):
    archive = mlqa_archive(data_root)
    mirror.files[MLQA_PATH] = archive
    register_sources(replace(MLQA, files=(replace(MLQA.files[0], sha256=sha256(archive)),)))
    code, _, err = run_cli(capsys, "data", "fetch", "mlqa")
    assert code == 0, err
    target = data.data_dir() / "mlqa"
    assert sorted(p.name for p in target.iterdir()) == [data_fetch.MANIFEST, "dev", "test"]
    assert len(list((target / "test").iterdir())) == len(MLQA_LANGS)
    from xllm_harness.tasks.qa_docs import load_dataset

    for lang in sorted(MLQA_LANGS):
        expected = n_questions((data_root / "xquad" / f"xquad.{lang}.json").read_bytes())
        assert len(load_dataset(lang, "mlqa")["test"]) == expected


def test_archive_with_unexpected_layout_installs_nothing(mirror, samples_dir, register_sources, capsys):
    archive = mlqa_archive(samples_dir, top="")  # no MLQA_V1/ folder: stripping it leaves no dev/test
    mirror.files[MLQA_PATH] = archive
    register_sources(replace(MLQA, files=(replace(MLQA.files[0], sha256=sha256(archive)),)))
    code, _, err = run_cli(capsys, "data", "fetch", "mlqa")
    assert code == 2
    assert "MLQA_V1.zip holds no files under ('dev', 'test')" in err
    assert leftovers("mlqa") == []


def test_failure_during_extraction_leaves_no_dataset_folder(mirror, samples_dir, capsys):
    """Some files extracted, then a bad member: the half-built folder is removed."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name in ("flores101_dataset/dev/eng.dev", "flores101_dataset/dev/../../../escape.txt"):
            info = tarfile.TarInfo(name)
            info.size = 3
            tar.addfile(info, io.BytesIO(b"abc"))
    archive = buffer.getvalue()
    mirror.files[FLORES_PATH] = archive
    code, _, err = run_cli(capsys, "data", "fetch", "flores101", "--sha256", sha256(archive))
    assert code == 2
    assert "Refusing unsafe archive member 'flores101_dataset/dev/../../../escape.txt'" in err
    assert leftovers("flores101") == []
    assert not list(data.data_dir().parent.rglob("escape.txt"))


# --------------------------------------------------------------------------------------------------
# Options, offline mirrors, the data directory, and the missing-dataset message
# --------------------------------------------------------------------------------------------------


def test_sha256_option_is_validated(mirror, capsys):
    code, _, err = run_cli(capsys, "data", "fetch", "xquad", "--sha256", "0" * 64)
    assert code == 2 and "name the file (FILE=HEX); xquad has several" in err
    code, _, err = run_cli(capsys, "data", "fetch", "xquad", "--sha256", "xquad.xx.json=" + "0" * 64)
    assert code == 2 and "has no file 'xquad.xx.json'" in err and "xquad.ar.json" in err
    code, _, err = run_cli(capsys, "data", "fetch", "flores101", "--sha256", "not-hex")
    assert code == 2 and "expected 64 lowercase hex digits" in err
    code, _, err = run_cli(capsys, "data", "fetch", "xquad", "mlqa", "--sha256", "0" * 64)
    assert code == 2 and "applies to one data source" in err
    code, _, err = run_cli(capsys, "data", "fetch", "nope")
    assert code == 2 and "unknown data source 'nope'" in err and "xquad" in err
    assert mirror.log == []


def test_offline_mirror_folder_via_file_url(tmp_path, monkeypatch, samples_dir, capsys):
    """An offline copy laid out as <mirror>/<host>/<path>, used through a file:// mirror."""
    archive = flores_archive(samples_dir)
    local = tmp_path / "mirror" / FLORES_PATH.lstrip("/")
    local.parent.mkdir(parents=True)
    local.write_bytes(archive)
    monkeypatch.setenv("XLLM_DATA_MIRROR", (tmp_path / "mirror").as_uri())
    monkeypatch.setenv("XLLM_DATA_DIR", str(tmp_path / "data"))
    code, _, err = run_cli(
        capsys, "data", "fetch", "flores101", "--sha256", f"flores101_dataset.tar.gz={sha256(archive)}"
    )
    assert code == 0, err
    assert (tmp_path / "data" / "flores101" / "dev" / "eng.dev").read_bytes() == (
        samples_dir / "flores101" / "dev" / "eng.dev"
    ).read_bytes()


def test_unreachable_server_gives_an_offline_hint(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XLLM_DATA_MIRROR", "http://127.0.0.1:9")  # discard port: connection refused
    monkeypatch.setenv("XLLM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    code, _, err = run_cli(capsys, "data", "fetch", "mlqa")
    assert code == 2
    assert "Download of https://dl.fbaipublicfiles.com/MLQA/MLQA_V1.zip (via http://127.0.0.1:9/" in err
    assert "Connection refused" in err
    assert "XLLM_DATA_MIRROR" in err
    assert leftovers("mlqa") == []
    # credentials in a mirror URL never reach a message
    monkeypatch.setenv("XLLM_DATA_MIRROR", "http://user:s3cret@127.0.0.1:9")
    code, _, err = run_cli(capsys, "data", "fetch", "mlqa")
    assert code == 2 and "(via http://***@127.0.0.1:9/dl.fbaipublicfiles.com/" in err
    assert "s3cret" not in err


def test_data_dir_default_and_override(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("XLLM_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data.data_dir() == tmp_path / "cache" / "xllm_harness" / "data"
    monkeypatch.setenv("XLLM_DATA_DIR", str(tmp_path / "elsewhere"))
    code, out, _ = run_cli(capsys, "data", "path")
    assert (code, out.strip()) == (0, str(tmp_path / "elsewhere"))


def test_missing_dataset_names_the_fetch_command(tmp_path, monkeypatch):
    from xllm_harness.bridge.task_index import task_manager
    from xllm_harness.languages import get_language
    from xllm_harness.tasks.qa_docs import load_dataset

    monkeypatch.setenv("XLLM_DATA_DIR", str(tmp_path / "empty"))
    with pytest.raises(
        data.MissingDataError, match=r"xquad\.ar\.json is missing: run `xllm data fetch xquad`"
    ):
        load_dataset("ar", "xquad")
    with pytest.raises(data.MissingDataError, match=r"run `xllm data fetch flores101`.*XLLM_DATA_DIR"):
        data.resolve(get_language("ar").flores, split="devtest")
    # through lm-eval's own task loading, the same message
    with pytest.raises(data.MissingDataError, match=r"run `xllm data fetch xquad`"):
        task_manager().load(["xquad_xllm_zh"])


@pytest.mark.slow
def test_fetch_as_a_subprocess(mirror, data_root, tmp_path, subprocess_env):
    """The real command line in a fresh process, checksums given on the command line for samples."""
    blobs = {lang: (data_root / "xquad" / f"xquad.{lang}.json").read_bytes() for lang in XQUAD_SHA256}
    for lang, blob in blobs.items():
        mirror.files[XQUAD_PATH.format(lang=lang)] = blob
    mirror.cuts[XQUAD_PATH.format(lang="zh")] = [1000]
    argv = [sys.executable, "-m", "xllm_harness.cli", "data", "fetch", "xquad"]
    if data_root == SAMPLES_DIR:
        argv += [
            arg for lang, blob in blobs.items() for arg in ("--sha256", f"xquad.{lang}.json={sha256(blob)}")
        ]
    env = dict(
        subprocess_env,
        XLLM_DATA_MIRROR=mirror.url,
        XLLM_DATA_DIR=str(tmp_path / "data"),
        NO_PROXY="127.0.0.1",
    )
    proc = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "resuming at byte 1000" in proc.stderr and "100%" in proc.stderr
    for lang, blob in blobs.items():
        assert (tmp_path / "data" / "xquad" / f"xquad.{lang}.json").read_bytes() == blob
