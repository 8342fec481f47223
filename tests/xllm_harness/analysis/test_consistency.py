"""Cross-lingual consistency on XQuAD's parallel questions: scripted models right on the same ids in
every language (consistency 1) and independently per language (agreement of independence)."""

from __future__ import annotations

import csv
import json
import zlib

import numpy as np
import pytest

from xllm_harness.analysis.consistency import consistency, consistency_matrix, kappa_from_counts
from xllm_harness.cli import main
from xllm_harness.errors import InputError
from xllm_harness.testing.lm_eval_files import STAMP
from xllm_harness.testing.qa_runs import write_qa_run

LANGS = ("en", "zh", "hi")


def by_id(lang: str, i: int, doc: dict) -> bool:
    """Right on the same question ids in every language (about half of them)."""
    return zlib.crc32(doc["id"].encode()) % 2 == 0


def independent(lang: str, i: int, doc: dict) -> bool:
    """Right on about 60 % of the questions, drawn independently per language."""
    return zlib.crc32(f"{lang}:{doc['id']}".encode()) % 10 < 6


def test_same_ids_right_everywhere_is_consistency_one(tmp_path, samples_dir):
    write_qa_run(tmp_path / "aligned", samples_dir, LANGS, by_id, model="aligned")
    results = consistency([tmp_path], n_resamples=300)
    assert {(r.model, r.family, r.lang, r.source) for r in results} == {
        ("aligned", "xquad_xllm", lang, "match") for lang in ("zh", "hi")
    }
    for r in results:
        assert r.n == 59 and r.en_only == 0 and r.x_only == 0 and r.both + r.neither == r.n
        assert r.x_given_en == 1.0 and r.kappa == pytest.approx(1.0)
        assert r.kappa_ci == pytest.approx((1.0, 1.0)) and r.resampled == "4 paragraphs"
        assert r.acc_en == r.acc_x == r.both_share


def test_independent_answers_agree_as_independence_predicts(tmp_path, shared_data):
    """On the full files (1190 questions): right in both ≈ acc_en · acc_x, kappa ≈ 0 inside its interval."""
    write_qa_run(tmp_path / "indep", shared_data, LANGS, independent, model="indep")
    results = consistency([tmp_path], n_resamples=500)
    assert len(results) == 2
    for r in results:
        assert r.n == 1190 and r.resampled == "240 paragraphs"
        assert r.both_share == pytest.approx(r.acc_en * r.acc_x, abs=0.03)
        assert r.x_given_en == pytest.approx(r.acc_x, abs=0.05)
        assert abs(r.kappa) < 0.08 and r.kappa_ci[0] < 0 < r.kappa_ci[1]


def test_kappa_hand_worked():
    # 40 both, 10 en only, 20 x only, 30 neither: p_o = 0.7, p_e = 0.5*0.6 + 0.5*0.4 = 0.5, kappa = 0.4
    assert float(kappa_from_counts(np.array([40, 10, 20, 30]))) == pytest.approx(0.4, abs=1e-12)
    assert np.isnan(kappa_from_counts(np.array([10, 0, 0, 0])))  # right everywhere: undefined


def test_judge_verdicts_are_a_second_source(tmp_path, samples_dir):
    folder = write_qa_run(tmp_path / "m", samples_dir, ("en", "zh"), by_id, model="judged")
    verdicts = {  # the judge says YES on the first 30 items in English, on the first 20 in Chinese
        "xquad_xllm_en": lambda i: i < 30,
        "xquad_xllm_zh": lambda i: i < 20,
    }
    details = [
        {"task": task, "doc_id": i, "verdict": "YES" if yes(i) else "NO"}
        for task, yes in verdicts.items()
        for i in range(59)
    ]
    judge = folder / f"judge_qa_{STAMP}.json"
    judge.write_text(json.dumps({"results": {}}), encoding="utf-8")
    judge.with_suffix(".details.jsonl").write_text("".join(json.dumps(d) + "\n" for d in details))
    results = {r.source: r for r in consistency([tmp_path], n_resamples=200)}
    judged = results["judge_accuracy"]
    assert (judged.both, judged.en_only, judged.x_only, judged.neither) == (20, 10, 0, 29)
    assert judged.x_given_en == pytest.approx(20 / 30)
    assert results["match"].x_given_en == 1.0
    matrix = consistency_matrix(list(results.values()))
    assert matrix["columns"] == ["zh"]
    assert {row["source"]: row["values"]["zh"] for row in matrix["rows"]} == {
        "match": 1.0,
        "judge_accuracy": pytest.approx(20 / 30),
    }


def test_command_writes_json_and_the_leaderboard_matrix(tmp_path, samples_dir, capsys):
    write_qa_run(tmp_path / "runs" / "aligned", samples_dir, LANGS, by_id, model="aligned")
    out = tmp_path / "consistency.json"
    assert main(["consistency", str(tmp_path / "runs"), "--resamples", "100", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "P(x|en)" in printed and "kappa" in printed and str(out) in printed
    data = json.loads(out.read_text())
    assert {p["lang"] for p in data["pairs"]} == {"zh", "hi"}
    kappa = consistency_matrix_from(data, "kappa")
    assert kappa == {"hi": pytest.approx(1.0), "zh": pytest.approx(1.0)}
    assert data["matrix"]["statistic"] == "x_given_en" and data["matrix"]["columns"] == ["hi", "zh"]


def consistency_matrix_from(data: dict, statistic: str) -> dict[str, float]:
    return {p["lang"]: p[statistic] for p in data["pairs"]}


def test_bad_input(tmp_path, samples_dir, capsys):
    write_qa_run(tmp_path / "only-zh", samples_dir, ("zh",), by_id)
    with pytest.raises(InputError, match="English counterpart"):
        consistency([tmp_path])
    assert main(["consistency", str(tmp_path), "--metric", "f1"]) == 2
    assert "not a 0/1 metric" in capsys.readouterr().err
    assert main(["consistency", str(tmp_path), "--metric", "nope"]) == 2


def test_leaderboard_shows_consistency_tables_with_a_heatmap(tmp_path, samples_dir, capsys):
    """Two scripted models: one right on the same ids everywhere, one independently per language; the
    leaderboard's consistency tables (CSV, Markdown, HTML heatmap) tell them apart."""
    write_qa_run(tmp_path / "runs" / "aligned", samples_dir, LANGS, by_id, model="aligned")
    write_qa_run(tmp_path / "runs" / "independent", samples_dir, LANGS, independent, model="independent")
    out = tmp_path / "board"
    assert main(["leaderboard", str(tmp_path / "runs"), "-o", str(out), "--no-intervals"]) == 0
    capsys.readouterr()
    rows = [r for r in csv.DictReader((out / "leaderboard.csv").open(encoding="utf-8"))]
    given = {
        (r["model"], r["column"]): float(r["value"])
        for r in rows
        if r["metric"] == "consistency_x_given_en" and r["value"]
    }
    assert given[("aligned", "zh")] == given[("aligned", "hi")] == 1.0
    assert given[("independent", "zh")] < 0.9 and given[("independent", "hi")] < 0.9
    kappa = [
        r
        for r in rows
        if r["metric"] == "consistency_kappa" and r["model"] == "aligned" and r["column"] == "zh"
    ]
    assert float(kappa[0]["value"]) == pytest.approx(1.0, abs=1e-9)
    page = (out / "leaderboard.html").read_text(encoding="utf-8")
    assert "cross-lingual consistency" in page and page.count("<svg") >= 2
    assert "cross-lingual consistency" in (out / "leaderboard.md").read_text(encoding="utf-8")
