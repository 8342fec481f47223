"""Reading scaling-law points: scores, their range, and lm-eval output folders through the one reader."""

from __future__ import annotations

import json

import pytest

from xllm_harness.cli import main
from xllm_harness.errors import InputError
from xllm_harness.plugins.analyzers.scaling_law.inputs import read_points


@pytest.mark.parametrize(
    ("name", "content", "row"),
    [
        ("p.csv", "language,data_size,score\nar,1e4,80\nar,1e5,170\n", "row 3"),
        ("p.json", json.dumps([{"language": "ar", "data_size": 1e4, "score": -2}]), "row 1"),
        (
            "p.jsonl",
            '{"language": "ar", "data_size": 1e4, "score": 80}\n\n{"language": "ar", '
            '"data_size": 1e5, "score": 101}\n',
            "row 3",
        ),
    ],
)
def test_scores_outside_the_law_range_name_the_row(tmp_path, name, content, row):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(InputError, match=rf"{path} {row}: score .* lies outside \[0, 100\]"):
        read_points(path)


def test_score_scale_is_applied_before_the_range_check(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("language,data_size,score,metric\nar,1e4,0.8,comet\nar,1e5,0.85,comet\n")
    points = read_points(path, score_scale=100)
    assert [p.score for p in points] == [80.0, 85.0] and points[0].metric == "comet"
    path.write_text("language,data_size,score\nar,1e4,80\n")
    with pytest.raises(InputError, match=r"row 2: score 8000 \(= 80 × --score-scale 100\)"):
        read_points(path, score_scale=100)


@pytest.mark.slow
def test_points_from_real_lm_eval_results(tiny_model, samples_dir, tmp_path, monkeypatch, capsys):
    """A points row naming an lm-eval output folder reads its newest results file (by the name's timestamp)."""
    monkeypatch.setenv("XLLM_DATA_DIR", str(samples_dir))
    run = tmp_path / "runs" / "size_10k"
    args = ["eval", "--model_args", f"pretrained={tiny_model},dtype=float32", "--device", "cpu"]
    args += ["--tasks", "xquad_xllm_en", "--limit", "2", "--gen_kwargs", "max_gen_toks=4"]
    assert main([*args, "--output_path", str(run)]) == 0
    capsys.readouterr()
    written = next(run.rglob("results_*.json"))
    results = json.loads(written.read_text())["results"]["xquad_xllm_en"]
    # an older run (earlier timestamp in its name) written later must not win
    older = json.loads(written.read_text())
    older["results"]["xquad_xllm_en"]["f1,none"] = 99.0
    (written.parent / "results_2000-01-01T00-00-00.000000.json").write_text(json.dumps(older))
    points = tmp_path / "points.csv"
    points.write_text(
        "language,data_size,score,results,task,metric\n"
        "en,10k,,runs/size_10k,,f1\n"
        "en,20k,,runs/size_10k,xquad_xllm_en,match\n"
        "en,40k,55,,,\n"
    )
    read = read_points(points)
    assert [p.score for p in read] == [results["f1,none"], results["match,none"], 55]
    assert [p.data_size for p in read] == [10_000, 20_000, 40_000]
    assert [p.metric for p in read] == ["f1", "match", ""]
    points.write_text("language,data_size,results,metric\nen,10k,runs/size_10k,comet\n")
    with pytest.raises(ValueError, match="metric 'comet' not among xquad_xllm_en's results"):
        read_points(points)
    points.write_text("language,data_size,results,task,metric\nen,10k,runs/size_10k,xquad_xllm_e,f1\n")
    with pytest.raises(ValueError, match="did you mean 'xquad_xllm_en'"):
        read_points(points)
    points.write_text("language,data_size,results,metric\nen,10k,runs/missing,f1\n")
    with pytest.raises(FileNotFoundError, match="row 2: lm-eval results"):
        read_points(points)
