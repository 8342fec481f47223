"""``xllm compare`` on scripted XQuAD runs: paragraph clusters, power columns, planned sizes, help."""

from __future__ import annotations

import json

import pytest

from xllm_harness.cli import main
from xllm_harness.testing.qa_runs import write_qa_run


@pytest.fixture
def runs(tmp_path, samples_dir):
    """A right on every third question, B on every second (the bundled XQuAD en and zh)."""
    write_qa_run(tmp_path / "a" / "m", samples_dir, ("en", "zh"), lambda lang, i, doc: i % 3 == 0, model="a")
    write_qa_run(tmp_path / "b" / "m", samples_dir, ("en", "zh"), lambda lang, i, doc: i % 2 == 0, model="b")
    return tmp_path / "a", tmp_path / "b"


def test_rows_report_clusters_design_effect_and_detectable_difference(runs, capsys):
    a, b = runs
    assert main(["compare", str(a), str(b), "--resamples", "300", "--difference", "0.05"]) == 0
    printed = capsys.readouterr().out
    assert "MDE(80%,a=0.05)" in printed and "deff" in printed and "n needed" in printed
    assert "paired cluster bootstrap" in printed and "McNemar" not in printed
    report = json.loads(next((a / "m").glob("compare_*.json")).read_text())
    assert report["planned_difference"] == 0.05
    for row in report["comparisons"]:
        assert row["test"] == "paired cluster bootstrap" and row["clusters"] == 4  # the sample's 4 paragraphs
        assert row["mde_alpha"] == 0.05 and row["mde_power"] == 0.8
        if row["metric"] == "off_target" and row["task"] == "xquad_xllm_en":  # no output off-target in either
            assert row["mde"] is None and "items_needed" not in row
            continue
        assert row["mde"] > 0
        # se shrinks as 1/sqrt(n): detecting 0.05 needs n * (mde / 0.05)^2 items
        assert row["items_needed"] == pytest.approx(row["n"] * (row["mde"] / 0.05) ** 2, rel=0.01, abs=1)
        assert row["design_effect"] is None or row["design_effect"] > 0


def test_item_level_option_and_alpha_set_the_level(runs, capsys):
    a, b = runs
    assert (
        main(["compare", str(a), str(b), "--resamples", "300", "--clusters", "none", "--alpha", "0.1"]) == 0
    )
    assert "MDE(80%,a=0.1)" in capsys.readouterr().out
    report = json.loads(next((a / "m").glob("compare_*.json")).read_text())
    tests = {row["metric"]: row["test"] for row in report["comparisons"]}
    assert tests["match"] == tests["exact_match"] == "exact McNemar"
    assert tests["f1"] == "paired bootstrap + paired t-test"
    assert all("clusters" not in row and row["mde_alpha"] == 0.1 for row in report["comparisons"])


def test_help_has_examples_and_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    text = capsys.readouterr().out
    assert "examples:\n  xllm compare" in text and "--difference 0.02" in text
    for default in ("default: 1000", "default: 12345", "default: 0.05", "default: paragraph"):
        assert default in text


def test_bad_difference(runs, capsys):
    a, b = runs
    assert main(["compare", str(a), str(b), "--difference", "-1"]) == 2
    assert "--difference must be a positive difference" in capsys.readouterr().err
