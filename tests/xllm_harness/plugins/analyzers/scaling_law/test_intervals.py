"""Studentized law intervals, their draws in laws.json, and the leave-one-point-out error."""

from __future__ import annotations

import json

import numpy as np
import pytest

from xllm_harness.analysis.scaling import PowerLaw, read_law_draws
from xllm_harness.cli import main
from xllm_harness.plugins.analyzers.scaling_law.fit import FitSettings, fit_language, fit_law, loo_rmse

SIZES = np.array([1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6])
LAW = PowerLaw(300.0, -0.32, 0.55, "ar")


def test_loo_rmse_is_the_error_of_refits_without_each_point():
    rng = np.random.default_rng(4)
    s = LAW.score(SIZES) + rng.normal(0, 0.3, SIZES.size)
    errors = []
    for i in range(SIZES.size):  # the definition, one refit at a time with the general solver
        keep = np.arange(SIZES.size) != i
        alpha, beta, _ = fit_law(SIZES[keep], s[keep], LAW.gamma)
        errors.append(s[i] - PowerLaw(alpha, beta, LAW.gamma).score(SIZES[i]))
    assert loo_rmse(SIZES, s, LAW.gamma) == pytest.approx(
        float(np.sqrt(np.mean(np.square(errors)))), rel=1e-3
    )
    assert loo_rmse(SIZES, LAW.score(SIZES), LAW.gamma) == pytest.approx(0.0, abs=1e-6)
    assert loo_rmse(SIZES[:3], s[:3], LAW.gamma) is None  # 3 points: refits on 2 pass through them


def test_studentized_draws_give_the_interval_and_contain_the_law():
    rng = np.random.default_rng(5)
    s = LAW.score(SIZES) + rng.normal(0, 0.3, SIZES.size)
    entry = fit_language("ar", SIZES, s, LAW.gamma, FitSettings(bootstrap=400))
    assert entry["bootstrap"] == {"samples": 400, "method": "studentized"}
    draws = np.array(entry["draws"])
    assert (
        draws.shape == (400, 2) and np.all(draws[:, 0] > 0) and np.all((draws[:, 1] > -1) & (draws[:, 1] < 0))
    )
    lo, hi = np.quantile(draws[:, 1], [0.025, 0.975])
    # never narrower than the draws' percentiles (the draws are stored to 8 significant digits)
    assert entry["beta_ci"][0] <= lo + 1e-7 and hi - 1e-7 <= entry["beta_ci"][1]
    assert entry["beta_ci"][0] < LAW.beta < entry["beta_ci"][1]
    assert entry["alpha_ci"][0] < LAW.alpha < entry["alpha_ci"][1]
    assert entry["loo_rmse"] > entry["rmse"]


def test_laws_file_carries_draws_and_loo(tmp_path, capsys):
    rng = np.random.default_rng(6)
    points = tmp_path / "points.csv"
    rows = ["language,data_size,score"]
    for lang, law in {"ar": LAW, "hi": PowerLaw(900.0, -0.45, 0.4, "hi")}.items():
        rows += [f"{lang},{int(x)},{float(law.score(x)) + rng.normal(0, 0.3)}" for x in SIZES]
    points.write_text("\n".join(rows) + "\n")
    out = tmp_path / "out"
    args = ["analyze", "scaling_law", "--points", str(points), "--gamma", "ar=0.55", "--gamma", "hi=0.4"]
    assert main([*args, "--bootstrap", "200", "-o", str(out)]) == 0
    assert "LOO-RMSE=" in capsys.readouterr().out
    laws = json.loads((out / "laws.json").read_text())["laws"]
    assert all(len(entry["draws"]) == 200 and entry["loo_rmse"] > 0 for entry in laws.values())
    assert "loo_rmse" in (out / "laws.csv").read_text().splitlines()[0]
    draws = read_law_draws(out / "laws.json", ["ar", "hi"])
    assert len(draws["ar"]) == 200 and draws["hi"][0].gamma == 0.4
    assert main([*args, "--bootstrap", "0", "-o", str(out)]) == 0
    assert read_law_draws(out / "laws.json", ["ar", "hi"]) is None
