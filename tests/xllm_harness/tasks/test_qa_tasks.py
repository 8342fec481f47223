"""lm-eval's own task checks, as our tests, for every QA task; plus prompts and the generated YAMLs.

All on the bundled samples. Their MLQA files are an XQuAD cut under MLQA's file names (no MLQA copy is
available; see xllm_harness/data/samples/README.md), which exercises the same SQuAD-format loader.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from xllm_harness.bridge.task_index import task_manager
from xllm_harness.plugins.paper_languages import LANGUAGES, MLQA_LANGS
from xllm_harness.taskgen import family_files, shipped
from xllm_harness.testing.data_layouts import lay_out_qa_data

QA_TASKS = [f"xquad_xllm_{lang.code}" for lang in LANGUAGES] + [f"mlqa_xllm_{c}" for c in sorted(MLQA_LANGS)]


SAMPLE_QUESTIONS = {"xquad": 59, "mlqa": 15}
"""Questions per language in the bundled samples (4 and 3 XQuAD paragraphs)."""


@pytest.fixture(scope="module")
def qa_tasks(samples_dir):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XLLM_DATA_DIR", str(samples_dir))
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
    assert len(docs) == SAMPLE_QUESTIONS[name.split("_")[0]]
    delimiter = task.config.target_delimiter
    for doc in docs[:10]:
        text = task.doc_to_text(doc)
        assert isinstance(text, str)
        if delimiter.isspace():
            assert not text.endswith(tuple(" \t\n")), "doc_to_text must not end in whitespace"
        target = task.doc_to_target(doc)
        assert str(target) == doc["answers"][0]  # lm-eval 0.5 turns a digit-only target ("308") into an int
    task.build_all_requests(limit=10, rank=0, world_size=1)
    assert len(task.instances) == 10
    request = task.instances[0]
    assert request.request_type == "generate_until"
    context, gen_kwargs = request.args
    assert context == docs[0]["prompt"]
    assert gen_kwargs["max_gen_toks"] == 512 and gen_kwargs["do_sample"] is False
    assert "### Instruction:" in gen_kwargs["until"]
    assert task.config.metadata["version"] == 2.0


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
    """Through lm-eval's task object: zh is tokenized per character (official MLQA rules)."""
    task = qa_tasks["xquad_xllm_zh"]
    doc = dict(next(iter(task.test_docs())))
    doc["answers"] = ["北京大学"]
    scores = task.process_results(doc, ["答案是北京"])
    assert scores["match"] == 0.0 and scores["exact_match"] == 0.0
    assert scores["f1"] == pytest.approx(2 * (2 / 5) * (2 / 4) / (2 / 5 + 2 / 4))  # per-character tokens


def test_committed_yamls_match_the_generator():
    """Regenerate with `python -m xllm_harness.taskgen` when the language table changes."""
    files = family_files(shipped("xllm_task_families"), shipped("xllm_languages"), absolute=False)
    for path, text in files.items():
        assert path.read_text(encoding="utf-8") == text, path
    names = {p.name for p in files}
    assert {f"{t}.yaml" for t in QA_TASKS} | {"_xquad_xllm.yaml", "_mlqa_xllm.yaml", "_xllm.yaml"} <= names


def test_missing_dataset_names_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.setenv("XLLM_DATA_DIR", str(tmp_path))
    from xllm_harness.data import MissingDataError
    from xllm_harness.tasks.qa_docs import load_dataset

    with pytest.raises(MissingDataError, match=r"run `xllm data fetch mlqa`"):
        load_dataset(lang="hi", benchmark="mlqa")


def test_full_xquad_and_flores_files_load(shared_data, monkeypatch):
    monkeypatch.setenv("XLLM_DATA_DIR", str(shared_data))
    from xllm_harness.tasks.qa_docs import load_dataset

    for lang in LANGUAGES:
        docs = load_dataset(lang=lang.code, benchmark="xquad")["test"]
        assert len(docs) == 1190, lang.code
        assert all(docs[i]["answers"] for i in range(0, 1190, 97))


