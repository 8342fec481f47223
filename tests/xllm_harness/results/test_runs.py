"""Runs stay apart: lm-eval writes every run of a model into one folder, and each samples file belongs to
the results file of its timestamp. ``xllm score`` scores each run on its own, the leaderboard shows each
run's numbers in its own row (and says when a newer run over fewer items replaces an older one), and an
interval that cannot be computed leaves only that interval missing."""

from __future__ import annotations

import csv
import io
import json

import pytest
import sacrebleu

from tests.xllm_harness.commands.test_bad_input import xllm
from tests.xllm_harness.commands.test_bad_input_results import LATER, STAMP, TARGETS, TASK, line, write_run
from xllm_harness.results.lm_eval import choose_run, runs_in

# two runs' outputs of the same five documents: the float16 run drops the last character of each
FULL = TARGETS
CUT = [t[:-1] for t in TARGETS]


@pytest.fixture
def env(subprocess_env, tmp_path) -> dict[str, str]:
    return {**subprocess_env, "XLLM_CACHE_DIR": str(tmp_path / "cache")}


def chrf_pp(hypotheses: list[str]) -> float:
    """chrF++ as sacrebleu computes it (the oracle: no code of ours)."""
    return sacrebleu.CHRF(word_order=2).corpus_score(hypotheses, [TARGETS[: len(hypotheses)]]).score


def two_runs(
    folder, older_args="pretrained=/m/tiny,dtype=float32", newer_args="pretrained=/m/tiny,dtype=float16"
):
    write_run(folder, [line(i, FULL[i]) for i in range(5)], STAMP, model_args=older_args)
    write_run(folder, [line(i, CUT[i]) for i in range(5)], LATER, model_args=newer_args)
    return folder


def test_samples_files_belong_to_the_results_file_of_their_timestamp(tmp_path):
    folder = two_runs(tmp_path / "m")
    older, newer = runs_in(folder)
    assert (older.timestamp, newer.timestamp) == (STAMP, LATER)
    assert older.results.name == f"results_{STAMP}.json" and older.samples[TASK].name.endswith(
        f"{STAMP}.jsonl"
    )
    assert newer.results.name == f"results_{LATER}.json" and newer.samples[TASK].name.endswith(
        f"{LATER}.jsonl"
    )
    assert choose_run(folder, LATER, "--run-a", "A") == newer
    assert choose_run(folder / f"results_{STAMP}.json", None, "--run-a", "A") == older


def test_score_and_leaderboard_keep_two_runs_of_one_model_apart(tmp_path, env):
    folder = two_runs(tmp_path / "m")
    done = xllm(["score", str(folder), "--metrics", "chrf"], tmp_path, env)
    assert done.returncode == 0, done.stderr
    files = sorted(folder.glob("xllm_scores_*.json"))
    assert len(files) == 2  # one per run
    by_run = {json.loads(p.read_text())["run"]: json.loads(p.read_text()) for p in files}
    assert by_run[STAMP]["samples_files"][TASK].endswith(f"{STAMP}.jsonl")
    assert by_run[STAMP]["source_results"].endswith(f"results_{STAMP}.json")
    assert by_run[LATER]["samples_files"][TASK].endswith(f"{LATER}.jsonl")
    assert by_run[STAMP]["results"][TASK]["chrf"] == pytest.approx(chrf_pp(FULL), abs=1e-9)
    assert by_run[LATER]["results"][TASK]["chrf"] == pytest.approx(chrf_pp(CUT), abs=1e-9)

    board = xllm(["leaderboard", str(folder), "--no-reported", "-o", str(tmp_path / "board")], tmp_path, env)
    assert board.returncode == 0, board.stderr
    rows = list(csv.DictReader(io.StringIO((tmp_path / "board" / "leaderboard.csv").read_text())))
    chrf = {r["model"]: float(r["value"]) for r in rows if r["metric"] == "chrf" and r["column"] == "en-zh"}
    assert chrf == {
        "tiny (dtype=float16)": pytest.approx(chrf_pp(CUT), abs=5e-4),
        "tiny (dtype=float32)": pytest.approx(chrf_pp(FULL), abs=5e-4),
    }


