"""The budgeted allocator: exact water-filling, agreement with SLSQP, Table-4 output, allocation file."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from xllm_harness.analysis import allocation as alloc
from xllm_harness.analysis.scaling import PowerLaw
from xllm_harness.cli import main


@pytest.mark.parametrize(
    ("n", "seed", "fill"), [(6, 0, 0.1), (6, 1, 0.6), (50, 2, 0.3), (50, 3, 0.9), (200, 4, 0.5)]
)
def test_water_fill_satisfies_kkt(n, seed, fill):
    laws, caps, budget = alloc.random_instance(n, seed, fill)
    x = alloc.water_fill(laws, budget, caps)
    values = np.array(list(x.values()))
    cap = np.array([caps[k] for k in x])
    assert values.sum() == pytest.approx(budget, rel=1e-12)
    assert np.all(values > 0) and np.all(values <= cap)
    grads = np.array([float(laws[k].derivative(v)) for k, v in x.items()])
    free = values < cap * (1 - 1e-12)
    capped = ~free
    assert free.any() and capped.any(), "instance should exercise both cases"
    lam = np.median(grads[free])
    np.testing.assert_allclose(grads[free], lam, rtol=1e-9)  # equal marginal gains
    assert np.all(grads[capped] >= lam * (1 - 1e-9))  # capped languages would still gain more


@pytest.mark.parametrize(("n", "seed"), [(6, 10), (6, 11), (20, 12), (50, 13)])
def test_agrees_with_slsqp(n, seed):
    laws, caps, budget = alloc.random_instance(n, seed)
    exact = alloc.water_fill(laws, budget, caps)
    general = alloc.scipy_reference(laws, budget, caps)
    diff = max(abs(exact[k] - general[k]) for k in exact) / budget
    assert diff <= 1e-6
    f_exact, f_general = alloc.mean_score(laws, exact), alloc.mean_score(laws, general)
    assert abs(f_exact - f_general) <= 1e-6 * abs(f_general)
    assert f_exact >= f_general - 1e-9  # the exact solution is never worse


@pytest.mark.slow
def test_agrees_with_slsqp_200_languages():
    laws, caps, budget = alloc.random_instance(200, 99)
    exact = alloc.water_fill(laws, budget, caps)
    general = alloc.scipy_reference(laws, budget, caps)
    assert max(abs(exact[k] - general[k]) for k in exact) / budget <= 1e-6
    assert alloc.mean_score(laws, exact) >= alloc.mean_score(laws, general) - 1e-9


def test_unlimited_availability_and_full_budget():
    laws = {"a": PowerLaw(300, -0.3, 0.5, "a"), "b": PowerLaw(600, -0.4, 0.4, "b")}
    x = alloc.water_fill(laws, 1e5, {"a": math.inf, "b": math.inf})
    assert sum(x.values()) == pytest.approx(1e5, rel=1e-12)
    assert laws["a"].derivative(x["a"]) == pytest.approx(laws["b"].derivative(x["b"]), rel=1e-9)
    # budget equal to the total availability: everything is used
    assert alloc.water_fill(laws, 3e4, {"a": 1e4, "b": 2e4}) == {"a": 1e4, "b": 2e4}


def test_uniform_redistributes_capped_share():
    laws = {k: PowerLaw(300, -0.3, 0.5, k) for k in "abc"}
    shares = alloc.uniform(laws, 90, {"a": 10, "b": 100, "c": 100})
    assert shares == {"a": 10, "b": 40, "c": 40}


def test_counts_are_whole_sum_to_budget_and_respect_caps():
    counts = alloc.to_counts({"a": 10.6, "b": 20.3, "c": 5.1}, 36, {"a": 10, "b": 100, "c": 100})
    assert sum(counts.values()) == 36 and counts["a"] <= 10
    assert all(isinstance(v, int) for v in counts.values())


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"alpha": 300, "beta": -1.2, "gamma": 0.5}, "beta must lie in (-1, 0)"),
        ({"alpha": -3, "beta": -0.3, "gamma": 0.5}, "alpha must be > 0"),
        ({"alpha": 300, "beta": -0.3, "gamma": 1.5}, "gamma must lie in (0, 1)"),
        ({"alpha": 300, "beta": -0.3}, "lacks gamma"),
    ],
)
def test_invalid_laws_are_rejected(tmp_path, capsys, spec, message):
    laws = tmp_path / "laws.json"
    laws.write_text(json.dumps({"laws": {"ar": {"alpha": 300, "beta": -0.3, "gamma": 0.5}, "hi": spec}}))
    rc = main(["analyze", "allocator", "--laws", str(laws), "--budget", "300k", "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err and "'hi'" in err and str(laws) in err


def test_infeasible_budget_and_missing_availability(tmp_path, capsys):
    laws = tmp_path / "laws.json"
    laws.write_text(json.dumps({"laws": {"hi": {"alpha": 300, "beta": -0.3, "gamma": 0.5}}}))
    out = str(tmp_path / "out")
    assert main(["analyze", "allocator", "--laws", str(laws), "--budget", "300k", "-o", out]) == 2
    err = capsys.readouterr().err
    assert "infeasible budget 300,000" in err and "234,300" in err
    laws.write_text(json.dumps({"laws": {"sw": {"alpha": 300, "beta": -0.3, "gamma": 0.5}}}))
    assert main(["analyze", "allocator", "--laws", str(laws), "--budget", "1k", "-o", out]) == 2
    assert "--availability sw=N" in capsys.readouterr().err
    assert (
        main(
            [
                "analyze",
                "allocator",
                "--laws",
                str(laws),
                "--budget",
                "1k",
                "--availability",
                "sw=0",
                "-o",
                out,
            ]
        )
        == 2
    )
    assert "not positive" in capsys.readouterr().err
    assert (
        main(
            [
                "analyze",
                "allocator",
                "--laws",
                str(laws),
                "--budget",
                "-5",
                "--availability",
                "sw=inf",
                "-o",
                out,
            ]
        )
        == 2
    )
    assert "budget must be a positive" in capsys.readouterr().err


def test_table4_output_and_allocation_file(tmp_path, capsys):
    # Hindi needs much more data than the others under these laws, but only 234.3k is available (Table 1)
    laws = {
        "ar": {"alpha": 300.0, "beta": -0.32, "gamma": 0.55},
        "el": {"alpha": 250.0, "beta": -0.30, "gamma": 0.62},
        "hi": {"alpha": 1200.0, "beta": -0.42, "gamma": 0.40},
        "tr": {"alpha": 500.0, "beta": -0.36, "gamma": 0.50},
        "vi": {"alpha": 260.0, "beta": -0.31, "gamma": 0.60},
        "zh": {"alpha": 240.0, "beta": -0.30, "gamma": 0.63},
    }
    path = tmp_path / "laws.json"
    path.write_text(json.dumps({"laws": laws}))
    out = tmp_path / "out"
    rc = main(
        ["analyze", "allocator", "--laws", str(path), "--budget", "300k", "--budget", "1.2M", "-o", str(out)]
    )
    assert rc == 0
    printed = capsys.readouterr().out
    assert "uniform" in printed and "optimized" in printed and "200,000 /" in printed
    for budget in (300_000, 1_200_000):
        counts = alloc.read_allocation(out / f"allocation_{budget}.json")
        assert sum(counts.values()) == budget and set(counts) == set(laws)
        document = json.loads((out / f"allocation_{budget}.json").read_text())
        assert document["laws"]["hi"]["alpha"] == 1200.0
        assert document["availability"]["hi"] == 234_300
    big = alloc.read_allocation(out / "allocation_1200000.json")
    assert big["hi"] == 234_300  # capped at its availability
    assert big["tr"] > big["ar"] > big["zh"]  # harder languages get more
    summary = json.loads((out / "allocator.json").read_text())
    for entry in summary["budgets"]:
        assert entry["optimized"]["predicted_mean"] > entry["uniform"]["predicted_mean"]
    rows = (out / "allocator.csv").read_text().splitlines()
    assert rows[0] == "budget,strategy,language,examples,predicted" and len(rows) == 1 + 2 * 2 * 6
    assert (out / "allocator.png").read_bytes()[:4] == b"\x89PNG"


def test_read_allocation_rejects_bad_files(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"budget": 10, "allocation": {"ar": 4, "el": 5}}))
    with pytest.raises(ValueError, match="sums to 9, not the budget 10"):
        alloc.read_allocation(path)
    path.write_text(json.dumps({"budget": 10, "allocation": {"ar": 4.5, "el": 5.5}}))
    with pytest.raises(ValueError, match="non-negative integer"):
        alloc.read_allocation(path)
    with pytest.raises(FileNotFoundError, match="xllm analyze allocator"):
        alloc.read_allocation(tmp_path / "missing.json")


def test_parse_count():
    assert alloc.parse_count("300k") == 300_000
    assert alloc.parse_count("1.2M") == 1_200_000
    assert alloc.parse_count("inf") == math.inf
    with pytest.raises(ValueError, match="not a count"):
        alloc.parse_count("lots")


def test_trainer_builds_the_allocated_mixture(tmp_path, samples_dir, monkeypatch, capsys):
    """The allocation file is the trainer's input: its data builder draws exactly those counts."""
    from xllm_harness.trainers.data import build

    laws = {
        "ar": {"alpha": 300, "beta": -0.32, "gamma": 0.55},
        "el": {"alpha": 250, "beta": -0.30, "gamma": 0.62},
        "vi": {"alpha": 600, "beta": -0.40, "gamma": 0.60},
    }
    path = tmp_path / "laws.json"
    path.write_text(json.dumps({"laws": laws}))
    out = tmp_path / "out"
    caps = ["--availability", "ar=300,el=300,vi=300"]  # the bundled samples hold 300 pairs each
    assert main(["analyze", "allocator", "--laws", str(path), "--budget", "500", *caps, "-o", str(out)]) == 0
    allocation = alloc.read_allocation(out / "allocation_500.json")
    assert allocation["vi"] > allocation["ar"] > allocation["el"]
    monkeypatch.setenv("XLLM_DATA_DIR", str(samples_dir))
    built = build(None, allocation=out / "allocation_500.json")
    assert built.counts == {f"translation_en-{lang}": n for lang, n in allocation.items()}
    assert len(built.examples) == 500


