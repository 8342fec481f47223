"""``xllm score``: failed metrics recorded with their reason and said on screen; a metric that was missing
from the lm-eval run is added to the same folder and the leaderboard shows it."""

from __future__ import annotations

import json
from pathlib import Path

from xllm_harness.cli import main
from xllm_harness.leaderboard import build_tables, collect

STAMP = "2026-01-01T00-00-00.000001"


def flores_run(folder: Path) -> Path:
    """An lm-eval run whose spBLEU was recorded as missing (its SentencePiece model was absent)."""
    folder.mkdir(parents=True)
    docs = [
        {
            "source": "The cat sat on the mat.",
            "target": "Le chat était assis sur le tapis.",
            "src_lang": "en",
            "tgt_lang": "zh",
        },
        {
            "source": "It rained all day.",
            "target": "Il a plu toute la journée.",
            "src_lang": "en",
            "tgt_lang": "zh",
        },
    ]
    lines = [{"doc_id": i, "doc": d, "filtered_resps": [d["target"][:-3]]} for i, d in enumerate(docs)]
    (folder / f"samples_flores_xllm_en-zh_{STAMP}.jsonl").write_text(
        "".join(json.dumps(x) + "\n" for x in lines)
    )
    results = {
        "flores_xllm_en-zh": {"chrf,none": 50.0, "spbleu_signature,none": "missing: no SentencePiece model"}
    }
    config = {"model": "hf", "model_args": "pretrained=/m/tiny"}
    (folder / f"results_{STAMP}.json").write_text(json.dumps({"results": results, "config": config}))
    return folder


def spbleu_cell(root: Path):
    (table,) = [t for t in build_tables(collect([root]).scores) if t.title == "FLORES-101: spBLEU"]
    return next(r for r in table.rows if r.label == "tiny").cells["en-zh"]


def test_failed_metric_is_an_error_on_screen_and_in_the_file(tmp_path, capsys):
    folder = flores_run(tmp_path / "out" / "m")
    code = main(
        [
            "score",
            str(tmp_path / "out"),
            "--metrics",
            "chrf,comet",
            "--comet-model",
            str(tmp_path / "nowhere"),
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert "comet not scored (flores_xllm_en-zh)" in captured.err and "nowhere" in captured.err
    (written,) = folder.glob("xllm_scores_*.json")
    out = json.loads(written.read_text())
    assert (
        "nowhere" in out["errors"]["flores_xllm_en-zh"]["comet"]
        and "chrf" in out["results"]["flores_xllm_en-zh"]
    )


def test_score_fills_in_a_missing_metric_for_the_leaderboard(tmp_path, use_sacrebleu_home, capsys):
    flores_run(tmp_path / "out" / "m")
    before = spbleu_cell(tmp_path / "out")
    assert before.value is None and before.missing == "no SentencePiece model"
    assert main(["score", str(tmp_path / "out"), "--metrics", "spbleu"]) == 0
    after = spbleu_cell(tmp_path / "out")
    assert after.value is not None and after.value > 0 and after.source.endswith(".json")
    assert "xllm_scores_" in after.source and after.stats is not None
    capsys.readouterr()
    assert main(["leaderboard", str(tmp_path / "out"), "--no-reported"]) == 0
    out = capsys.readouterr().out
    assert "### FLORES-101: spBLEU" in out and f"| tiny | {after.value:.2f} |" in out


def test_a_default_metric_that_cannot_run_is_a_note_not_a_failure(tmp_path, capsys):
    # offline, the default COMET model (Unbabel/wmt22-comet-da) is not in the cache
    flores_run(tmp_path / "out" / "m")
    code = main(["score", str(tmp_path / "out"), "--tasks", "flores_xllm_en-zh"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "xllm score: note: comet not scored (flores_xllm_en-zh)" in err and "error:" not in err
