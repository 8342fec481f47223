"""Bad input to the analyzers' readers (points, gamma and availability files, FLORES text, options):
wrong types, non-UTF-8 bytes, NaN and infinity end with exit 2 and one line naming the file, the
line or row and the field, no traceback and no output folder left behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.xllm_harness.commands.test_bad_input import assert_user_error, xllm


@pytest.fixture
def env(subprocess_env, tmp_path) -> dict[str, str]:
    return {**subprocess_env, "XLLM_CACHE_DIR": str(tmp_path / "cache")}


GOOD_POINTS = "language,data_size,score\nar,1000,30\nar,10000,40\nar,100000,48\n"


def write(path: Path, data: str | bytes) -> Path:
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


def scaling_law(tmp_path: Path, env: dict[str, str], points: str, *gamma: str):
    args = ["analyze", "scaling_law", "--points", points, "--bootstrap", "0", "-o", "out"]
    for value in gamma or ("0.5",):
        args += ["--gamma", value]
    return xllm(args, tmp_path, env)


@pytest.mark.parametrize(
    ("name", "content", "named"),
    [
        ("p.csv", b"language,data_size,score\nar,1000,30\nar,10000,\xff\xfe\n", ("p.csv", "line 3", "UTF-8")),
        (
            "p.jsonl",
            b'{"language": "ar", "data_size": 1000, "score": 30}\n\xff\n',
            ("p.jsonl", "line 2", "UTF-8"),
        ),
        (
            "p.json",
            json.dumps([{"language": 5, "data_size": 1000, "score": 30}]),
            ("p.json row 1", "language"),
        ),
        ("p.json", json.dumps([{"language": "ar", "data_size": True, "score": 30}]), ("row 1", "data_size")),
        ("p.json", json.dumps([{"language": "ar", "data_size": 1000, "score": True}]), ("row 1", "score")),
        ("p.json", json.dumps([{"language": "ar", "data_size": 1000, "score": [30]}]), ("row 1", "score")),
        ("p.csv", "language,data_size,score\nar,1000,nan\n", ("p.csv row 2", "score", "'nan'")),
        ("p.csv", "language,data_size,score\nar,1000,inf\n", ("p.csv row 2", "score", "'inf'")),
        ("p.json", '[{"language": "ar", "data_size": 1000, "score": NaN}]', ("row 1", "score")),
        ("p.json", json.dumps([{"language": "ar", "data_size": 1000, "results": 7}]), ("row 1", "results")),
    ],
)
def test_scaling_law_points_file(tmp_path, env, name, content, named):
    write(tmp_path / name, content)
    done = scaling_law(tmp_path, env, name)
    assert_user_error(done, "analyze", *named)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("gamma", "content", "named"),
    [
        ("g.json", json.dumps({"gamma": {"ar": "x"}}), ("g.json", "gamma.ar", "'x'")),
        ("g.json", json.dumps({"gamma": {"ar": None}}), ("g.json", "gamma.ar", "None")),
        ("g.json", '{"gamma": {"ar": Infinity}}', ("g.json", "gamma.ar", "inf")),
        ("g.json", b'{"gamma": {"ar": 0.5}}\n\xff', ("g.json", "line 2", "UTF-8")),
        ("ar=nan", None, ("--gamma", "ar=nan", "finite")),
        ("inf", None, ("--gamma", "inf", "finite")),
    ],
)
def test_scaling_law_gamma(tmp_path, env, gamma, content, named):
    write(tmp_path / "p.csv", GOOD_POINTS)
    if content is not None:
        write(tmp_path / gamma, content)
    assert_user_error(scaling_law(tmp_path, env, "p.csv", gamma), "analyze", *named)
    assert not (tmp_path / "out").exists()


@pytest.fixture
def laws(tmp_path, env) -> Path:
    write(tmp_path / "p.csv", GOOD_POINTS)
    args = ["analyze", "scaling_law", "--points", "p.csv", "--gamma", "0.5", "--bootstrap", "0", "-o", "fit"]
    done = xllm(args, tmp_path, env)
    assert done.returncode == 0, done.stderr
    return tmp_path / "fit" / "laws.json"


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (json.dumps({"ar": True}), ("a.json", "ar", "True")),
        (json.dumps({"ar": [1000]}), ("a.json", "ar", "[1000]")),
        ('{"ar": NaN}', ("a.json", "ar", "nan")),
        (json.dumps({"ar": -5}), ("a.json", "ar", "-5")),
        (b'{"ar": 1000}\n\xfe', ("a.json", "line 2", "UTF-8")),
    ],
)
def test_allocator_availability_file(tmp_path, env, laws, content, named):
    write(tmp_path / "a.json", content)
    args = [
        "analyze",
        "allocator",
        "--laws",
        str(laws),
        "--budget",
        "1k",
        "--availability",
        "a.json",
        "-o",
        "out",
    ]
    assert_user_error(xllm(args, tmp_path, env), "analyze", "--availability file", *named)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("option", ["--sentences", "--batch-size", "--max-length"])
@pytest.mark.parametrize("analyzer", ["similarity", "alignment"])
def test_representation_sizes_below_one(tmp_path, env, analyzer, option):
    args = ["analyze", analyzer, "--model", "no-such-model", option, "0", "-o", "out"]
    assert_user_error(xllm(args, tmp_path, env), "analyze", option, "at least 1")
    assert not (tmp_path / "out").exists()


def test_flores_file_that_is_not_utf8(tmp_path, env, tiny_model):
    dev = tmp_path / "data" / "flores101" / "dev"
    dev.mkdir(parents=True)
    write(dev / "eng.dev", "one\ntwo\n")
    write(dev / "ara.dev", b"\xd9\x88\xd8\xa7\xd8\xad\xd8\xaf\n\xff\n")
    args = ["analyze", "similarity", "--model", str(tiny_model), "--languages", "ar", "--data-dir", "data"]
    done = xllm([*args, "-o", "out"], tmp_path, env)
    assert_user_error(done, "analyze", "ara.dev", "line 2", "UTF-8")
    assert not (tmp_path / "out").exists()


# --- xllm judge --import-batch: the Batch-API output file ----------------------------------------

JUDGE = ["judge", "qa", "run", "--model", "m", "--base-url", "http://127.0.0.1:9/v1", "--no-progress"]


def test_import_batch_file_without_one_usable_line(tmp_path, env, samples_dir):
    from xllm_harness.testing.judge_data import qa_samples

    qa_samples(tmp_path / "run", samples_dir, langs=("en",), n=2)
    write(tmp_path / "out.jsonl", b'[1]\n{"custom_id": 5}\n\xff\xfe\n')
    done = xllm([*JUDGE, "--cache", "c.sqlite", "--import-batch", "out.jsonl"], tmp_path, env)
    assert_user_error(done, "judge", "--import-batch out.jsonl", "line 1: not a JSON object")


def test_import_batch_names_each_skipped_line(tmp_path, env, samples_dir):
    """Lines that cannot be read are skipped, each named on stderr, and counted in the summary."""
    from xllm_harness.testing.judge_data import qa_samples
    from xllm_harness.testing.judge_server import completion

    qa_samples(tmp_path / "run", samples_dir, langs=("en",), n=3)
    args = [*JUDGE, "--cache", "c.sqlite"]
    exported = xllm([*args, "--export-batch", "requests.jsonl"], tmp_path, env)
    assert exported.returncode == 0, exported.stderr
    lines = [json.loads(x) for x in (tmp_path / "requests.jsonl").read_text(encoding="utf-8").splitlines()]
    rows = [
        json.dumps(
            {
                "custom_id": x["custom_id"],
                "response": {"status_code": 200, "body": completion(x["body"], x["custom_id"])},
            }
        )
        for x in lines
    ]
    data = [row.encode("utf-8") for row in rows]
    data[1] = b'{"custom_id": "\xff'  # cut short and not UTF-8, as a broken copy leaves it
    write(tmp_path / "out.jsonl", b"\n".join(data) + b"\n")
    done = xllm([*args, "--import-batch", "out.jsonl"], tmp_path, env)
    assert done.returncode == 1, done.stderr[-3000:]  # one item not judged (docs/exit-codes.md)
    assert "Traceback" not in done.stderr
    assert "warning: --import-batch out.jsonl line 2: byte 0xff is not UTF-8: line skipped" in done.stderr
    assert "2 used" in done.stderr and "1 not UTF-8" in done.stderr


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (
            '{"laws": {"ar": {"alpha": true, "beta": -0.3, "gamma": 0.5}}}',
            ("l.json", "'ar'", "alpha", "True"),
        ),
        ('{"laws": {"ar": {"alpha": "x", "beta": -0.3, "gamma": 0.5}}}', ("l.json", "'ar'", "alpha", "'x'")),
        (
            '{"laws": {"ar": {"alpha": 100, "beta": -0.3, "gamma": Infinity}}}',
            ("l.json", "'ar'", "gamma", "inf"),
        ),
        (
            '{"laws": {"ar": {"alpha": 100, "beta": -0.3, "gamma": 0.5, "draws": [[true, -0.3]]}}}',
            ("l.json", "draws of 'ar'", "True"),
        ),
        (b'{"laws": {}}\n\xff', ("l.json", "line 2", "UTF-8")),
    ],
)
def test_allocator_laws_file(tmp_path, env, content, named):
    write(tmp_path / "l.json", content)
    args = ["analyze", "allocator", "--laws", "l.json", "--budget", "1k", "-o", "out"]
    assert_user_error(xllm(args, tmp_path, env), "analyze", "laws file", *named)
    assert not (tmp_path / "out").exists()
