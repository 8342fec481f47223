"""``xllm analyze allocator`` carries the laws' bootstrap draws through the optimisation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from xllm_harness.analysis import allocation as alloc
from xllm_harness.analysis.scaling import PowerLaw
from xllm_harness.cli import main

SIZES = [1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6]
PLANTED = {"ar": (300.0, -0.32, 0.55), "hi": (900.0, -0.45, 0.40), "zh": (120.0, -0.18, 0.70)}


def fitted_laws(tmp_path, noise: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    rows = ["language,data_size,score"]
    for lang, (alpha, beta, gamma) in PLANTED.items():
        law = PowerLaw(alpha, beta, gamma)
        rows += [f"{lang},{int(x)},{float(law.score(x)) + rng.normal(0, noise)}" for x in SIZES]
    points = tmp_path / f"points_{noise}.csv"
    points.write_text("\n".join(rows) + "\n")
    out = tmp_path / f"laws_{noise}"
    gammas = [a for lang, (_, _, g) in PLANTED.items() for a in ("--gamma", f"{lang}={g}")]
    assert (
        main(
            ["analyze", "scaling_law", "--points", str(points), *gammas, "--bootstrap", "300", "-o", str(out)]
        )
        == 0
    )
    return out / "laws.json"


def allocate(tmp_path, laws, name: str):
    out = tmp_path / name
    availability = ["--availability", "ar=1M", "--availability", "hi=1M", "--availability", "zh=1M"]
    assert (
        main(["analyze", "allocator", "--laws", str(laws), "--budget", "300k", *availability, "-o", str(out)])
        == 0
    )
    return json.loads((out / "allocation_300000.json").read_text()), out


def test_allocation_file_has_intervals_that_shrink_with_the_noise(tmp_path, capsys):
    noisy, noisy_out = allocate(tmp_path, fitted_laws(tmp_path, 0.5), "noisy")
    printed = capsys.readouterr().out
    assert "95% interval" in printed and "gain over uniform" in printed
    quiet, _ = allocate(tmp_path, fitted_laws(tmp_path, 0.05), "quiet")
    for doc in (noisy, quiet):
        assert doc["intervals"]["draws"] == 300 and doc["intervals"]["level"] == 0.95
        lo, hi = doc["predicted_mean_ci"]
        assert lo <= doc["predicted_mean"] <= hi
        gain = doc["gain_over_uniform"]
        assert gain["ci"][0] <= gain["predicted"] <= gain["ci"][1] and 0 <= gain["positive_share"] <= 1
        for lang in doc["allocation"]:
            assert doc["predicted_ci"][lang][0] <= doc["predicted"][lang] <= doc["predicted_ci"][lang][1]
            low, high = doc["allocation_ci"][lang]
            assert 0 < low <= high < 300_000
    width = lambda doc: doc["predicted_mean_ci"][1] - doc["predicted_mean_ci"][0]  # noqa: E731
    assert width(quiet) < width(noisy) / 3  # noise 10x smaller: intervals about 10x narrower
    assert "optimal_lo" in (noisy_out / "allocator.csv").read_text().splitlines()[0]
    assert alloc.read_allocation(noisy_out / "allocation_300000.json") == noisy["allocation"]


def test_uncertainty_under_identical_draws_is_the_point():
    laws = {"a": PowerLaw(300, -0.3, 0.5, "a"), "b": PowerLaw(600, -0.4, 0.4, "b")}
    caps = {"a": 1e6, "b": 1e6}
    best = alloc.water_fill(laws, 1e5, caps)
    flat = alloc.uniform(laws, 1e5, caps)
    found = alloc.uncertainty({k: [law] * 5 for k, law in laws.items()}, 1e5, caps, best, flat)
    for lang in laws:
        assert found["allocation_ci"][lang] == pytest.approx([best[lang]] * 2, rel=1e-9)
    gain = alloc.mean_score(laws, best) - alloc.mean_score(laws, flat)
    assert gain > 0 and found["gain_over_uniform"]["ci"] == pytest.approx([gain, gain], rel=1e-9)
    assert found["gain_over_uniform"]["positive_share"] == 1.0


def test_laws_without_draws_warn_and_keep_the_point_allocation(tmp_path, capsys):
    laws = tmp_path / "laws.json"
    laws.write_text(json.dumps({"laws": {"ar": {"alpha": 300, "beta": -0.3, "gamma": 0.5}}}))
    assert (
        main(["analyze", "allocator", "--laws", str(laws), "--budget", "1k", "-o", str(tmp_path / "o")]) == 0
    )
    assert "no bootstrap draws" in capsys.readouterr().err
    doc = json.loads((tmp_path / "o" / "allocation_1000.json").read_text())
    assert doc["allocation"] == {"ar": 1000} and "allocation_ci" not in doc
