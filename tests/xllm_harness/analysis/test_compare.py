"""Aligning two lm-eval output folders and comparing them: real FLORES / XQuAD documents in samples
folders laid out as lm-eval writes them (``--log_samples``), real metrics, judge details files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from xllm_harness.analysis.compare import Plan, align, compare
from xllm_harness.analysis.significance import (
    MCNEMAR,
    PAIRED_BOOTSTRAP,
    PAIRED_BOOTSTRAP_T,
    PAIRED_CLUSTER_BOOTSTRAP,
)
from xllm_harness.errors import InputError, UnknownNameError
from xllm_harness.metrics import get_metric
from xllm_harness.scoring import read_samples
from xllm_harness.tasks.flores_docs import build_docs
from xllm_harness.testing.judge_data import qa_samples
from xllm_harness.testing.lm_eval_files import sample_line, write_samples

STAMP = "2026-02-03T04-05-06.789012"
SAME_SCORE = 1e-9
"""Two computations of one corpus score (from summed statistics, or from the texts) may add in another
order: they agree to 1e-9 points on the 0-100 scale, far inside the 0.01 that result tables show."""
DIRECTIONS = ("en-zh", "en-hi", "zh-en")


def drop_third(text: str) -> str:
    return " ".join(w for i, w in enumerate(text.split()) if (i + 1) % 3)


def write_flores_run(folder: Path, hypothesis, directions=DIRECTIONS, mutate=None) -> Path:
    """A model folder as ``lm_eval --log_samples`` writes it for the flores_xllm tasks."""
    for direction in directions:
        src, tgt = direction.split("-")
        task = f"flores_xllm_{direction}"
        docs = []
        for doc in build_docs(src, tgt, "devtest"):
            doc = {**doc, "metrics": "spbleu,chrf", "comet_model": "", "bleurt_model": ""}
            if mutate:
                mutate(task, doc)
            docs.append(doc)

        def line(i, doc, hyp, tgt=tgt):
            item = {"hyp": hyp, "ref": doc["target"], "src": doc["source"], "lang": tgt, "model": ""}
            return sample_line(
                doc["id"], doc, " " + hyp, doc["target"],
                arguments={"gen_args_0": {"arg_0": doc["prompt"], "arg_1": {"until": ["\n\n\n"]}}},
                metrics=["spbleu", "chrf"], doc_hash="0", prompt_hash="0", target_hash="0", spbleu=item, chrf=item,
            )  # fmt: skip

        write_samples(folder, task, docs, [hypothesis(doc) for doc in docs], STAMP, line=line)
    (folder / f"results_{STAMP}.json").write_text(
        json.dumps({"results": {}, "model_name": folder.name, "config": {"model": "hf"}}), encoding="utf-8"
    )
    return folder


@pytest.fixture
def flores_data(monkeypatch, samples_dir, use_sacrebleu_home):
    monkeypatch.setenv("XLLM_DATA_DIR", str(samples_dir))


def test_dropping_every_third_word_is_significant_on_every_metric(tmp_path, flores_data):
    a = write_flores_run(tmp_path / "out-a" / "dropper", lambda d: drop_third(d["target"]))
    b = write_flores_run(tmp_path / "out-b" / "oracle", lambda d: d["target"])
    every = compare(tmp_path / "out-a", tmp_path / "out-b")  # the family's defaults (off_target too)
    rows = [r for r in every if r.metric in ("spbleu", "chrf")]  # both are in the right language
    assert {(r.task, r.metric) for r in rows} == {
        (f"flores_xllm_{d}", m) for d in DIRECTIONS for m in ("spbleu", "chrf")
    }
    for row in rows:
        assert row.comparison.test == PAIRED_BOOTSTRAP
        assert row.significant and row.comparison.delta > 0 and row.comparison.ci[0] > 0, row
        samples_a = read_samples(next(a.glob(f"samples_{row.task}_*")), row.task)
        samples_b = read_samples(next(b.glob(f"samples_{row.task}_*")), row.task)
        metric = get_metric(row.metric)()
        score_a = metric.corpus_score(samples_a.hypotheses, samples_a.references, lang=samples_a.lang).score
        score_b = metric.corpus_score(samples_b.hypotheses, samples_b.references, lang=samples_b.lang).score
        assert (row.comparison.a, row.comparison.b, row.comparison.delta) == pytest.approx(
            (score_a, score_b, score_b - score_a), rel=0, abs=SAME_SCORE
        )
    assert all(r.p_holm >= r.comparison.p for r in every)


def test_identical_systems_are_never_significant(tmp_path, flores_data):
    write_flores_run(tmp_path / "a", lambda d: drop_third(d["target"]))
    write_flores_run(tmp_path / "b", lambda d: drop_third(d["target"]))
    rows = compare(tmp_path / "a", tmp_path / "b", tasks=["flores_xllm_en-*"])
    assert {r.task for r in rows} == {"flores_xllm_en-zh", "flores_xllm_en-hi"}
    assert all(r.comparison.p == 1.0 and r.p_holm == 1.0 and not r.significant for r in rows)


def test_alignment_on_doc_id_whatever_the_line_order(tmp_path, flores_data):
    write_flores_run(tmp_path / "a", lambda d: d["target"], directions=("en-zh",))
    b = write_flores_run(tmp_path / "b", lambda d: d["target"], directions=("en-zh",))
    path = next(b.glob("samples_*"))
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(reversed(lines)) + "\n", encoding="utf-8")
    (pair,) = align(tmp_path / "a", tmp_path / "b")
    assert pair.a.doc_ids == pair.b.doc_ids and pair.a.hypotheses == pair.b.hypotheses


def test_bad_input(tmp_path, flores_data):
    write_flores_run(tmp_path / "a", lambda d: d["target"], directions=("en-zh", "en-hi"))
    with pytest.raises(FileNotFoundError, match="not a folder"):
        compare(tmp_path / "a", tmp_path / "nowhere")
    write_flores_run(tmp_path / "other", lambda d: d["target"], directions=("zh-en",))
    with pytest.raises(InputError, match="no task has samples in both"):
        compare(tmp_path / "a", tmp_path / "other")
    with pytest.raises(UnknownNameError, match="did you mean 'chrf'"):
        compare(tmp_path / "a", tmp_path / "a", Plan(metrics=["chrff"]))
    with pytest.raises(InputError, match="--tasks flores_xllm_ar-en matches no task"):
        compare(tmp_path / "a", tmp_path / "a", tasks=["flores_xllm_ar-en"])

    short = write_flores_run(tmp_path / "short", lambda d: d["target"], directions=("en-zh",))
    path = next(short.glob("samples_*"))
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[:7] + lines[8:]) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=rf"{path}: doc_id 7 missing"):
        compare(tmp_path / "a", tmp_path / "short")

    def other_source(task, doc):
        if doc["id"] == 3:
            doc["source"] = "A different sentence."

    write_flores_run(tmp_path / "changed", lambda d: d["target"], directions=("en-zh",), mutate=other_source)
    with pytest.raises(InputError, match="flores_xllm_en-zh doc_id 3: the documents differ"):
        compare(tmp_path / "a", tmp_path / "changed")

    write_flores_run(tmp_path / "two" / "m1", lambda d: d["target"], directions=("en-zh",))
    write_flores_run(tmp_path / "two" / "m2", lambda d: d["target"], directions=("en-zh",))
    with pytest.raises(InputError, match="samples of several models"):
        compare(tmp_path / "two", tmp_path / "a")


def write_scores(folder: Path, task: str, doc_ids: list[int], values: list[float], signature: str) -> None:
    """What ``xllm score`` records: per-document statistics in ``doc_ids`` order."""
    (folder / f"xllm_scores_{STAMP}.json").write_text(
        json.dumps(
            {
                "results": {task: {"comet": float(np.mean(values))}},
                "signatures": {task: {"comet": signature}},
                "samples_files": {task: str(next(folder.glob(f"samples_{task}_*")))},
                "doc_ids": {task: doc_ids},
                "statistics": {task: {"comet": [[v] for v in values]}},
            }
        ),
        encoding="utf-8",
    )


def test_recorded_comet_statistics_are_compared_by_default(tmp_path, flores_data):
    a = write_flores_run(tmp_path / "a", lambda d: drop_third(d["target"]), directions=("en-zh",))
    b = write_flores_run(tmp_path / "b", lambda d: d["target"], directions=("en-zh",))
    task, n = "flores_xllm_en-zh", 50
    rng = np.random.default_rng(0)
    seg_a = rng.uniform(40, 80, n)
    seg_b = seg_a + rng.normal(5, 2, n)
    ids = list(range(n))
    write_scores(a, task, ids[::-1], list(seg_a[::-1]), "model:wmt22|version:x")  # another order: realigned
    write_scores(b, task, ids, list(seg_b), "model:wmt22|version:x")
    rows = {r.metric: r for r in compare(a, b)}
    assert {"spbleu", "chrf", "comet"} <= set(rows)
    comet = rows["comet"].comparison
    assert comet.test == PAIRED_BOOTSTRAP_T and comet.p_ttest is not None and comet.p_ttest < 1e-6
    assert comet.a == pytest.approx(seg_a.mean(), rel=1e-12) and comet.b == pytest.approx(
        seg_b.mean(), rel=1e-12
    )
    assert rows["comet"].significant and rows["comet"].signature == "model:wmt22|version:x"

    write_scores(b, task, ids, list(seg_b), "model:another|version:x")  # not comparable: not a default
    assert "comet" not in {r.metric for r in compare(a, b)}


def test_qa_metrics_and_judge_verdicts(tmp_path, samples_dir):
    qa_samples(tmp_path / "a", samples_dir, langs=("en",), n=20)  # every third answer wrong, one empty
    task = "xquad_xllm_en"
    path_b = tmp_path / "b" / next((tmp_path / "a").glob("samples_*")).name
    path_b.parent.mkdir()
    lines = [json.loads(line) for line in next((tmp_path / "a").glob("samples_*")).read_text().splitlines()]
    for line in lines:  # B answers with the first gold answer, with words added on every other item
        extra = " and so on" if line["doc_id"] % 2 else ""
        line["filtered_resps"] = [line["doc"]["answers"][0] + extra]
    path_b.write_text(
        "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8"
    )
    for side, wrong in (("a", {0, 3, 5, 6, 9, 12, 15, 18}), ("b", {4})):
        details = [
            {"task": task, "doc_id": i, "verdict": "NO" if i in wrong else "YES"}
            for i in range(20)
            if i != 11
        ]
        judged = tmp_path / side / f"judge_qa_{STAMP}.json"
        judged.write_text(json.dumps({"results": {}}), encoding="utf-8")
        judged.with_suffix(".details.jsonl").write_text("".join(json.dumps(d) + "\n" for d in details))
    clustered = {r.metric: r for r in compare(tmp_path / "a", tmp_path / "b")}
    paragraphs = len({line["doc"]["context"] for line in lines})
    assert 1 < paragraphs < 20  # XQuAD's first 20 questions share a few paragraphs
    for row in clustered.values():  # QA items are resampled by paragraph by default: no McNemar, no t-test
        assert row.comparison.test == PAIRED_CLUSTER_BOOTSTRAP and row.comparison.clusters == paragraphs
        assert "p_ttest" not in row.to_dict() and "design_effect" in row.to_dict()
    rows = {r.metric: r for r in compare(tmp_path / "a", tmp_path / "b", clusters=False)}
    assert {"match", "exact_match", "f1", "judge_accuracy"} <= set(rows)
    assert rows["match"].comparison.test == MCNEMAR and rows["exact_match"].comparison.test == MCNEMAR
    assert rows["f1"].comparison.test == PAIRED_BOOTSTRAP_T
    assert "clusters" not in rows["f1"].to_dict()
    judge = rows["judge_accuracy"].comparison
    # 19 items judged for both; A wrong on 8 of them where B is right, B wrong on doc 4 where A is right
    assert judge.n == 19 and judge.test == MCNEMAR
    assert (judge.a, judge.b) == pytest.approx((11 / 19, 18 / 19))
    assert judge.p == pytest.approx(2 * (1 + 9) / 2**9)  # exact binomial: 1 of 9 discordant items


def test_pairwise_judge_outcomes(tmp_path, samples_dir):
    from xllm_harness.testing.judge_data import mi_eval_pair

    mi_eval_pair(tmp_path / "a", tmp_path / "b", samples_dir, {"en": [(5, 5)] * 5})
    outcomes = ["loss", "loss", "loss", "tie", "win"]
    payload = {"a": {"samples": str(tmp_path / "a")}, "b": {"samples": str(tmp_path / "b")}, "results": {}}
    path = tmp_path / "a" / f"judge_pairwise_{STAMP}.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    path.with_suffix(".details.jsonl").write_text(
        "".join(
            json.dumps({"task": "mi_eval_xllm_en", "doc_id": i, "outcome": o}) + "\n"
            for i, o in enumerate(outcomes)
        )
    )
    (row,) = compare(tmp_path / "a", tmp_path / "b", Plan(metrics=["judge_pairwise"]))
    c = row.comparison
    assert row.metric == "judge_pairwise" and c.test == MCNEMAR
    assert (c.a, c.b, c.n) == (pytest.approx(0.2), pytest.approx(0.6), 5)
    assert c.p == pytest.approx(2 * (1 + 4) / 16)  # sign test: 1 win against 3 losses


def test_a_metric_without_finite_statistics_is_skipped_and_the_others_kept(tmp_path, flores_data):
    """One NaN in COMET's recorded statistics: COMET is skipped with its reason, chrF++ and spBLEU are
    still compared and Holm-adjusted (the NaN p-value used to stop the whole run)."""
    a = write_flores_run(tmp_path / "a", lambda d: drop_third(d["target"]), directions=("en-zh",))
    b = write_flores_run(tmp_path / "b", lambda d: d["target"], directions=("en-zh",))
    task, ids = "flores_xllm_en-zh", list(range(50))
    write_scores(a, task, ids, [50.0] * 49 + [float("nan")], "model:wmt22|version:x")
    write_scores(b, task, ids, [60.0] * 50, "model:wmt22|version:x")
    skipped: list[dict[str, str]] = []
    rows = {r.metric: r for r in compare(a, b, skipped=skipped)}
    assert {"spbleu", "chrf", "off_target"} == set(rows)
    assert all(np.isfinite(r.p_holm) for r in rows.values())
    assert skipped == [
        {
            "task": task,
            "metric": "comet",
            "reason": "A's statistics are not finite numbers (NaN or infinite) for 1 segment(s)",
        }
    ]
