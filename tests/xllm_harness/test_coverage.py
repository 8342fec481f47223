"""Language coverage of model-based metrics: the declared lists, the check, and the warning under the
leaderboard's table for a number an lm-eval run recorded (its signature says it)."""

from __future__ import annotations

import json

from xllm_harness.leaderboard.board import build_tables, collect
from xllm_harness.metrics import COVERAGE_FIELD, get_metric

KLINGON = """
from xllm_harness.hookspecs import hookimpl
from xllm_harness.languages import Language


@hookimpl
def xllm_languages():
    return [Language(code="tlh", name="Klingon")]
"""


def test_declared_languages_and_the_check():
    sizes = {
        name: len(get_metric(name).languages)
        for name in ("comet", "cometkiwi", "xcomet", "metricx", "bleurt")
    }
    # XLM-R's 100 (93 codes: romanized and script variants count once), mT5's 101, RemBERT's card's codes
    assert sizes == {"comet": 93, "cometkiwi": 93, "xcomet": 93, "metricx": 101, "bleurt": 103}
    assert get_metric("chrf").languages is None and get_metric("chrf")().uncovered(["tlh"]) == []
    comet = get_metric("comet")()
    assert comet.uncovered(["en", "zh_hant", "zh-TW", None, "tlh", "sw"]) == ["tlh"]
    assert comet.coverage_warning(["en", "ar"]) is None
    assert (
        get_metric("metricx").languages >= {"sw", "ceb", "haw"}
        and "om" not in get_metric("metricx").languages
    )
    assert "or" in comet.languages and "or" not in get_metric("metricx").languages


def test_leaderboard_notes_a_recorded_number_outside_the_model(tmp_path, install_plugin):
    install_plugin("xllm-klingon", "klingon", "xllm_test_klingon", KLINGON)
    folder = tmp_path / "m"
    folder.mkdir()
    results = {
        "flores_xllm_en-tlh": {
            "comet,none": 0.5,
            "comet_signature,none": f"model:Unbabel/wmt22-comet-da|nrefs:1|scale:1|{COVERAGE_FIELD}:tlh",
        },
        "flores_xllm_en-de": {
            "comet,none": 0.6,
            "comet_signature,none": "model:Unbabel/wmt22-comet-da|nrefs:1|scale:1",
        },
    }
    config = {"model": "hf", "model_args": "pretrained=/m/tiny"}
    (folder / "results_2026-01-01T00-00-00.000001.json").write_text(
        json.dumps({"results": results, "config": config})
    )
    (table,) = [t for t in build_tables(collect([tmp_path]).scores) if t.metric == "comet"]
    cells = {c: cell.value for r in table.rows if r.label == "tiny" for c, cell in r.cells.items()}
    assert cells["en-tlh"] == 50.0  # scored all the same
    (note,) = [n for n in table.notes if "less reliable" in n]
    assert note.startswith("warning for tiny en-tlh: comet: tlh not among") and "en-de" not in note
