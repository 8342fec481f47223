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
        TASK, qa_utils.metric_names("xquad"), qa_utils.metric_options(metadata), qa_utils.HINT
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


class LastGold:
    """A scripted model for lm-eval: answers every question with its last gold answer (right by any gold,
    wrong against the first gold wherever a question has two)."""

    @staticmethod
    def build():
        from lm_eval.api.model import LM

        class Scripted(LM):
            def generate_until(self, requests, disable_tqdm: bool = False) -> list[str]:
                return [request.doc["answers"][-1] for request in requests]

            def loglikelihood(self, requests, disable_tqdm: bool = False):
                raise NotImplementedError

            def loglikelihood_rolling(self, requests, disable_tqdm: bool = False):
                raise NotImplementedError

        return Scripted()


def test_reproduce_gives_the_same_value_per_sample_on_every_route(tmp_path, samples_dir, monkeypatch):
    """A real lm-eval run with ``--metadata '{"reproduce": "x-llm"}'``: the task's own per-sample ``match``,
    ``xllm score``'s statistics and ``xllm compare``'s are the same numbers (issue: 0.0 against 1.0)."""
    import shutil

    from lm_eval import simple_evaluate
    from lm_eval.loggers import EvaluationTracker

    from xllm_harness.analysis.compare import align
    from xllm_harness.bridge.task_index import task_manager
    from xllm_harness.scoring import metric_for

    data = tmp_path / "data"
    shutil.copytree(samples_dir / "xquad", data / "xquad")
    squad = json.loads((data / "xquad" / "xquad.en.json").read_text(encoding="utf-8"))
    questions = [qa for article in squad["data"] for p in article["paragraphs"] for qa in p["qas"]]
    for i, qa in enumerate(questions[::2]):  # every other question gets a second gold answer
        qa["answers"].append({"text": f"second gold {i}", "answer_start": 0})
    (data / "xquad" / "xquad.en.json").write_text(json.dumps(squad), encoding="utf-8")
    monkeypatch.setenv("XLLM_DATA_DIR", str(data))

    out = simple_evaluate(
        model=LastGold.build(),
        tasks=[TASK],
        limit=8,
        task_manager=task_manager(metadata={"reproduce": "x-llm"}),
        log_samples=True,
        bootstrap_iters=0,
    )
    tracker = EvaluationTracker(output_path=str(tmp_path / "a"))
    tracker.general_config_tracker.log_experiment_args("scripted", "pretrained=last-gold", None, None, False)
    tracker.save_results_aggregated(results=out, samples=out["samples"])
    tracker.save_results_samples(task_name=TASK, samples=out["samples"][TASK])
    folder = tmp_path / "a" / "last-gold"

    samples = sorted(out["samples"][TASK], key=lambda s: s["doc_id"])
    task_values = [s["match"] for s in samples]
    # the oracle: right exactly where the last gold is the first one
    assert task_values == [float(len(s["doc"]["answers"]) == 1) for s in samples]
    assert 0.0 in task_values and 1.0 in task_values  # the option matters on these samples

    assert main(["score", str(tmp_path / "a"), "--metrics", "match"]) == 0
    scores = json.loads(next(folder.glob("xllm_scores_*.json")).read_text())
    assert [row[0] for row in scores["statistics"][TASK]["match"]] == task_values

    shutil.copytree(folder, tmp_path / "b" / "last-gold", ignore=shutil.ignore_patterns("xllm_scores_*"))
    (pair,) = align(folder, tmp_path / "b" / "last-gold")
    statistics = metric_for("match", pair.a).statistics(pair.a.hypotheses, pair.a.references, lang="en")
    assert statistics[:, 0].tolist() == task_values
    (row,) = [r for r in compare(folder, tmp_path / "b" / "last-gold", n_resamples=50) if r.metric == "match"]
    assert row.comparison.a == pytest.approx(sum(task_values) / len(task_values), abs=1e-12)
