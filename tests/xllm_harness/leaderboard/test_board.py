"""Leaderboard collection and tables: families, averages, reported rows, naming, reruns, bad files, missing
metrics, intervals and the baseline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xllm_harness.errors import InputError
from xllm_harness.leaderboard.board import (
    add_intervals,
    build_tables,
    collect,
    compare_to_baseline,
    pairwise_table,
)
from xllm_harness.metrics import get_metric
from xllm_harness.testing import lm_eval_files
from xllm_harness.testing.lm_eval_files import sample_line


def write_results(
    folder: Path, pretrained: str, results: dict[str, dict[str, object]], stamp: str, **config: object
) -> Path:
    """A results file in lm-eval's layout (what `lm_eval --output_path` writes)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"results_{stamp}.json"
    payload = {
        "results": {
            task: {"alias": task, **{(k if "," in k else f"{k},none"): v for k, v in m.items()}}
            for task, m in results.items()
        },
        "config": {"model": "hf", "model_args": f"pretrained={pretrained},dtype=float32", **config},
        "model_name": pretrained,
    }
    path.write_text(json.dumps(payload))
    return path


def write_samples(folder: Path, task: str, stamp: str, docs: list[dict], outputs: list[str]) -> Path:
    """A `--log_samples` file (one line per document)."""
    return lm_eval_files.write_samples(
        folder, task, docs, outputs, stamp, line=lambda i, doc, out: sample_line(i, doc, out)
    )


def table(tables, title):
    return next(t for t in tables if t.title == title)


def row(tab, label):
    return next(r for r in tab.rows if r.label == label)


@pytest.fixture
def runs(tmp_path) -> Path:
    root = tmp_path / "runs"
    base = root / "base"
    write_results(
        base,
        "/models/base",
        {
            "xquad_xllm_ar": {"match": 0.2, "exact_match": 0.1, "f1": 0.3},
            "xquad_xllm_en": {"match": 0.9, "exact_match": 0.8, "f1": 0.85},
            "xquad_xllm_zh": {"match": 0.4, "exact_match": 0.2, "f1": 0.5},
        },
        "2026-01-01T00-00-00.000001",
    )
    # an older run of the same model and task loses although its file is touched later (name, not mtime)
    old = write_results(
        base, "/models/base", {"xquad_xllm_ar": {"match": 0.05}}, "2025-01-01T00-00-00.000001"
    )
    old.touch()
    tuned = root / "tuned"
    write_results(
        tuned,
        "/models/tuned",
        {
            "xquad_xllm_ar": {"match": 0.5, "exact_match": 0.3, "f1": 0.6},
            "flores_xllm_en-ar": {"spbleu": 12.5, "chrf": 30.0},
            "flores_xllm_ar-en": {"spbleu": 20.5, "chrf": 40.0},
            "flores_xllm_en-zh": {"spbleu": 10.0, "chrf": 20.0},
        },
        "2026-01-02T00-00-00.000001",
    )
    (tuned / "xllm_scores_2026-01-03T00-00-00.000001.json").write_text(
        json.dumps(
            {
                "model_name": "/models/tuned",
                "source_results": str(tuned / "results_2026-01-02T00-00-00.000001.json"),
                "results": {
                    "flores_xllm_en-ar": {"comet": 71.0, "bleurt": 0.6},
                    "flores_xllm_ar-en": {"comet": 79.0},
                },
                "signatures": {
                    "flores_xllm_en-ar": {"comet": "model:x|scale:100", "bleurt": "model:y|nrefs:1"},
                    "flores_xllm_ar-en": {"comet": "model:x|scale:100"},
                },
            }
        )
    )
    (tuned / "judge_qa_2026-01-03T00-00-00.000001.json").write_text(
        json.dumps(
            {"model_name": "/models/tuned", "results": {"xquad_xllm_ar": {"judge_accuracy": 0.75, "n": 100}}}
        )
    )
    return root


