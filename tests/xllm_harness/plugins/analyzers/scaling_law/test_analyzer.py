"""``xllm analyze scaling_law``: planted-parameter recovery, bootstrap, inverse prediction, bad input."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from xllm_harness.analysis.scaling import PowerLaw, read_laws
from xllm_harness.cli import main

PLANTED = {  # language: (alpha, beta, gamma)
    "ar": (300.0, -0.32, 0.55),
    "hi": (900.0, -0.45, 0.40),
    "zh": (120.0, -0.18, 0.70),
}
SIZES = [5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6]


def write_points(path, noise: float, seed: int = 0, replicates: int = 3):
    rng = np.random.default_rng(seed)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["language", "data_size", "score"])
        for lang, (alpha, beta, gamma) in PLANTED.items():
            law = PowerLaw(alpha, beta, gamma)
            for x in SIZES:
                for _ in range(replicates):
                    writer.writerow([lang, int(x), float(law.score(x)) + rng.normal(0, noise)])
    return path


def gamma_args():
    return [arg for lang, (_, _, g) in PLANTED.items() for arg in ("--gamma", f"{lang}={g}")]


def scaling_law(points, out, *extra):
    return main(["analyze", "scaling_law", "--points", str(points), "--gamma", "0.5", *extra, "-o", str(out)])


def test_recovers_planted_parameters_from_noisy_points(tmp_path):
    points = write_points(tmp_path / "points.csv", noise=0.3)
    out = tmp_path / "out"
    targets = ["--target", "hi=85", "--target", "90"]
    rc = main(
        [
            "analyze",
            "scaling_law",
            "--points",
            str(points),
            *gamma_args(),
            *targets,
            "--bootstrap",
            "500",
            "-o",
            str(out),
        ]
    )
    assert rc == 0
    laws = json.loads((out / "laws.json").read_text())["laws"]
    for lang, (alpha, beta, gamma) in PLANTED.items():
        fit = laws[lang]
        assert fit["gamma"] == gamma
        assert fit["beta"] == pytest.approx(beta, abs=0.02)
        assert fit["alpha"] == pytest.approx(alpha, rel=0.2)
        assert fit["alpha_ci"][0] <= alpha <= fit["alpha_ci"][1]
        assert fit["beta_ci"][0] <= beta <= fit["beta_ci"][1]
        assert fit["beta_ci"][1] - fit["beta_ci"][0] < 0.1
        assert fit["r2"] > 0.99 and fit["rmse"] < 0.5
        assert fit["n_points"] == len(SIZES) * 3
    # inverse prediction: data for COMET 85 in Hindi; per-language target beats the default (90)
    target = laws["hi"]["target"]
    assert target["score"] == 85
    fitted = PowerLaw(laws["hi"]["alpha"], laws["hi"]["beta"], laws["hi"]["gamma"])
    assert float(fitted.score(target["data_size"])) == pytest.approx(85, abs=1e-9)
    truth = PowerLaw(*PLANTED["hi"]).data_for(85)
    assert target["data_size"] == pytest.approx(truth, rel=0.2)
    assert target["data_size_ci"][0] <= truth <= target["data_size_ci"][1]
    assert laws["ar"]["target"]["score"] == 90
    # the laws file feeds the allocator
    assert set(read_laws(out / "laws.json")) == set(PLANTED)
    rows = list(csv.DictReader((out / "laws.csv").open()))
    assert [r["language"] for r in rows] == sorted(PLANTED)
    assert (out / "scaling_law.png").read_bytes()[:4] == b"\x89PNG"


def test_gamma_from_a_similarity_file(tmp_path):
    points = write_points(tmp_path / "points.csv", noise=0.0, replicates=1)
    similarity = tmp_path / "similarity.json"
    similarity.write_text(json.dumps({"gamma": {lang: g for lang, (_, _, g) in PLANTED.items()}}))
    out = tmp_path / "out"
    args = ["analyze", "scaling_law", "--points", str(points), "--gamma", str(similarity), "--bootstrap", "0"]
    assert main([*args, "-o", str(out)]) == 0
    laws = read_laws(out / "laws.json")
    for lang, (alpha, beta, gamma) in PLANTED.items():
        assert laws[lang].gamma == gamma
        assert laws[lang].alpha == pytest.approx(alpha, rel=1e-4)
        assert laws[lang].beta == pytest.approx(beta, abs=1e-6)


def test_pairs_bootstrap_and_json_points(tmp_path):
    rng = np.random.default_rng(1)
    law = PowerLaw(*PLANTED["zh"])
    rows = [
        {"language": "zh", "data_size": f"{x / 1e3:g}k", "score": float(law.score(x)) + rng.normal(0, 0.2)}
        for x in SIZES
    ]
    points = tmp_path / "points.json"
    points.write_text(json.dumps({"points": rows}))
    out = tmp_path / "out"
    args = [
        "analyze",
        "scaling_law",
        "--points",
        str(points),
        "--gamma",
        "0.7",
        "--bootstrap-method",
        "pairs",
    ]
    assert main([*args, "--bootstrap", "200", "-o", str(out)]) == 0
    fit = json.loads((out / "laws.json").read_text())["laws"]["zh"]
    assert fit["bootstrap"]["method"] == "pairs" and 150 <= fit["bootstrap"]["samples"] <= 200
    assert fit["beta_ci"][0] <= PLANTED["zh"][1] <= fit["beta_ci"][1]


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        ("language,data_size\nar,1000\n", [], "row 2: give either 'score' or 'results'"),
        ("language,data_size,score\nar,-5,80\n", [], "row 2: data_size must be a positive number"),
        ("language,data_size,score\nar,1e4,x\n", [], "row 2: score 'x' is not a number"),
        (
            "language,data_size,score\nar,1e4,80\nar,1e4,85\nar,1e4,82\n",
            [],
            "need points at 2 or more data sizes",
        ),
        (
            "language,data_size,score\nar,1e4,80\nar,1e5,85\nar,1e6,90\n",
            ["--target", "arx=90"],
            "did you mean 'ar'",
        ),
        (
            "language,data_size,score\nar,1e4,80\nar,1e5,85\nar,1e6,90\n",
            ["--confidence", "1"],
            "--confidence",
        ),
        (
            "language,data_size,score\nar,1e4,80\nar,1e5,85\nar,1e6,90\n",
            ["--target", "ar=100"],
            "unreachable",
        ),
        (
            "language,data_size,score\nar,1e4,80\nar,1e5,85\nar,1e6,90\n",
            ["--gamma", "ar=1.5"],
            "must lie in (0, 1)",
        ),
    ],
)
def test_bad_points_give_clear_errors(tmp_path, capsys, content, extra, message):
    points = tmp_path / "points.csv"
    points.write_text(content)
    rc = scaling_law(points, tmp_path / "o", *extra)
    assert rc == 2
    err = capsys.readouterr().err
    assert message in err


def test_points_the_law_cannot_describe_are_flagged(tmp_path, capsys):
    points = tmp_path / "points.csv"  # scores fall as data grows: no increasing law fits
    points.write_text("language,data_size,score\nar,1e4,90\nar,1e5,85\nar,1e6,80\n")
    out = tmp_path / "out"
    assert scaling_law(points, out, "--bootstrap", "0") == 0
    assert "ended on a bound" in capsys.readouterr().err
    assert json.loads((out / "laws.json").read_text())["laws"]["ar"]["at_bound"] is True


def test_scores_above_100_are_refused_naming_the_row(tmp_path, capsys):
    """The reported case: scores of 170–176 used to fit alpha=1e-12, R2=-864 with exit 0."""
    points = tmp_path / "points.csv"
    points.write_text("language,data_size,score\nar,1e4,170\nar,1e5,173\nar,1e6,176\n")
    assert scaling_law(points, tmp_path / "out") == 2
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [err]  # one line, no traceback
    assert f"{points} row 2: score 170 lies outside [0, 100]" in err and "--score-scale" in err
    assert not (tmp_path / "out" / "laws.json").exists()


def test_score_scale_that_overshoots_is_named(tmp_path, capsys):
    points = tmp_path / "points.csv"
    points.write_text("language,data_size,score\nar,1e4,80\nar,1e5,85\nar,1e6,90\n")
    assert scaling_law(points, tmp_path / "out", "--score-scale", "100") == 2
    assert "row 2: score 8000 (= 80 × --score-scale 100) lies outside" in capsys.readouterr().err


def test_fewer_than_three_points_is_a_warning(tmp_path, capsys):
    points = tmp_path / "points.csv"
    points.write_text("language,data_size,score\nar,1e4,80\nar,1e6,90\n")
    out = tmp_path / "out"
    assert scaling_law(points, out) == 0
    assert "warning: ar: only 2 points" in capsys.readouterr().err
    law = json.loads((out / "laws.json").read_text())["laws"]["ar"]
    assert law["n_points"] == 2 and law["bad_fit"] is False
    assert any("only 2 points" in w for w in law["warnings"]) and "beta_ci" not in law


def test_negative_r2_is_flagged_in_the_json_and_on_screen(tmp_path, capsys):
    points = tmp_path / "points.csv"  # falling scores: any increasing law is worse than their mean
    points.write_text(
        "language,data_size,score\nar,1e4,90\nar,1e5,85\nar,1e6,80\nzh,1e4,70\nzh,1e5,80\nzh,1e6,85\n"
    )
    out = tmp_path / "out"
    assert scaling_law(points, out, "--bootstrap", "0") == 0
    captured = capsys.readouterr()
    laws = json.loads((out / "laws.json").read_text())["laws"]
    assert laws["ar"]["r2"] < 0 and laws["ar"]["bad_fit"] is True
    assert laws["zh"]["bad_fit"] is False and laws["zh"]["warnings"] == []
    screen = {line.split(":")[0]: line for line in captured.out.splitlines()}
    assert "BAD FIT" in screen["ar"] and "BAD FIT" not in screen["zh"]
    assert "warning: ar: R2=" in captured.err and "< 0" in captured.err
    rows = {r["language"]: r for r in csv.DictReader((out / "laws.csv").open())}
    assert rows["ar"]["bad_fit"] == "True" and rows["zh"]["bad_fit"] == "False"
