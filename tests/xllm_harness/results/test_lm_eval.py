"""The one reader of lm-eval output folders: newest by name, model identity, metric entries, our result files."""

from __future__ import annotations

import json
import math
import os

import pytest

from xllm_harness.errors import InputError, MissingFileError
from xllm_harness.results.lm_eval import (
    Missing,
    folder_identity,
    metric_entry,
    metric_signature,
    metric_value,
    model_identity,
    named_identity,
    newest,
    newest_results,
    read_results,
    recorded_identity,
    runs_in,
    sample_files,
    sample_folders,
    samples_of_results,
    stamped_files,
)

A, B = "2026-01-01T00-00-00.000001", "2026-02-01T00-00-00.000001"


def results(path, pretrained="/m/a", model_args=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    config = {"model": "hf", "model_args": model_args or f"pretrained={pretrained},dtype=float32"}
    path.write_text(
        json.dumps({"results": {"t": {"f1,none": 1.0}}, "config": config, "model_name": pretrained})
    )
    return path


def test_newest_is_by_the_timestamp_in_the_name_never_mtime(tmp_path):
    old, new = results(tmp_path / f"results_{A}.json"), results(tmp_path / f"results_{B}.json")
    os.utime(new, (1, 1))  # the newer run's file looks older on disk
    assert newest([new, old]) == new and newest_results(tmp_path) == new
    for stamp in (A, B):
        (tmp_path / f"samples_xquad_xllm_ar_{stamp}.jsonl").write_text("")
    (tmp_path / f"samples_flores_xllm_en-zh_{A}.jsonl").write_text("")
    assert sample_files(tmp_path) == {
        "flores_xllm_en-zh": tmp_path / f"samples_flores_xllm_en-zh_{A}.jsonl",
        "xquad_xllm_ar": tmp_path / f"samples_xquad_xllm_ar_{B}.jsonl",
    }
    assert samples_of_results(old) == {
        "xquad_xllm_ar": tmp_path / f"samples_xquad_xllm_ar_{A}.jsonl",
        "flores_xllm_en-zh": tmp_path / f"samples_flores_xllm_en-zh_{A}.jsonl",
    }
    # each run's samples belong to the results file of their timestamp (never to the newest one)
    assert [(r.results, sorted(r.samples)) for r in runs_in(tmp_path)] == [
        (old, ["flores_xllm_en-zh", "xquad_xllm_ar"]),
        (new, ["xquad_xllm_ar"]),
    ]
    assert sample_folders(tmp_path) == [tmp_path]
    (tmp_path / "model").mkdir()
    with pytest.raises(MissingFileError, match=r"no samples_<task>_<date>\.jsonl"):
        sample_folders(tmp_path / "model")


def test_model_identity_is_type_and_full_model_args(tmp_path):
    a = model_identity(read_results(results(tmp_path / "a" / f"results_{A}.json", "/a/tiny-coit")))
    b = model_identity(read_results(results(tmp_path / "b" / f"results_{A}.json", "/b/tiny-coit")))
    assert a.pretrained == "/a/tiny-coit" and a.key != b.key
    assert a.to_dict() == {"model": "hf", "model_args": "pretrained=/a/tiny-coit,dtype=float32"}
    assert recorded_identity(a.to_dict()) == a
    assert recorded_identity({"model": "hf"}) is None
    assert folder_identity(tmp_path / "a") == a and folder_identity(tmp_path / "none") is None
    dict_args = model_identity({"config": {"model": "vllm", "model_args": {"pretrained": "/x", "tp": 2}}})
    assert dict_args.model_args == "pretrained=/x,tp=2" and dict_args.pretrained == "/x"
    assert named_identity("system-a").key != named_identity("system-b").key


def test_read_results_names_the_file_and_the_expected_shape(tmp_path):
    (tmp_path / "x.json").write_text("[]")
    with pytest.raises(InputError, match=r"x.json: not an lm-eval results file \(expected a JSON object"):
        read_results(tmp_path / "x.json")
    (tmp_path / "y.json").write_text("{")
    with pytest.raises(InputError, match=r"y\.json: not valid JSON"):
        read_results(tmp_path / "y.json")


def test_metric_entries_number_or_missing_with_reason():
    values = {
        "chrf,none": 31.5,
        "spbleu_signature,none": "missing: sacrebleu's FLORES-101 model is absent",
        "comet,none": math.nan,
        "comet_signature,none": "missing: no COMET model",
        "bleurt,none": math.nan,
        "f1,none": None,
        "match,none": "N/A",
        "chrf_signature,none": "nrefs:1|case:mixed",
    }
    assert metric_entry(values, "chrf") == 31.5 and metric_value(values, "chrf") == 31.5
    assert metric_entry(values, "spbleu") == Missing("sacrebleu's FLORES-101 model is absent")
    assert metric_entry(values, "comet") == Missing("no COMET model")
    assert isinstance(metric_entry(values, "bleurt"), Missing) and metric_value(values, "bleurt") is None
    assert isinstance(metric_entry(values, "f1"), Missing)
    assert metric_entry(values, "match") == Missing("N/A")
    assert metric_entry(values, "exact_match") is None  # not run at all
    assert (
        metric_signature(values, "chrf") == "nrefs:1|case:mixed" and metric_signature(values, "spbleu") == ""
    )


def test_stamped_files_of_our_kinds(tmp_path):
    (tmp_path / "m").mkdir()
    for name in (
        f"xllm_scores_{B}.json",
        f"xllm_scores_{A}.json",
        f"judge_qa_{A}.json",
        f"judge_qa_{A}.details.jsonl",
    ):
        (tmp_path / "m" / name).write_text("{}")
    assert [p.name for p in stamped_files(tmp_path, "xllm_scores")] == [
        f"xllm_scores_{A}.json",
        f"xllm_scores_{B}.json",
    ]
    assert [p.name for p in stamped_files(tmp_path, "judge_qa")] == [f"judge_qa_{A}.json"]
    with pytest.raises(ValueError, match="unknown result kind"):
        stamped_files(tmp_path, "scores")