def test_laws_marked_as_bad_fits_are_refused_or_flagged(tmp_path, capsys):
    """scaling_law marks a fit with R2 < 0; the allocator refuses it, or flags it with --allow-bad-fits."""
    points = tmp_path / "points.csv"  # ar's scores fall with more data: no increasing law describes them
    points.write_text(
        "language,data_size,score\nar,1e4,90\nar,1e5,85\nar,1e6,80\nhi,1e4,60\nhi,1e5,70\nhi,1e6,76\n"
    )
    fitted = tmp_path / "fitted"
    args = ["analyze", "scaling_law", "--points", str(points), "--gamma", "0.5", "--bootstrap", "0"]
    assert main([*args, "-o", str(fitted)]) == 0
    capsys.readouterr()
    laws = fitted / "laws.json"
    out = tmp_path / "out"
    base = ["analyze", "allocator", "--laws", str(laws), "--budget", "100k", "-o", str(out)]
    assert main(base) == 2
    err = capsys.readouterr().err
    assert str(laws) in err and "'ar'" not in err and "law of ar as bad" in err and "R2=" in err
    assert "--allow-bad-fits" in err and not (out / "allocation_100000.json").exists()
    # the good law alone is fine
    assert main([*base, "--languages", "hi"]) == 0
    capsys.readouterr()
    assert main([*base, "--allow-bad-fits"]) == 0
    captured = capsys.readouterr()
    assert "warning: ar: using a law marked as a bad fit" in captured.err
    assert "ar*" in captured.out and "bad fit" in captured.out
    document = json.loads((out / "allocation_100000.json").read_text())
    assert set(document["bad_fits"]) == {"ar"} and "R2=" in document["bad_fits"]["ar"]
    assert json.loads((out / "allocator.json").read_text())["bad_fits"] == document["bad_fits"]