def test_tables_come_from_families_with_their_averages_and_reported_rows(runs):
    tables = build_tables(collect([runs], aliases={"tuned": "x-tuned"}).scores)
    match = table(tables, "XQuAD: match (x-LLM)")
    assert match.family == "xquad_xllm" and match.columns == ["ar", "zh", "en"]
    base = row(match, "base")
    assert base.values == {"ar": 0.2, "zh": 0.4, "en": 0.9}  # the newest run wins
    assert base.averages == {"avg": pytest.approx(0.3)}  # English is left out of the paper's averages
    tuned = row(match, "x-tuned")
    assert (
        tuned.values["zh"] is None and tuned.averages["avg"] is None
    )  # an average over fewer columns is absent
    reported = [r for r in match.rows if r.reported]
    assert reported[-1].label == "x-LLaMA-7B (reported, Table 6)" and reported[-1].values["ar"] == 0.49
    # the reported row's avg is over the measured rows' columns (ar, zh: issue 21 item 9); the paper's
    # own average, over its six languages, is in a column of its own
    assert reported[-1].averages["avg"] == pytest.approx((0.49 + 0.53) / 2, abs=1e-12)
    assert reported[-1].averages["paper avg"] == pytest.approx(
        (0.49 + 0.56 + 0.59 + 0.61 + 0.54 + 0.53) / 6, abs=1e-12
    )
    assert match.average_labels == ["avg", "paper avg"]
    judge = table(tables, "XQuAD: judge accuracy")
    assert row(judge, "x-tuned").values["ar"] == 0.75 and any("Table 2" in r.label for r in judge.rows)

    spbleu = table(tables, "FLORES-101: spBLEU")
    assert spbleu.columns == ["en-ar", "en-zh", "ar-en"]
    assert spbleu.average_labels == ["en-x avg", "x-en avg", "paper avg"]
    assert row(spbleu, "x-tuned").averages == {"en-x avg": pytest.approx(11.25), "x-en avg": 20.5}
    assert row(spbleu, "MuIT 1.2M optimized (reported, Table 4)").averages == {"paper avg": 34.40}
    comet = table(tables, "FLORES-101: COMET (x100)")
    assert row(comet, "x-tuned").values == {"en-ar": 71.0, "ar-en": 79.0}  # declared scale:100, shown as is
    bleurt = table(tables, "FLORES-101: BLEURT (x100)")
    cell = row(bleurt, "x-tuned").cells["en-ar"]
    assert cell.value is None and "declares no scale" in cell.missing  # no guessing whether 0.6 means 60
    assert any(
        note.startswith("missing for x-tuned en-ar: its signature declares no scale") for note in bleurt.notes
    )
    order = [t.family for t in tables]
    assert order.index("xquad_xllm") < order.index("flores_xllm")  # registration order of the families


def test_two_models_with_one_folder_name_stay_apart_and_rename_everywhere(tmp_path):
    for side, score in (("a", 0.1), ("b", 0.7)):
        write_results(
            tmp_path / side / "out",
            f"/{side}/tiny-coit",
            {"xquad_xllm_ar": {"match": score}},
            "2026-01-01T00-00-00.1",
        )
    # same path, other model_args: another model too
    write_results(
        tmp_path / "c",
        "/b/tiny-coit",
        {"xquad_xllm_ar": {"match": 0.9}},
        "2026-01-01T00-00-00.1",
        model_args="pretrained=/b/tiny-coit,dtype=float16",
    )
    found = collect([tmp_path])
    assert sorted(found.scores) == [
        "a/tiny-coit",
        "b/tiny-coit (dtype=float16)",
        "b/tiny-coit (dtype=float32)",
    ]
    assert any("3 different models are named 'tiny-coit'" in note for note in found.notes)
    match = table(build_tables(found.scores), "XQuAD: match (x-LLM)")
    assert (
        row(match, "a/tiny-coit").values["ar"] == 0.1
        and row(match, "b/tiny-coit (dtype=float32)").values["ar"] == 0.7
    )

    pair = {
        "systems": {
            "a": {"model": "hf", "model_args": "pretrained=/a/tiny-coit,dtype=float32"},
            "b": {"model": "hf", "model_args": "pretrained=/b/tiny-coit,dtype=float32"},
        },
        "models": {"a": "/a/tiny-coit", "b": "/b/tiny-coit"},
        "results": {"ar": {"win": 2, "tie": 1, "loss": 1}},
    }
    (tmp_path / "judge_pairwise_2026-01-02T00-00-00.1.json").write_text(json.dumps(pair))
    renamed = collect([tmp_path], aliases={"a/tiny-coit": "CoIT-A", "b/tiny-coit (dtype=float32)": "CoIT-B"})
    assert "CoIT-A" in renamed.scores
    (comparison,) = renamed.pairwise
    assert (comparison.model_a, comparison.model_b) == ("CoIT-A", "CoIT-B")  # one naming rule in every table
    with pytest.raises(InputError, match="would both be called"):
        collect([tmp_path], aliases={"a/tiny-coit": "X", "/b/tiny-coit": "X"})
    with pytest.raises(KeyError, match="did you mean 'a/tiny-coit'"):
        collect([tmp_path], aliases={"a/tiny-coi": "X"})


