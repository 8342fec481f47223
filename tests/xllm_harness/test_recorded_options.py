"""The metric options a task ran with (``--metadata '{"reproduce": "x-llm"}'``: ``match`` against the
first gold only) are stored in every document; every route that rescores the saved samples (``xllm
score``, ``xllm compare``, the leaderboard's intervals, ``xllm consistency``) honours them, so each gives
the task's own per-sample values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xllm_harness.analysis.compare import compare
from xllm_harness.analysis.consistency import binary_metric, metric_outcomes
from xllm_harness.cli import main
from xllm_harness.errors import InputError
from xllm_harness.scoring import read_samples
from xllm_harness.tasks import qa_utils
from xllm_harness.testing.lm_eval_files import write_samples

TASK = "xquad_xllm_en"
GOLDS = [["Denver Broncos", "the Broncos"], ["Santa Clara", "Levi's Stadium"], ["gold", "silver"]]
CONTEXTS = ["Super Bowl 50 ...", "The game was played ...", "The league emphasized ..."]


def docs(metadata: dict) -> list[dict]:
    """QA documents as the task's ``custom_dataset`` stores them (the metric plan included)."""
    fields = qa_utils.task_metrics.plan(
        TASK, qa_utils.SAMPLE_METRICS, qa_utils.metric_options(metadata), qa_utils.HINT
    )
    return [
        {"id": f"q{i}", "context": c, "question": f"question {i}?", "answers": golds, "lang": "en", **fields}
        for i, (golds, c) in enumerate(zip(GOLDS, CONTEXTS, strict=True))
    ]


def run(folder: Path, metadata: dict, outputs: list[str]) -> tuple[Path, list[float]]:
    """A saved run and the task route's own ``match`` per document (lm-eval's ``process_results``)."""
    documents = docs(metadata)
    task_values = [qa_utils.process_results(d, [o])["match"] for d, o in zip(documents, outputs, strict=True)]
    write_samples(folder, TASK, documents, outputs)
    return folder, task_values


SECOND_GOLDS = [g[1] for g in GOLDS]  # right by any gold, wrong against the first gold only


def test_the_task_route_itself_differs_by_option(tmp_path):
    """The premise: on these outputs the option changes the task's number (else the test proves nothing)."""
    _, reproduce = run(tmp_path / "x", {"reproduce": "x-llm"}, SECOND_GOLDS)
    _, default = run(tmp_path / "d", {}, SECOND_GOLDS)
    assert reproduce == [0.0, 0.0, 0.0] and default == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("metadata", [{"reproduce": "x-llm"}, {}])
def test_xllm_score_gives_the_task_values(tmp_path, metadata, capsys):
    folder, task_values = run(tmp_path / "model", metadata, SECOND_GOLDS)
    assert main(["score", str(tmp_path), "--metrics", "match"]) == 0
    capsys.readouterr()
    scores = json.loads(next(folder.glob("xllm_scores_*.json")).read_text())
    assert [row[0] for row in scores["statistics"][TASK]["match"]] == task_values
    assert scores["results"][TASK]["match"] == pytest.approx(sum(task_values) / len(task_values), abs=1e-12)


def test_compare_consistency_and_reader_use_the_recorded_options(tmp_path):
    reproduce = {"reproduce": "x-llm"}
    a, a_values = run(tmp_path / "a" / "model", reproduce, SECOND_GOLDS)
    _, b_values = run(tmp_path / "b" / "model", reproduce, [g[0] for g in GOLDS])
    assert read_samples(next(a.glob("samples_*.jsonl"))).metric_options == {"match": {"golds": "first"}}
    rows = [r for r in compare(tmp_path / "a", tmp_path / "b", n_resamples=200) if r.metric == "match"]
    assert len(rows) == 1
    assert rows[0].comparison.a == pytest.approx(sum(a_values) / 3, abs=1e-12)  # 0: first gold only
    assert rows[0].comparison.b == pytest.approx(sum(b_values) / 3, abs=1e-12)  # 1
    outcomes = metric_outcomes(next(a.glob("samples_*.jsonl")), TASK, binary_metric("match"))
    assert sorted(outcomes.values.values()) == sorted(a_values)


def test_compare_refuses_runs_scored_with_different_options(tmp_path):
    run(tmp_path / "a" / "model", {"reproduce": "x-llm"}, SECOND_GOLDS)
    run(tmp_path / "b" / "model", {}, SECOND_GOLDS)
    with pytest.raises(InputError, match="different metric options"):
        compare(tmp_path / "a", tmp_path / "b", n_resamples=50)


def test_documents_in_another_language_than_the_task_are_refused(tmp_path, capsys, monkeypatch, samples_dir):
    """A flores_xllm_en-zh file whose documents say tgt_lang ar (issue: off_target 1.0 on Chinese outputs)."""
    from xllm_harness.tasks.flores_docs import build_docs

    monkeypatch.setenv("XLLM_DATA_DIR", str(samples_dir))
    docs = [{**d, "tgt_lang": "ar"} for d in build_docs("en", "zh", "devtest")[:3]]
    write_samples(tmp_path / "model", "flores_xllm_en-zh", docs, ["你好", "世界", "测试"])
    assert main(["score", str(tmp_path), "--metrics", "chrf"]) == 2
    err = capsys.readouterr().err
    assert "tgt_lang 'ar'" in err and "flores_xllm_en-zh" in err and "Traceback" not in err
    assert not list((tmp_path / "model").glob("xllm_scores_*.json"))
