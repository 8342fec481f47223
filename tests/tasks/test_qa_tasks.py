"""lm-eval's own task checks, as our tests, for every QA task; plus prompts and the generated YAMLs.

MLQA is not bundled (and not in the shared data): its tasks run on XQuAD files laid out under MLQA's
file names, which exercises the same SQuAD-format loader.
"""

from __future__ import annotations

import pytest

from xllm_harness.lm_eval_bridge import task_manager
from xllm_harness.plugins.paper_languages import LANGUAGES, MLQA_LANGS
from xllm_harness.taskgen import get_families, render
from xllm_harness.testing.data_layouts import lay_out_qa_data

QA_TASKS = [f"xquad_xllm_{lang.code}" for lang in LANGUAGES] + [f"mlqa_xllm_{c}" for c in sorted(MLQA_LANGS)]


@pytest.fixture(scope="module")
def qa_tasks(tmp_path_factory, samples_dir):
    data = lay_out_qa_data(samples_dir, tmp_path_factory.mktemp("data"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XLLM_DATA_DIR", str(data))
        yield task_manager().load(QA_TASKS)["tasks"]


def test_every_paper_task_and_group_is_indexed():
    tm = task_manager()
    assert set(QA_TASKS) <= set(tm.all_subtasks)
    assert {"xquad_xllm", "mlqa_xllm", "xllm"} <= set(tm.all_groups)


@pytest.mark.parametrize("name", QA_TASKS)
def test_lm_eval_task_checks(qa_tasks, name):
    task = qa_tasks[name]
    assert task.has_test_docs()
    docs = list(task.test_docs())
    assert len(docs) == 59  # the bundled sample: 4 XQuAD paragraphs
    delimiter = task.config.target_delimiter
    for doc in docs[:10]:
        text = task.doc_to_text(doc)
        assert isinstance(text, str)
        if delimiter.isspace():
            assert not text.endswith(tuple(" \t\n")), "doc_to_text must not end in whitespace"
        target = task.doc_to_target(doc)
        assert isinstance(target, str) and target == doc["answers"][0]
    task.build_all_requests(limit=10, rank=0, world_size=1)
    assert len(task.instances) == 10
    request = task.instances[0]
    assert request.request_type == "generate_until"
    context, gen_kwargs = request.args
    assert context == docs[0]["prompt"]
    assert gen_kwargs["max_gen_toks"] == 512 and gen_kwargs["do_sample"] is False
    assert "### Instruction:" in gen_kwargs["until"]
    assert task.config.metadata["version"] == 1.0


def test_arabic_prompt_is_exact(qa_tasks):
    doc = next(iter(qa_tasks["xquad_xllm_ar"].test_docs()))
    expected = (
        "Below is an instruction that describes a task, paired with an input that provides further context. "
        "Write a response that appropriately completes the request.\n\n"
        "### Instruction:\nالرجاء الإجابة على الأسئلة بناءً على الفقرات التالية\n\n"
        f"### Input:\nفقرة: {doc['context'].strip()}\nسؤال: {doc['question'].strip()}\nإجابة: \n\n### Response:"
    )
    assert doc["prompt"] == expected


def test_process_results_uses_the_language_normalization(qa_tasks):
    task = qa_tasks["xquad_xllm_zh"]
    doc = dict(next(iter(task.test_docs())))
    doc["answers"] = ["北京大学"]
    scores = task.process_results(doc, ["答案是北京"])
    assert scores["match"] == 0.0 and scores["exact_match"] == 0.0
    assert scores["f1"] == pytest.approx(2 * (2 / 5) * (2 / 4) / (2 / 5 + 2 / 4))  # per-character tokens


def test_committed_yamls_match_the_generator():
    """Regenerate with `python -m xllm_harness.taskgen` when the language table changes."""
    checked = 0
    for family in get_families():
        for task, cfg in family.configs(LANGUAGES).items():
            path = family.folder / f"{task}.yaml"
            assert path.read_text(encoding="utf-8") == render(cfg, family.template.name), path
            checked += 1
    assert checked >= len(QA_TASKS)


def test_missing_dataset_names_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.setenv("XLLM_DATA_DIR", str(tmp_path))
    from xllm_harness.data import MissingDataError
    from xllm_harness.qa import load_dataset

    with pytest.raises(MissingDataError, match=r"run `xllm data fetch mlqa`"):
        load_dataset(lang="hi", benchmark="mlqa")


def test_full_xquad_and_flores_files_load(shared_data, monkeypatch):
    monkeypatch.setenv("XLLM_DATA_DIR", str(shared_data))
    from xllm_harness.qa import load_dataset

    for lang in LANGUAGES:
        docs = load_dataset(lang=lang.code, benchmark="xquad")["test"]
        assert len(docs) == 1190, lang.code
        assert all(docs[i]["answers"] for i in range(0, 1190, 97))
