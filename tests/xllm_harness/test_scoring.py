"""Rescoring saved samples: reading them, the family's default metrics, scores with their statistics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from xllm_harness.metrics import get_metric, get_metrics
from xllm_harness.results.lm_eval import ModelIdentity
from xllm_harness.scoring import default_metrics, read_samples, score_model_dir, score_with_statistics

STAMP = "2026-01-01T00-00-00.000001"
SOURCES = ["The cat sat on the mat.", "It rained all day.", "We went home early."]
TARGETS = ["Le chat était assis sur le tapis.", "Il a plu toute la journée.", "Nous sommes rentrés tôt."]
OUTPUTS = [" Le chat est sur le tapis. ", "Il pleut toute la journée.", "Nous sommes partis tôt."]


def flores_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        {
            "doc_id": i,
            "doc": {"source": s, "target": t, "src_lang": "en", "tgt_lang": "zh"},
            "filter": "none",
            "filtered_resps": [o],
        }
        for i, (s, t, o) in enumerate(zip(SOURCES, TARGETS, OUTPUTS, strict=True))
    ][::-1]  # doc_id order is restored
    (folder / f"samples_flores_xllm_en-zh_{STAMP}.jsonl").write_text(
        "".join(json.dumps(x) + "\n" for x in lines)
    )
    config = {"model": "hf", "model_args": "pretrained=/m/tiny,dtype=float32"}
    (folder / f"results_{STAMP}.json").write_text(json.dumps({"results": {}, "config": config}))
    return folder


def test_read_samples_of_a_translation_task(tmp_path):
    path = next(flores_folder(tmp_path).glob("samples_*"))
    samples = read_samples(path)
    assert samples.kind == "translation" and samples.lang == "zh" and samples.doc_ids == [0, 1, 2]
    assert (
        samples.hypotheses[0] == "Le chat est sur le tapis."
    )  # outer whitespace removed, as the task scores
    assert samples.references == [[t] for t in TARGETS] and samples.sources == SOURCES


def test_default_metrics_come_from_the_task_family(install_plugin):
    registered = set(get_metrics())
    qa = default_metrics("xquad_xllm_ar")
    assert qa[:3] == ["match", "exact_match", "f1"] and "judge_accuracy" not in qa  # a judge, not a metric
    assert set(qa) <= registered and set(default_metrics("flores_xllm_en-zh")) >= {"spbleu", "chrf", "comet"}
    assert default_metrics("no_such_task") == []
    install_plugin(
        "xllm-toy",
        "toy",
        "xllm_toy_family",
        "from pathlib import Path\nfrom xllm_harness.hookspecs import hookimpl\n"
        "from xllm_harness.taskgen import TaskFamily\n\n"
        "@hookimpl\ndef xllm_task_families():\n"
        "    return [TaskFamily('toy_bench', Path('.'), lambda lang: [], 'Toy', ('chrf', 'toy_unregistered'))]\n",
    )
    assert default_metrics("toy_bench_aa") == ["chrf"]


def test_score_with_statistics_is_the_corpus_score(tmp_path):
    samples = read_samples(next(flores_folder(tmp_path).glob("samples_*")))
    chrf = get_metric("chrf")()
    result, stats = score_with_statistics(chrf, samples)
    assert result.score == chrf.corpus_score(samples.hypotheses, samples.references).score
    assert result.signature == chrf.corpus_score(samples.hypotheses, samples.references).signature
    assert stats.shape[0] == 3 and float(chrf.score_from_statistics(stats.sum(axis=0), 3)) == pytest.approx(
        result.score
    )


def test_score_model_dir_records_identity_statistics_and_doc_ids(tmp_path):
    folder = flores_folder(tmp_path / "m")
    out = json.loads(score_model_dir(folder, metrics=["chrf"], log=lambda *_: None)[0].read_text())
    assert out["model_identity"] == {"model": "hf", "model_args": "pretrained=/m/tiny,dtype=float32"}
    assert out["model_name"] == "/m/tiny" and out["source_results"] == str(
        folder.resolve() / f"results_{STAMP}.json"
    )
    assert out["doc_ids"]["flores_xllm_en-zh"] == [0, 1, 2] and "errors" not in out
    stats = np.asarray(out["statistics"]["flores_xllm_en-zh"]["chrf"])
    chrf = get_metric("chrf")()
    assert float(chrf.score_from_statistics(stats.sum(axis=0), 3)) == pytest.approx(
        out["results"]["flores_xllm_en-zh"]["chrf"]
    )
    assert isinstance(ModelIdentity("hf", "pretrained=/m/tiny,dtype=float32", "/m/tiny").key, str)


def test_unknown_metric_names_a_close_one(tmp_path):
    from xllm_harness.errors import UnknownNameError

    with pytest.raises(
        UnknownNameError, match="unknown metric \\(--metrics\\) 'chrff' \\(did you mean 'chrf'"
    ):
        score_model_dir(flores_folder(tmp_path / "m"), metrics=["chrf", "chrff"], log=lambda *_: None)
    assert not list((tmp_path / "m").glob("xllm_scores_*"))  # refused before anything is written


def test_off_target_is_scored_by_default_for_mi_eval_samples(tmp_path):
    if "off_target" not in get_metrics():
        pytest.skip("no off_target metric registered (the language-fidelity plugin adds it)")
    folder = tmp_path / "m"
    folder.mkdir()
    answers = ["今天天气很好，我们去公园散步吧。", "This answer is written in English, not in Chinese."]
    lines = [
        {
            "doc_id": i,
            "doc": {"instruction": "请介绍一下你自己。", "input": "", "lang": "zh"},
            "target": "",
            "filtered_resps": [a],
        }
        for i, a in enumerate(answers)
    ]
    (folder / f"samples_mi_eval_xllm_zh_{STAMP}.jsonl").write_text(
        "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines)
    )
    out = json.loads(score_model_dir(folder, log=lambda *_: None)[0].read_text())
    assert out["results"]["mi_eval_xllm_zh"] == {"off_target": 0.5}  # one of the two answers is not Chinese
    assert len(out["statistics"]["mi_eval_xllm_zh"]["off_target"]) == 2


def test_a_metric_with_no_number_for_these_outputs_is_recorded_as_missing(tmp_path):
    """off_target on QA answers that are all too short to identify: an error with its reason, no number,
    and the other metrics are still written."""
    from xllm_harness.testing.lm_eval_files import write_samples

    docs = [
        {"answers": [a], "lang": "zh", "question": "q", "context": "c"} for a in ("1945", "Obama", "NASA")
    ]
    write_samples(tmp_path / "m", "xquad_xllm_zh", docs, ["1945", "Obama", "NASA"])
    out = json.loads(
        score_model_dir(tmp_path / "m", metrics=["exact_match", "off_target"], log=lambda _: None)[
            0
        ].read_text()
    )
    assert out["results"]["xquad_xllm_zh"] == {"exact_match": 1.0}
    assert "off_target" not in out["results"]["xquad_xllm_zh"]
    assert "identifiable" in out["errors"]["xquad_xllm_zh"]["off_target"]


NAN_PLUGIN = """
import math

