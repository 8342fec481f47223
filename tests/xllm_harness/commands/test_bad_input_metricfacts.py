"""Bad input of the metric inputs, through ``xllm score``: a samples field of the wrong type is never
scored (a string of answers would be scored character by character, a string response by its first
character); the error names the file, the document and the field, with exit 2, no traceback and no
scores file left behind."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_bad_input import assert_user_error, write_samples, xllm

QA_DOC = {"id": "q0", "context": "c", "question": "q?", "answers": ["Denver Broncos"], "lang": "en"}


def _line(doc_id: int, doc: dict, **fields) -> str:
    row = {
        "doc_id": doc_id,
        "doc": doc,
        "target": "x",
        "filtered_resps": ["Denver Broncos"],
        "filter": "none",
    }
    return json.dumps({**row, **fields})


@pytest.fixture
def env(subprocess_env, tmp_path) -> dict[str, str]:
    return {**subprocess_env, "XLLM_CACHE_DIR": str(tmp_path / "cache")}


CASES = {
    "answers as a string": ({**QA_DOC, "answers": "Denver Broncos"}, {}, "'answers'"),
    "answers of numbers": ({**QA_DOC, "answers": [1, 2]}, {}, "'answers'"),
    "filtered_resps as a string": (QA_DOC, {"filtered_resps": "Denver Broncos"}, "'filtered_resps'"),
    "a response that is a number": (QA_DOC, {"filtered_resps": [42]}, "'filtered_resps'"),
    "a translation target that is a list": (
        {"source": "a", "target": ["b"], "src_lang": "en", "tgt_lang": "zh"},
        {},
        "'target'",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_score_refuses_a_field_of_the_wrong_type(tmp_path, env, case):
    doc, fields, named = CASES[case]
    task = "flores_xllm_en-zh" if "source" in doc else "xquad_xllm_en"
    good = QA_DOC if task.startswith("xquad") else {**doc, "target": "b"}
    path = write_samples(tmp_path / "model", task, [_line(0, good), _line(1, doc, **fields)])
    done = xllm(
        ["score", str(tmp_path), "--metrics", "match" if task.startswith("xquad") else "chrf"], tmp_path, env
    )
    assert_user_error(done, "score", str(path), "doc_id 1", named)
    assert not list(Path(tmp_path / "model").glob("xllm_scores_*")), "nothing written"