GERMAN = """
from xllm_harness.hookspecs import hookimpl
from xllm_harness.languages import Language

@hookimpl
def xllm_languages():
    return [Language(code="de", name="German", qa_instruction="Beantworte die Frage",
                     qa_template="Kontext: {context}\\nFrage: {question}\\nAntwort: ",
                     qa_normalization="squad", xquad=XQUAD)]
"""


def _german(install_plugin, tmp_path, samples_dir) -> None:
    path = tmp_path / "xquad.de.json"
    path.write_bytes((samples_dir / "xquad" / "xquad.en.json").read_bytes())
    install_plugin("xllm-test-german", "german", "xllm_test_german", GERMAN.replace("XQUAD", repr(str(path))))


def test_plugin_language_scores_the_same_through_the_task_and_the_metric_classes(
    install_plugin, tmp_path, samples_dir
):
    """German declares SQuAD v1.1 normalization: "der" is not an article there (MLQA's German would drop
    it), so "der Hund" against gold "Hund" is EM 0, F1 2/3 on both routes."""
    from xllm_harness.metrics import get_metric
    from xllm_harness.tasks.qa_utils import load_dataset, process_results

    _german(install_plugin, tmp_path, samples_dir)
    doc = {**load_dataset("de", "xquad")["test"][0], "answers": ["Hund"]}
    predictions = ["der Hund", "Der Hund.", "ein Hund", "Katze"]
    task_route = [process_results(doc, [p]) for p in predictions]
    assert [r["exact_match"] for r in task_route] == [0.0, 0.0, 0.0, 0.0]
    assert task_route[0]["f1"] == pytest.approx(2 / 3) and task_route[3]["f1"] == 0.0
    assert [r["match"] for r in task_route] == [1.0, 1.0, 1.0, 0.0]
    assert "norm:squad-v1.1" in task_route[0]["f1_signature"]["signature"]
    for name in ("match", "exact_match", "f1"):
        per_sample = get_metric(name)().statistics(predictions, [["Hund"]] * 4, lang="de")[:, 0]
        assert list(per_sample) == [r[name] for r in task_route], name
    # the same samples under MLQA's German rules would differ: the language's declaration decides
    assert (
        get_metric("exact_match")(normalization="mlqa").sentence_score("der Hund", ["Hund"], lang="de").score
        == 1.0
    )