from xllm_harness.hookspecs import hookimpl
from xllm_harness.metrics import Metric, Signature


class SometimesNaN(Metric):
    name = "sometimes_nan"
    families = ("flores_xllm",)

    def segment_statistics(self, hypotheses, references, sources, lang):
        return [math.nan if "rained" in r[0] or "plu" in r[0] else 1.0 for r in references]

    def signature(self):
        return Signature.of("sometimes_nan")


@hookimpl
def xllm_metrics():
    return [SometimesNaN]
"""


def test_a_score_that_is_not_a_finite_number_is_recorded_missing_with_its_reason(
    tmp_path, install_plugin, use_sacrebleu_home
):
    install_plugin("xllm-sometimes-nan", "sometimes_nan", "xllm_test_sometimes_nan", NAN_PLUGIN)
    folder = flores_folder(tmp_path / "model")
    assert "sometimes_nan" in default_metrics("flores_xllm_en-zh")  # joined the family by naming it
    (out,) = score_model_dir(folder, log=lambda message: None)
    text = out.read_text()
    assert "NaN" not in text and "Infinity" not in text
    data = json.loads(text)
    assert "sometimes_nan" not in data["results"]["flores_xllm_en-zh"]
    assert "sometimes_nan" not in data["statistics"]["flores_xllm_en-zh"]
    assert data["errors"]["flores_xllm_en-zh"]["sometimes_nan"] == (
        "sometimes_nan gave nan, not a finite number; the score is missing"
    )
    assert "chrf" in data["results"]["flores_xllm_en-zh"]  # the other metrics are kept
