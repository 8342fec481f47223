"""``cometkiwi`` and ``xcomet`` through ``xllm score``: unbabel-comet 2.2.7's own scores and error spans
on its tiny checkpoints (tests/fixtures/comet, see test_comet_parity.py), the spans kept per document in
``details``; a plugin language outside XLM-R's gets its score with a warning in the file, on stderr and
under the leaderboard's table; bad input named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xllm_harness.cli import main
from xllm_harness.errors import InputError
from xllm_harness.leaderboard.board import build_tables, collect
from xllm_harness.metrics import get_metric
from xllm_harness.scoring import read_samples, score_with_statistics

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "comet"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
SEGMENTS = [
    json.loads(line) for line in (FIXTURES / "segments.jsonl").read_text(encoding="utf-8").splitlines()
]
PICK = list(range(0, 40, 3))
"""Documents scored (a few, to stay fast); unbabel-comet scored all of them in one run."""
TOL = 1e-5
"""Per-segment parity bar of the COMET port on the 0-1 scale (fp32 on both sides)."""
STAMP = "2026-03-04T05-06-07.000001"
KLINGON = """
from xllm_harness.hookspecs import hookimpl
from xllm_harness.languages import Language


@hookimpl
def xllm_languages():
    return [Language(code="tlh", name="Klingon")]
"""


def flores_run(folder: Path, tgt: str = "de") -> Path:
    """An lm-eval --log_samples folder: FLORES-like documents whose outputs are the fixture's translations."""
    folder.mkdir(parents=True)
    lines = []
    for doc_id in PICK:
        seg = SEGMENTS[doc_id]
        doc = {"source": seg["src"], "target": seg["ref"], "src_lang": "en", "tgt_lang": tgt}
        lines.append({"doc_id": doc_id, "doc": doc, "filtered_resps": [seg["mt"]]})
    (folder / f"samples_flores_xllm_en-{tgt}_{STAMP}.jsonl").write_text(
        "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8"
    )
    return folder


@pytest.fixture
def fixture_models(monkeypatch):
    monkeypatch.setenv("XLLM_COMET_MODEL", str(FIXTURES / "regression-xlmr"))
    monkeypatch.setenv("XLLM_COMETKIWI_MODEL", str(FIXTURES / "unified-kiwi-xlmr"))
    monkeypatch.setenv("XLLM_XCOMET_MODEL", str(FIXTURES / "xcomet-xlmrxl"))


def test_defaults_and_registration():
    assert get_metric("cometkiwi")().model == "Unbabel/wmt22-cometkiwi-da"
    assert get_metric("xcomet")().model == "Unbabel/XCOMET-XL"
    assert "nrefs:0" in get_metric("cometkiwi")().signature()
    assert "nrefs:1" in get_metric("xcomet")().signature()


def test_score_writes_qe_scores_and_xcomet_spans(tmp_path, fixture_models, capsys):
    folder = flores_run(tmp_path / "out" / "m")
    assert main(["score", str(tmp_path / "out"), "--metrics", "cometkiwi,xcomet", "--device", "cpu"]) == 0
    (written,) = folder.glob("xllm_scores_*.json")
    out = json.loads(written.read_text(encoding="utf-8"))
    task = "flores_xllm_en-de"
    assert out["doc_ids"][task] == PICK
    # CometKiwi never sees the reference: unbabel-comet's reference-free scores
    kiwi = EXPECTED["models"]["unified-kiwi-xlmr"]["without_ref"]["scores"]
    assert [row[0] / 100 for row in out["statistics"][task]["cometkiwi"]] == pytest.approx(
        [kiwi[i] for i in PICK], abs=TOL
    )
    assert out["results"][task]["cometkiwi"] == pytest.approx(
        100 * sum(kiwi[i] for i in PICK) / len(PICK), abs=100 * TOL
    )
    # XCOMET with the reference: its scores, and its spans kept per document
    xcomet = EXPECTED["models"]["xcomet-xlmrxl"]["with_ref"]
    assert [row[0] / 100 for row in out["statistics"][task]["xcomet"]] == pytest.approx(
        [xcomet["scores"][i] for i in PICK], abs=TOL
    )
    details = out["details"][task]["xcomet"]
    assert len(details) == len(PICK)
    expected_spans = [
        [(s["start"], s["end"], s["severity"], s["text"]) for s in xcomet["error_spans"][i]] for i in PICK
    ]
    assert sum(map(len, expected_spans)) > 0  # the check can fail
    assert [
        [(s["start"], s["end"], s["severity"], s["text"]) for s in d["error_spans"]] for d in details
    ] == expected_spans
    assert [d["mqm_score"] for d in details] == pytest.approx(
        [xcomet["mqm_scores"][i] for i in PICK], abs=1e-6
    )
    assert "cometkiwi" not in out["details"][task]  # no spans from a sentence-level QE model
    assert "warnings" not in out  # German is one of XLM-R's languages
    assert "warning" not in capsys.readouterr().err