def test_reruns_keep_the_newest_of_every_kind(tmp_path):
    folder = tmp_path / "x"
    write_results(folder, "/m/x-llama", {"mi_eval_xllm_ar": {}}, "2026-01-01T00-00-00.1")
    for stamp, win in (("2026-01-02T00-00-00.1", 1), ("2026-01-03T00-00-00.1", 3)):
        (folder / f"judge_pairwise_{stamp}.json").write_text(
            json.dumps(
                {
                    "a": {"model": "/m/x-llama", "samples": str(folder)},
                    "b": {"model": "/m/alpaca"},
                    "models": {"a": "/m/x-llama", "b": "/m/alpaca"},
                    "results": {"ar": {"win": win, "tie": 0, "loss": 1}},
                }
            )
        )
        (folder / f"judge_qa_{stamp}.json").write_text(
            json.dumps(
                {"model_name": "/m/x-llama", "results": {"xquad_xllm_ar": {"judge_accuracy": win / 4}}}
            )
        )
    found = collect([tmp_path])
    (comparison,) = found.pairwise  # a rerun replaces, it does not add a second row
    assert comparison.per_language["ar"]["win"] == 3 and comparison.model_a == "x-llama"
    assert comparison.model_b == "alpaca"  # the last path part, as in every other table
    mi_eval = pairwise_table(found.pairwise)
    assert [r.label for r in mi_eval.rows] == ["x-llama vs alpaca"]
    judge = table(build_tables(found.scores, include_reported=False), "XQuAD: judge accuracy")
    assert [(r.label, r.values["ar"]) for r in judge.rows] == [("x-llama", 0.75)]


def test_bad_files_are_skipped_with_a_warning_or_refused_with_strict(tmp_path):
    write_results(tmp_path / "good", "/m/good", {"xquad_xllm_ar": {"match": 0.5}}, "2026-01-01T00-00-00.1")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "results_2026-01-01T00-00-00.1.json").write_text("{not json")
    (bad / "results_2026-01-02T00-00-00.1.json").write_text("[1, 2]")
    (bad / "xllm_scores_2026-01-01T00-00-00.1.json").write_text(
        json.dumps({"model_name": "m", "results": [1]})
    )
    (bad / "judge_pairwise_2026-01-01T00-00-00.1.json").write_text(
        json.dumps({"results": {"ar": {"win": 1}}})
    )
    warnings: list[str] = []
    found = collect([tmp_path], warn=warnings.append)
    assert list(found.scores) == ["good"] and not found.pairwise
    assert len(warnings) == 4
    by_file = {w.split(": skipped")[0].rsplit("/", 1)[-1]: w for w in warnings}
    assert "not valid JSON" in by_file["results_2026-01-01T00-00-00.1.json"]
    assert "expected a JSON object with 'results'" in by_file["results_2026-01-02T00-00-00.1.json"]
    assert "expected xllm score's output" in by_file["xllm_scores_2026-01-01T00-00-00.1.json"]
    assert "lacks numeric win/tie/loss" in by_file["judge_pairwise_2026-01-01T00-00-00.1.json"]
    with pytest.raises(InputError, match=r"results_2026-01-01T00-00-00.1.json: not valid JSON .*--strict"):
        collect([tmp_path], strict=True)


def test_missing_metric_is_missing_with_its_reason_until_scored(tmp_path):
    folder = tmp_path / "out" / "m"
    write_results(
        folder,
        "/m/tiny",
        {
            "flores_xllm_en-zh": {
                "chrf": 31.0,
                "spbleu_signature": "missing: sacrebleu's FLORES-101 model is absent",
            },
            "flores_xllm_en-ar": {
                "chrf": 30.0,
                "spbleu": float("nan"),
                "spbleu_signature": "missing: no model",
            },
        },
        "2026-01-01T00-00-00.1",
    )
    spbleu = table(build_tables(collect([tmp_path]).scores), "FLORES-101: spBLEU")
    cells = row(spbleu, "tiny").cells
    assert cells["en-zh"].value is None and "FLORES-101 model is absent" in cells["en-zh"].missing
    assert cells["en-ar"].value is None and cells["en-ar"].missing == "no model"
    assert row(spbleu, "tiny").averages["en-x avg"] is None
    assert any("FLORES-101 model is absent" in n for n in spbleu.notes)
    (folder / "xllm_scores_2026-01-02T00-00-00.1.json").write_text(
        json.dumps({"model_name": "/m/tiny", "results": {"flores_xllm_en-zh": {"spbleu": 9.5}}})
    )
    spbleu = table(build_tables(collect([tmp_path]).scores), "FLORES-101: spBLEU")
    assert row(spbleu, "tiny").values == {"en-ar": None, "en-zh": 9.5}
    # a later run that records it missing again does not hide the measured number
    write_results(
        folder,
        "/m/tiny",
        {"flores_xllm_en-zh": {"spbleu_signature": "missing: again"}},
        "2026-01-03T00-00-00.1",
    )
    assert (
        row(table(build_tables(collect([tmp_path]).scores), "FLORES-101: spBLEU"), "tiny").values["en-zh"]
        == 9.5
    )