def test_unknown_language_suggests_a_law(tmp_path, capsys):
    laws = tmp_path / "laws.json"
    laws.write_text(json.dumps({"laws": {"hi": {"alpha": 300, "beta": -0.3, "gamma": 0.5}}}))
    args = ["analyze", "allocator", "--laws", str(laws), "--budget", "1k", "--languages", "hii"]
    assert main([*args, "-o", str(tmp_path / "out")]) == 2
    assert "no law for 'hii'" in (err := capsys.readouterr().err) and "did you mean 'hi'" in err


def test_figure_draws_caps_and_readable_counts():
    from matplotlib.text import Text

    from xllm_harness.plugins.analyzers.allocator import Allocator

    laws = {
        "ar": PowerLaw(300.0, -0.32, 0.55, "ar"),
        "hi": PowerLaw(1200.0, -0.42, 0.40, "hi"),
        "zh": PowerLaw(240.0, -0.30, 0.63, "zh"),
    }
    caps = {"ar": 1_097_200.0, "hi": 234_300.0, "zh": math.inf}
    results = [Allocator.solve(laws, budget, caps) for budget in (300_000, 1_200_000)]
    fig = Allocator.figure(results, list(laws), caps, {})
    small, big = fig.axes
    for ax in (small, big):
        assert ax.get_ylabel() == "translation examples"
        assert [t.get_text() for t in ax.get_xticklabels()] == list(laws)
        labels = [ax.yaxis.get_major_formatter()(v, 0) for v in (50_000, 200_000, 1_200_000)]
        assert labels == ["50k", "200k", "1.2M"]
        assert any(text.startswith("uniform") for text in ax.get_legend_handles_labels()[1])
    assert big.get_title() == "budget 1.2M examples"
    # at 1.2M Hindi's cap (234.3k) binds and is drawn as a line at its height ...
    cap_lines = [line for line in big.get_lines() if line.get_label() == "availability cap"]
    assert [tuple(line.get_ydata()) for line in cap_lines] == [(234_300.0, 234_300.0)]
    assert "availability cap" in big.get_legend_handles_labels()[1]
    assert big.get_ylim()[1] >= 234_300
    # ... and caps far above the bars are written at the top edge
    notes = [t.get_text() for t in big.findobj(Text)]
    assert "cap ↑\n1.097M" in notes
    assert sum("cap " in t.get_text() for t in small.findobj(Text)) == 2  # ar and hi; zh is unlimited