def test_language_outside_the_encoder_is_scored_with_a_warning(
    tmp_path, fixture_models, install_plugin, capsys
):
    install_plugin("xllm-klingon", "klingon", "xllm_test_klingon", KLINGON)
    folder = flores_run(tmp_path / "out" / "m", tgt="tlh")
    assert main(["score", str(tmp_path / "out"), "--metrics", "comet,chrf", "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    (written,) = folder.glob("xllm_scores_*.json")
    out = json.loads(written.read_text(encoding="utf-8"))
    task = "flores_xllm_en-tlh"
    assert out["results"][task]["comet"] is not None  # scored all the same
    warning = out["warnings"][task]["comet"]
    assert warning.startswith("comet: tlh not among") and "Conneau et al. 2020" in warning
    assert out["signatures"][task]["comet"].endswith("|outside-model-languages:tlh")
    assert "chrf" not in out["warnings"][task]  # no model, no language list
    assert f"warning: {task}: {warning}" in err
    (table,) = [t for t in build_tables(collect([tmp_path / "out"]).scores) if t.metric == "comet"]
    assert any("tlh" in note and "less reliable" in note for note in table.notes)


def test_qe_without_sources_names_the_task(tmp_path, fixture_models, capsys):
    folder = tmp_path / "out" / "m"
    folder.mkdir(parents=True)
    line = {"doc_id": 0, "doc": {"question": "q", "answers": ["a"]}, "target": "a", "filtered_resps": ["a"]}
    (folder / f"samples_toy_task_{STAMP}.jsonl").write_text(json.dumps(line) + "\n")
    assert main(["score", str(tmp_path / "out"), "--metrics", "cometkiwi"]) == 2
    err = capsys.readouterr().err
    assert "cometkiwi (toy_task): cometkiwi needs the source segments" in err and "Traceback" not in err


def test_cometkiwi_refuses_a_model_that_needs_references(tmp_path, fixture_models):
    folder = flores_run(tmp_path / "m")
    (path,) = folder.glob("samples_*.jsonl")
    kiwi = get_metric("cometkiwi")(model=str(FIXTURES / "regression-xlmr"), device="cpu")
    with pytest.raises(
        InputError, match=r"cometkiwi: model .*regression-xlmr \(regression_metric\) needs references"
    ):
        score_with_statistics(kiwi, read_samples(path, "flores_xllm_en-de"))


def test_unknown_model_class_is_one_line_with_the_supported_list(
    tmp_path, fixture_models, monkeypatch, capsys
):
    import shutil

    import yaml

    model = Path(shutil.copytree(FIXTURES / "xcomet-xlmrxl", tmp_path / "ranking"))
    hparams = yaml.safe_load((model / "hparams.yaml").read_text())
    (model / "hparams.yaml").write_text(yaml.safe_dump({**hparams, "class_identifier": "ranking_metric"}))
    monkeypatch.setenv("XLLM_XCOMET_MODEL", str(model))
    flores_run(tmp_path / "out" / "m")
    assert main(["score", str(tmp_path / "out"), "--metrics", "xcomet"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "'ranking_metric' is not supported" in line and "unified_metric, xcomet_metric" in line