def test_off_target_table_per_family(tmp_path):
    write_results(
        tmp_path,
        "/m/tiny",
        {"flores_xllm_en-zh": {"chrf": 31.0, "off_target": 0.25}, "mi_eval_xllm_zh": {"off_target": 0.5}},
        "2026-01-01T00-00-00.1",
    )
    tables = build_tables(collect([tmp_path]).scores)
    assert row(table(tables, "FLORES-101: off-target rate"), "tiny").values == {"en-zh": 0.25}
    assert row(table(tables, "MI-Eval: off-target rate"), "tiny").values == {"zh": 0.5}


def test_lm_eval_0_5_group_member_names_land_in_their_family_column(tmp_path):
    """lm-eval 0.5 keys a group run's members ``group::task`` (``--tasks flores_xllm_en-x``)."""
    write_results(
        tmp_path,
        "/m/tiny",
        {"flores_xllm_en-x::flores_xllm_en-zh": {"chrf": 31.0}, "xllm::xquad_xllm_ar": {"f1": 0.5}},
        "2026-01-01T00-00-00.1",
    )
    tables = build_tables(collect([tmp_path]).scores)
    assert row(table(tables, "FLORES-101: chrF++"), "tiny").values["en-zh"] == pytest.approx(31.0, abs=1e-9)
    assert row(table(tables, "XQuAD: F1"), "tiny").values["ar"] == pytest.approx(0.5, abs=1e-9)


PLUGIN = """
from pathlib import Path
from xllm_harness.hookspecs import hookimpl
from xllm_harness.taskgen import TaskFamily

FOLDER = Path(__file__).parent / "toy_tasks"


def _tasks(lang):
    return []


def _averages(columns):
    return {"short avg": [c for c in columns if len(c) == 2], "all avg": list(columns)}


@hookimpl
def xllm_task_families():
    return [TaskFamily("toy_bench", FOLDER, _tasks, "Toy Bench", ("f1", "toy_score"), _averages)]


@hookimpl
def xllm_task_dirs():
    return [FOLDER]
"""


def test_a_plugin_task_family_gets_its_own_table(tmp_path, install_plugin):
    root = install_plugin("xllm-toy-bench", "toy", "xllm_toy_bench", PLUGIN)
    (root / "toy_tasks").mkdir()
    (root / "toy_tasks" / "_toy_bench_yaml").write_text("output_type: generate_until\n")
    write_results(
        tmp_path / "out",
        "/m/tiny",
        {
            "toy_bench_aa": {"f1": 0.2, "toy_score": 3.0, "match": 0.9},
            "toy_bench_bb": {"f1": 0.4, "toy_score": 5.0},
            "toy_bench_ccc": {"f1": 0.9, "toy_score": 7.0},
        },
        "2026-01-01T00-00-00.1",
    )
    tables = build_tables(collect([tmp_path]).scores)
    assert [t.title for t in tables] == ["Toy Bench: F1", "Toy Bench: toy_score"]  # its metrics, in its order
    f1 = tables[0]
    assert f1.family == "toy_bench" and f1.columns == ["aa", "bb", "ccc"]
    assert row(f1, "tiny").averages == {"short avg": pytest.approx(0.3), "all avg": pytest.approx(0.5)}


QA_DOCS = [
    {"context": "c", "question": f"q{i}", "answers": [f"answer{i}"], "lang": "ar", "id": str(i)}
    for i in range(60)
]


