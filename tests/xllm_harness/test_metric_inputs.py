"""The one adapter from an lm-eval document (and the model's answer) to metric inputs: what each kind
of document gives, lm-eval's filter and SQuAD-shaped answers, and fields of the wrong type refused."""

from __future__ import annotations

import pytest

from xllm_harness.errors import InputError
from xllm_harness.metric_inputs import document_segment, filter_rows, sample_response, sample_segment
from xllm_harness.scoring import metric_for, read_samples
from xllm_harness.testing.lm_eval_files import sample_line, write_samples

QA = {"id": "q", "context": "c", "question": "q?", "answers": ["Denver Broncos", "the Broncos"], "lang": "en"}


def test_each_kind_of_document():
    flores = {"source": "Hello", "target": "你好", "src_lang": "en", "tgt_lang": "zh"}
    segment = document_segment(flores, ["  你好 \n"], "w")
    assert (segment.kind, segment.hypothesis, segment.references, segment.source, segment.lang) == (
        "translation", "你好", ["你好"], "Hello", "zh"
    )  # fmt: skip
    segment = document_segment(QA, [" the Broncos "], "w")
    assert (segment.kind, segment.hypothesis, segment.references, segment.lang) == (
        "qa", " the Broncos ", ["Denver Broncos", "the Broncos"], "en"
    )  # fmt: skip
    mi_eval = {"instruction": "Write.", "input": "", "output": "", "lang": "ar"}
    assert document_segment(mi_eval, ["نعم"], "w").kind == "instruction"
    assert document_segment({"x": 1}, ["a"], "w", target=["b", "c"]).references == ["b", "c"]


def test_squad_shaped_answers_are_the_list_of_their_texts(tmp_path):
    """lm-eval's own xquad stores answers as {"text": [...], "answer_start": [...]} (scored 0 before)."""
    squad = {**QA, "answers": {"text": ["Denver Broncos", "the Broncos"], "answer_start": [0, 4]}}
    assert document_segment(squad, ["x"], "w").references == ["Denver Broncos", "the Broncos"]
    write_samples(tmp_path / "m", "xquad_xllm_en", [squad, QA], ["the Broncos won", "the Broncos won"])
    samples = read_samples(next((tmp_path / "m").glob("samples_*.jsonl")), "xquad_xllm_en")
    values = metric_for("match", samples).statistics(samples.hypotheses, samples.references, lang="en")
    assert values[:, 0].tolist() == [1.0, 1.0]


@pytest.mark.parametrize(
    ("row", "field"),
    [
        (sample_line(3, {**QA, "answers": "Denver Broncos"}, "Denver"), "'answers'"),
        (sample_line(3, {**QA, "answers": []}, "Denver"), "'answers'"),
        ({**sample_line(3, QA, "x"), "filtered_resps": "Denver Broncos"}, "'filtered_resps'"),
        ({**sample_line(3, QA, "x"), "filtered_resps": [None]}, "'filtered_resps'"),
        ({**sample_line(3, QA, "x"), "filtered_resps": [], "resps": [[7]]}, "'resps'"),
        (sample_line(3, {"source": "a", "target": 5}, "b"), "'target'"),
        (sample_line(3, {**QA, "lang": ["en"]}, "x"), "'lang'"),
    ],
)
def test_a_field_of_the_wrong_type_is_named(row, field):
    with pytest.raises(InputError, match=f"samples.jsonl: doc_id 3: field {field}"):
        sample_segment(row, "samples.jsonl: doc_id 3")


def test_the_response_falls_back_to_resps():
    assert sample_response({"filtered_resps": [], "resps": [["raw"]]}, "w") == "raw"
    assert sample_response({"filtered_resps": [["nested"]]}, "w") == "nested"


def test_lm_eval_filters():
    rows = [{"filter": "strict", "n": 0}, {"filter": "none", "n": 1}, {"filter": "strict", "n": 2}]
    assert [r["n"] for r in filter_rows(rows, None, "w")] == [1]
    assert [r["n"] for r in filter_rows(rows, "strict", "w")] == [0, 2]
    assert [r["n"] for r in filter_rows([{"filter": "x", "n": 3}], None, "w")] == [3]
    with pytest.raises(InputError, match="no samples for filter 'flexible'; present: strict, none"):
        filter_rows(rows, "flexible", "w")


def test_recorded_options_must_be_json_objects(tmp_path):
    write_samples(tmp_path / "m", "xquad_xllm_en", [{**QA, "metric_options": "[1]"}], ["x"])
    with pytest.raises(InputError, match="'metric_options' must map metric names"):
        read_samples(next((tmp_path / "m").glob("samples_*.jsonl")))
