"""Scaling-law fitting (paper eq. 2): planted-parameter recovery, bootstrap, inverse prediction, inputs."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from xllm_harness.cli import main
from xllm_harness.plugins.analyzers.scaling_law import fit_law, profile_fit, read_points
from xllm_harness.scaling import PowerLaw, read_laws

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


@pytest.mark.parametrize(
    ("alpha", "beta", "gamma"), [(300, -0.32, 0.55), (5000, -0.85, 0.2), (40, -0.05, 0.9)]
)
def test_exact_points_give_exact_parameters(alpha, beta, gamma):
    x = np.array(SIZES)
    s = PowerLaw(alpha, beta, gamma).score(x)
    a, b, _ = fit_law(x, s, gamma)
    assert a == pytest.approx(alpha, rel=1e-5)
    assert b == pytest.approx(beta, abs=1e-6)


def test_vectorised_profile_fit_matches_least_squares():
    rng = np.random.default_rng(3)
    x = np.array(SIZES)
    law = PowerLaw(*PLANTED["ar"])
    sets = law.score(x) + rng.normal(0, 1.0, size=(20, len(x)))
    alphas, betas = profile_fit(x, sets, law.gamma)
    for s, a, b in zip(sets, alphas, betas, strict=True):
        a_ls, b_ls, _ = fit_law(x, s, law.gamma)
        assert b == pytest.approx(b_ls, abs=1e-5)
        assert a == pytest.approx(a_ls, rel=1e-4)


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
        ("language,data_size,score\nar,1e4,80\nar,1e5,85\n", [], "need at least 3 points"),
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
    rc = main(
        [
            "analyze",
            "scaling_law",
            "--points",
            str(points),
            "--gamma",
            "0.5",
            *extra,
            "-o",
            str(tmp_path / "o"),
        ]
    )
    assert rc == 2
    err = capsys.readouterr().err
    assert message in err


@pytest.mark.slow
def test_points_from_real_lm_eval_results(tiny_model, samples_dir, tmp_path, monkeypatch, capsys):
    """A points file that names an lm-eval output folder reads the metric from its results JSON."""
    monkeypatch.setenv("XLLM_DATA_DIR", str(samples_dir))
    run = tmp_path / "runs" / "size_10k"
    args = ["eval", "--model_args", f"pretrained={tiny_model},dtype=float32", "--device", "cpu"]
    args += [
        "--tasks",
        "xquad_xllm_en",
        "--limit",
        "2",
        "--gen_kwargs",
        "max_gen_toks=4",
        "--output_path",
        str(run),
    ]
    assert main(args) == 0
    capsys.readouterr()
    results = json.loads(next(run.rglob("results_*.json")).read_text())["results"]["xquad_xllm_en"]
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
    points.write_text("language,data_size,results,metric\nen,10k,runs/size_10k,comet\n")
    with pytest.raises(ValueError, match="metric 'comet' not among xquad_xllm_en's results"):
        read_points(points)
    points.write_text("language,data_size,results,metric\nen,10k,runs/missing,f1\n")
    with pytest.raises(FileNotFoundError, match="row 2: lm-eval results"):
        read_points(points)


def test_points_the_law_cannot_describe_are_flagged(tmp_path, capsys):
    points = tmp_path / "points.csv"  # scores fall as data grows: no increasing law fits
    points.write_text("language,data_size,score\nar,1e4,90\nar,1e5,85\nar,1e6,80\n")
    out = tmp_path / "out"
    assert (
        main(
            [
                "analyze",
                "scaling_law",
                "--points",
                str(points),
                "--gamma",
                "0.5",
                "--bootstrap",
                "0",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    assert "ended on a bound" in capsys.readouterr().err
    assert json.loads((out / "laws.json").read_text())["laws"]["ar"]["at_bound"] is True