def test_two_runs_with_other_few_shot_counts_are_two_rows(tmp_path, env):
    """Same model and model_args, the newer run with ``--num_fewshot 5``: two rows, each with its own
    run's number (was: the newer replaced the older in one row)."""
    folder = two_runs(tmp_path / "m", newer_args="pretrained=/m/tiny,dtype=float32")
    results = json.loads((folder / f"results_{LATER}.json").read_text())
    results["config"]["num_fewshot"] = 5
    (folder / f"results_{LATER}.json").write_text(json.dumps(results))
    assert xllm(["score", str(folder), "--metrics", "chrf"], tmp_path, env).returncode == 0
    scores = {
        json.loads(p.read_text())["run"]: json.loads(p.read_text()) for p in folder.glob("xllm_scores_*")
    }
    assert scores[LATER]["model_identity"]["settings"] == "num_fewshot=5"
    assert "settings" not in scores[STAMP]["model_identity"]
    for older_writer in (False, True):  # True: a scores file written before identities had settings
        if older_writer:
            for path in folder.glob("xllm_scores_*"):
                data = json.loads(path.read_text())
                data["model_identity"].pop("settings", None)
                path.write_text(json.dumps(data))
        out = tmp_path / f"board-{older_writer}"
        board = xllm(["leaderboard", str(folder), "--no-reported", "-o", str(out)], tmp_path, env)
        assert board.returncode == 0, board.stderr
        rows = list(csv.DictReader(io.StringIO((out / "leaderboard.csv").read_text())))
        chrf = {
            r["model"]: float(r["value"]) for r in rows if r["metric"] == "chrf" and r["column"] == "en-zh"
        }
        assert chrf == {
            "tiny (num_fewshot=)": pytest.approx(chrf_pp(FULL), abs=5e-4),
            "tiny (num_fewshot=5)": pytest.approx(chrf_pp(CUT), abs=5e-4),
        }


def test_a_newer_run_over_fewer_items_replacing_an_older_one_is_said(tmp_path, env):
    folder = tmp_path / "m"
    write_run(folder, [line(i, FULL[i]) for i in range(5)], STAMP)
    write_run(folder, [line(i, FULL[i]) for i in range(2)], LATER)  # a later --limit 2 run
    assert xllm(["score", str(folder), "--metrics", "chrf"], tmp_path, env).returncode == 0
    board = xllm(["leaderboard", str(folder), "--no-reported", "--no-intervals"], tmp_path, env)
    assert board.returncode == 0, board.stderr
    note = next(line for line in board.stdout.splitlines() if "fewer items" in line)
    assert "has 2 items" in note and "over 5 items" in note, note


def test_an_interval_that_cannot_be_computed_leaves_only_that_interval_missing(tmp_path, env):
    """Scored whole, then the run's samples file of one task is cut short: that number stands (it was
    computed on every document), its interval cannot be computed; the board is still written."""
    folder = tmp_path / "m"
    write_run(folder, [line(i, FULL[i]) for i in range(5)], STAMP)
    other = "flores_xllm_en-ar"
    arabic = [{**line(i, FULL[i]), "doc": {**line(i)["doc"], "tgt_lang": "ar"}} for i in range(5)]
    write_run(folder, arabic, STAMP, task=other)
    results = json.loads((folder / f"results_{STAMP}.json").read_text())
    results["n-samples"][TASK] = {"original": 1012, "effective": 5}
    results["results"][TASK] = {"alias": TASK}
    (folder / f"results_{STAMP}.json").write_text(json.dumps(results))
    assert xllm(["score", str(folder), "--metrics", "chrf"], tmp_path, env).returncode == 0
    samples = folder / f"samples_{TASK}_{STAMP}.jsonl"
    samples.write_text("".join(samples.read_text().splitlines(keepends=True)[:3]))
    board = xllm(["leaderboard", str(folder), "--no-reported", "-o", str(tmp_path / "board")], tmp_path, env)
    assert board.returncode == 0, board.stderr
    rows = list(csv.DictReader(io.StringIO((tmp_path / "board" / "leaderboard.csv").read_text())))
    chrf = {r["column"]: r for r in rows if r["metric"] == "chrf"}
    assert float(chrf["en-zh"]["value"]) == pytest.approx(chrf_pp(FULL), abs=5e-4)
    assert chrf["en-zh"]["ci_low"] == "" and chrf["en-ar"]["ci_low"] != ""
    note = next(line for line in board.stdout.splitlines() if "no interval for tiny en-zh" in line)
    assert "incomplete: 3 documents" in note, note


def test_runs_of_one_configuration_group_together_and_other_configurations_stay_apart(tmp_path):
    """lm-eval run task by task with one configuration is one model's set of samples; a run with other
    model_args is another (``xllm consistency`` reads each group on its own)."""
    from xllm_harness.results.lm_eval import run_groups

    folder = tmp_path / "m"
    write_run(folder, [line(i) for i in range(5)], STAMP)
    arabic = [{**line(i), "doc": {**line(i)["doc"], "tgt_lang": "ar"}} for i in range(5)]
    write_run(folder, arabic, LATER, task="flores_xllm_en-ar")
    other = "2026-01-03T00-00-00.000000"
    write_run(folder, [line(i) for i in range(5)], other, model_args="pretrained=/m/tiny,dtype=float16")
    groups = run_groups(folder)
    assert [sorted(g.samples) for g in groups] == [["flores_xllm_en-ar", TASK], [TASK]]
    assert [g.identity.model_args for g in groups] == [
        "pretrained=/m/tiny",
        "pretrained=/m/tiny,dtype=float16",
    ]
    assert groups[1].samples[TASK].name == f"samples_{TASK}_{other}.jsonl"