def qa_run(folder: Path, pretrained: str, outputs: list[str], stamp: str = "2026-01-01T00-00-00.1") -> float:
    """A results file and its samples for xquad_xllm_ar; the recorded match is the metric's own on the samples."""
    write_samples(folder, "xquad_xllm_ar", stamp, QA_DOCS, outputs)
    refs = [d["answers"] for d in QA_DOCS]
    value = get_metric("match")().corpus_score(outputs, refs, lang="ar").score
    write_results(folder, pretrained, {"xquad_xllm_ar": {"match": value}}, stamp)
    return value


def test_intervals_and_baseline_marks(tmp_path):
    qa_run(tmp_path / "weak", "/m/weak", [f"answer{i}" if i % 3 == 0 else "no" for i in range(60)])
    qa_run(tmp_path / "strong", "/m/strong", [f"answer{i}" if i % 10 else "no" for i in range(60)])
    qa_run(tmp_path / "twin", "/m/twin", [f"answer{i}" if i % 3 == 0 else "no" for i in range(60)])
    # a recorded value its samples do not give gets no interval
    write_samples(tmp_path / "odd", "xquad_xllm_ar", "2026-01-01T00-00-00.1", QA_DOCS, ["no"] * 60)
    write_results(tmp_path / "odd", "/m/odd", {"xquad_xllm_ar": {"match": 0.5}}, "2026-01-01T00-00-00.1")
    found = collect([tmp_path])
    add_intervals(found.scores)
    tables = build_tables(found.scores, include_reported=False)
    match = table(tables, "XQuAD: match (x-LLM)")
    weak = row(match, "weak").cells["ar"]
    lo, hi = weak.interval
    assert weak.value == pytest.approx(1 / 3) and lo < weak.value < hi and hi - lo < 0.4
    assert row(match, "odd").cells["ar"].interval is None
    assert "do not give the recorded score" in row(match, "odd").cells["ar"].no_interval
    compared = compare_to_baseline(tables, "weak")
    assert compared == 2  # odd has no statistics that give its number: not compared
    assert row(match, "strong").cells["ar"].vs_baseline == "higher"
    assert row(match, "twin").cells["ar"].vs_baseline is None and row(match, "twin").cells["ar"].p_holm == 1.0
    assert row(match, "odd").cells["ar"].vs_baseline is None
    assert any("significantly higher/lower than weak" in n and "2 cells" in n for n in match.notes)
    with pytest.raises(KeyError, match="did you mean 'weak'"):
        compare_to_baseline(tables, "weac")


def test_judge_accuracy_intervals_from_the_details_file(tmp_path):
    for name, yes in (("weak", 10), ("strong", 35)):
        folder = tmp_path / name
        write_results(folder, f"/m/{name}", {"xquad_xllm_ar": {"match": 0.5}}, "2026-01-01T00-00-00.1")
        judge = folder / "judge_qa_2026-01-02T00-00-00.1.json"
        judge.write_text(
            json.dumps(
                {"model_name": f"/m/{name}", "results": {"xquad_xllm_ar": {"judge_accuracy": yes / 40}}}
            )
        )
        details = [
            {"task": "xquad_xllm_ar", "doc_id": i, "verdict": "YES" if i < yes else "NO"} for i in range(40)
        ]
        details.append({"task": "xquad_xllm_ar", "doc_id": 40, "note": "unparseable replies: not scored"})
        judge.with_suffix(".details.jsonl").write_text("".join(json.dumps(d) + "\n" for d in details))
    found = collect([tmp_path])
    add_intervals(found.scores)
    tables = build_tables(found.scores, include_reported=False)
    judge = table(tables, "XQuAD: judge accuracy")
    strong = row(judge, "strong").cells["ar"]
    assert strong.value == 35 / 40 and strong.interval[0] < 35 / 40 < strong.interval[1]
    compare_to_baseline(tables, "weak")
    assert strong.vs_baseline == "higher" and strong.p_holm < 0.05