def test_plugin_language_through_xllm_score(install_plugin, tmp_path, samples_dir, monkeypatch, capsys):
    """A samples file of the German task, rescored by `xllm score`: the numbers of the task route."""
    from xllm_harness.cli import main
    from xllm_harness.tasks.qa_utils import load_dataset, process_results

    _german(install_plugin, tmp_path, samples_dir)
    docs = list(load_dataset("de", "xquad")["test"])[:4]
    predictions = ["der " + docs[0]["answers"][0], docs[1]["answers"][0], "nichts", docs[3]["answers"][0]]
    folder = tmp_path / "out" / "model"
    folder.mkdir(parents=True)
    rows = []
    for i, (doc, pred) in enumerate(zip(docs, predictions, strict=True)):
        scores = process_results(doc, [pred])
        rows.append(
            {
                "doc_id": i,
                "doc": doc,
                "target": doc["answers"][0],
                "filtered_resps": [pred],
                "filter": "none",
                **{k: scores[k] for k in ("match", "exact_match", "f1")},
            }
        )
    (folder / "samples_xquad_xllm_de_2026-01-01T00-00-00.000000.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    assert main(["score", str(tmp_path / "out"), "--metrics", "match,exact_match,f1"]) == 0
    (scores_file,) = folder.glob("xllm_scores_*.json")
    scored = json.loads(scores_file.read_text(encoding="utf-8"))["results"]["xquad_xllm_de"]
    for name in ("match", "exact_match", "f1"):
        assert scored[name] == pytest.approx(sum(r[name] for r in rows) / len(rows)), name
    assert rows[0]["exact_match"] == 0.0  # "der" kept under SQuAD rules


def test_task_options_reproduce_and_xtreme(tmp_path, monkeypatch, samples_dir):
    from xllm_harness.tasks.qa_utils import load_dataset, process_results

    data = lay_out_qa_data(samples_dir, tmp_path / "data")
    monkeypatch.setenv("XLLM_DATA_DIR", str(data))
    doc = {**load_dataset("en", "xquad")["test"][0], "answers": [" Paris ", "Lyon"]}
    # ours: any gold; x-LLM: answers[0].strip() only
    assert process_results(doc, ["in Lyon"])["match"] == 1.0
    xllm = {**load_dataset("en", "xquad", reproduce="x-llm")["test"][0], "answers": [" Paris ", "Lyon"]}
    assert process_results(xllm, ["in Lyon"])["match"] == 0.0
    assert process_results(xllm, ["PARIS!"])["match"] == 1.0
    assert "x-llm" in process_results(xllm, ["x"])["match_signature"]["signature"]
    # XTREME: SQuAD v1.1 for every language; Chinese is then one whitespace token, not per character
    zh = {**load_dataset("zh", "xquad")["test"][0], "answers": ["北京大学"]}
    assert process_results(zh, ["北京"])["f1"] == pytest.approx(2 / 3)
    squad = {**load_dataset("zh", "xquad", qa_normalization="squad")["test"][0], "answers": ["北京大学"]}
    assert process_results(squad, ["北京"])["f1"] == 0.0
    with pytest.raises(ValueError, match="qa_normalization='mlqa'"):
        load_dataset("en", "xquad", qa_normalization="mlqa")
    with pytest.raises(ValueError, match="reproduce='x-llama'"):
        load_dataset("en", "xquad", reproduce="x-llama")


def test_disabled_metric_plugin_is_named_not_silently_replaced(tmp_path, samples_dir, subprocess_env):
    """With the QA metric plugin off, the task still builds: the metrics are recorded as missing with
    the reason, before generation."""
    code = (
        "from xllm_harness.tasks.qa_utils import load_dataset, process_results\n"
        "doc = load_dataset('en', 'xquad')['test'][0]\n"
        "print(doc['metrics'] or '-', doc['missing_metrics'])\n"
        "print(process_results(doc, ['x']))\n"
    )
    env = {**subprocess_env, "XLLM_DATA_DIR": str(samples_dir), "XLLM_DISABLE_PLUGINS": "qa_metrics"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.splitlines()
    assert "match" in first and "qa_metrics" in first and "XLLM_DISABLE_PLUGINS" in first
    assert "'match_signature': {'missing':" in second and "'match':" not in second
    notices = [line for line in done.stderr.splitlines() if "will be missing" in line]
    assert [line.split()[1] for line in notices] == ["match", "exact_match", "f1"]  # one line each
    # nothing was aggregated: the footer says the run wrote no results, not that they lack the metrics
    assert "ended before any metric was computed" in done.stderr.splitlines()[-1]


def test_bare_lm_eval_with_the_data_missing_says_one_line(tmp_path, tiny_model, subprocess_env):
    """`lm_eval --tasks xquad_xllm_ar` without the data: the one-line message the docs promise, exit 2,
    not lm-eval's traceback."""
    env = {**subprocess_env, "XLLM_DATA_DIR": str(tmp_path / "empty"), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [
            *(sys.executable, "-m", "lm_eval", "--model", "hf", "--model_args", f"pretrained={tiny_model}"),
            *("--device", "cpu", "--tasks", "xquad_xllm_ar"),
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("xllm-harness: error: Dataset file ") and "xllm data fetch xquad" in last
