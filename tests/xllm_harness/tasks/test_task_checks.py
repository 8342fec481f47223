"""lm-eval's own per-task checks (its tests/test_tasks.py, which is not in the wheel), on every task YAML
we ship, with nothing but the bundled samples (XLLM_DATA_DIR = the samples folder): the documents load
for the declared splits; doc_to_text gives a str that does not end in whitespace when the target
delimiter is whitespace; doc_to_target works; the requests build for limit=10 (so every sample has at
least 10 documents)."""

from __future__ import annotations

from itertools import islice

import pytest

from xllm_harness.bridge.task_index import task_manager

LIMIT = 10


def _all_tasks() -> list[str]:
    tm = task_manager()
    return sorted(
        t for t in tm.all_subtasks if t.split("_xllm_")[0] in ("xquad", "mlqa", "flores", "mi_eval")
    )


TASKS = _all_tasks()


@pytest.fixture(scope="module")
def tasks(samples_dir, use_sacrebleu_home_module):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XLLM_DATA_DIR", str(samples_dir))
        yield task_manager().load(TASKS)["tasks"]


@pytest.fixture(scope="module")
def use_sacrebleu_home_module(sacrebleu_home):
    """spBLEU's model present, so the FLORES tasks plan every metric (no missing-metric notice)."""
    from sacrebleu.tokenizers import tokenizer_spm

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SACREBLEU", str(sacrebleu_home))
        mp.setattr(tokenizer_spm, "SACREBLEU_DIR", str(sacrebleu_home))
        yield sacrebleu_home


def test_every_shipped_task_is_checked():
    families = {t.split("_xllm_")[0] for t in TASKS}
    assert families == {"xquad", "mlqa", "flores", "mi_eval"}
    assert len(TASKS) == 7 + 5 + 12 + 7


def _docs(task) -> list:
    split = task.test_docs() if task.has_test_docs() else task.validation_docs()
    return list(islice(split, LIMIT))


@pytest.mark.parametrize("name", TASKS)
def test_lm_eval_task_checks(tasks, name):
    task = tasks[name]
    assert task.dataset is not None
    for has, split in (
        (task.has_training_docs(), "training_split"),
        (task.has_validation_docs(), "validation_split"),
        (task.has_test_docs(), "test_split"),
    ):
        assert has in (True, False)
        if has:
            assert getattr(task.config, split) in task.dataset
    assert task.has_test_docs() or task.has_validation_docs()
    docs = _docs(task)
    assert len(docs) == LIMIT, f"{name}: the bundled sample has fewer than {LIMIT} documents"
    delimiter = task.config.target_delimiter
    for doc in docs:
        text = task.doc_to_text(doc)
        assert isinstance(text, str) and text
        if delimiter.isspace():
            assert not text[-1].isspace(), f"{name}: doc_to_text ends in whitespace"
        target = task.doc_to_target(doc)
        assert isinstance(target, (str, list))
    requests = [task.construct_requests(doc=doc, ctx=task.doc_to_text(doc)) for doc in docs]
    assert len(requests) == LIMIT
    task.build_all_requests(limit=LIMIT, rank=0, world_size=1)
    assert len(task.instances) == LIMIT