def test_mi_eval_shares_get_intervals_from_the_details_file(tmp_path):
    judge = tmp_path / "judge_pairwise_2026-01-01T00-00-00.1.json"
    counts = {"ar": {"win": 12, "tie": 4, "loss": 4}, "zh": {"win": 2, "tie": 2, "loss": 16}}
    totals = {k: sum(c[k] for c in counts.values()) for k in ("win", "tie", "loss")}
    judge.write_text(json.dumps({"models": {"a": "/m/x", "b": "/m/y"}, "results": {**counts, "all": totals}}))
    details = [
        {"lang": lang, "outcome": k} for lang, c in counts.items() for k, n in c.items() for _ in range(n)
    ]
    details.append({"lang": "zh", "outcome": None, "note": "unparseable replies: not scored"})
    judge.with_suffix(".details.jsonl").write_text("".join(json.dumps(d) + "\n" for d in details))
    tab = pairwise_table(collect([tmp_path]).pairwise)
    cells = tab.rows[0].cells
    assert cells["ar win"].value == 0.6 and cells["ar win"].interval[0] < 0.6 < cells["ar win"].interval[1]
    assert (
        cells["all loss"].value == 0.5 and cells["all loss"].interval[0] < 0.5 < cells["all loss"].interval[1]
    )
    judge.with_suffix(".details.jsonl").unlink()
    tab = pairwise_table(collect([tmp_path]).pairwise)
    assert all(c.interval is None for c in tab.rows[0].cells.values())
    assert any(n.startswith("no interval for x vs y") for n in tab.notes)


def test_a_judge_file_is_matched_by_its_model_not_by_the_newest_run_around_it(tmp_path):
    write_results(tmp_path / "a", "/m/a", {"xquad_xllm_ar": {"match": 0.1}}, "2026-01-01T00-00-00.1")
    write_results(tmp_path / "b", "/m/b", {"xquad_xllm_ar": {"match": 0.2}}, "2026-02-01T00-00-00.1")
    (tmp_path / "judge_qa_2026-03-01T00-00-00.1.json").write_text(
        json.dumps({"model_name": "/m/a", "results": {"xquad_xllm_ar": {"judge_accuracy": 0.5}}})
    )
    judge = table(build_tables(collect([tmp_path]).scores, include_reported=False), "XQuAD: judge accuracy")
    assert [(r.label, r.values["ar"]) for r in judge.rows] == [("a", 0.5)]  # merged with /m/a's identity


def test_a_score_of_exactly_zero_is_a_number_not_a_missing_cell(tmp_path):
    """A judge accuracy or an xllm score of 0.0 is shown as 0.000 (not 'missing', as `0.0 or ...` made it)."""
    write_results(tmp_path / "a", "/m/a", {"xquad_xllm_ar": {"match": 0.1}}, "2026-01-01T00-00-00.1")
    (tmp_path / "a" / "judge_qa_2026-03-01T00-00-00.1.json").write_text(
        json.dumps({"model_name": "/m/a", "results": {"xquad_xllm_ar": {"judge_accuracy": 0.0}}})
    )
    (tmp_path / "a" / "xllm_scores_2026-03-01T00-00-00.2.json").write_text(
        json.dumps(
            {"model_name": "/m/a", "results": {"xquad_xllm_ar": {"f1": 0.0}}, "signatures": {}, "errors": {}}
        )
    )
    tables = build_tables(collect([tmp_path]).scores, include_reported=False)
    for title in ("XQuAD: judge accuracy", "XQuAD: F1"):
        row = table(tables, title).rows[0]
        assert row.values["ar"] == 0.0 and row.cells["ar"].missing is None


def test_the_table_scale_is_the_metrics_and_the_value_declares_its_own(tmp_path):
    """COMET declares its tables' scale (``Metric.table_scale`` 100); a value recorded on the 0-1 scale
    (``scale:1``, as older COMET runs wrote) is shown ×100, one without a declared scale as missing."""
    write_results(tmp_path / "a", "/m/a", {"flores_xllm_en-ar": {"chrf": 30.0}}, "2026-01-01T00-00-00.1")
    (tmp_path / "a" / "xllm_scores_2026-03-01T00-00-00.2.json").write_text(
        json.dumps(
            {
                "model_name": "/m/a",
                "results": {"flores_xllm_en-ar": {"comet": 0.71}, "flores_xllm_ar-en": {"comet": 0.8}},
                "signatures": {
                    "flores_xllm_en-ar": {"comet": "model:x|scale:1"},
                    "flores_xllm_ar-en": {"comet": "model:x|scale:lots"},
                },
            }
        )
    )
    tables = build_tables(collect([tmp_path]).scores, include_reported=False)
    comet = table(tables, "FLORES-101: COMET (x100)").rows[0]
    assert comet.values["en-ar"] == pytest.approx(71.0, abs=1e-9)
    assert comet.values["ar-en"] is None and "declares no scale" in comet.cells["ar-en"].missing
    chrf = table(tables, "FLORES-101: chrF++").rows[0]
    assert chrf.values["en-ar"] == pytest.approx(30.0, abs=1e-12)  # no table scale: shown as recorded
