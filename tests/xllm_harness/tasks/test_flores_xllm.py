"""FLORES-101 translation tasks: documents, prompts, options, lm-eval runs and ``xllm score``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from xllm_harness.data import MissingDataError
from xllm_harness.languages import Language
from xllm_harness.metrics import get_metrics
from xllm_harness.tasks.flores_docs import build_docs, read_lines
from xllm_harness.tasks.flores_utils import load_dataset

PAPER = ["ar", "el", "hi", "tr", "vi", "zh"]
DIRECTIONS = [f"en-{c}" for c in PAPER] + [f"{c}-en" for c in PAPER]


@pytest.fixture
def samples_data(monkeypatch, samples_dir) -> Path:
    monkeypatch.setenv("XLLM_DATA_DIR", str(samples_dir))
    return samples_dir


def leaves_of(loaded: dict) -> dict:
    """The tasks of ``TaskManager.load`` by task name (lm-eval 0.5 prefixes a subgroup's members:
    ``subgroup::task``)."""
    return {name.rsplit("::", 1)[-1]: task for name, task in loaded["tasks"].items()}


def test_prompt_uses_english_names_and_iso639_on_request(samples_data, use_sacrebleu_home):
    doc = build_docs("en", "el", "devtest")[0]
    assert (
        "### Instruction:\nTranslate the following sentences from English to Greek.\n\n### Input:\n"
        in doc["prompt"]
    )
    assert doc["prompt"].endswith("### Input:\n" + doc["source"] + "\n\n### Response:")
    eng = read_lines(samples_data / "flores101" / "devtest" / "eng.devtest")
    ell = read_lines(samples_data / "flores101" / "devtest" / "ell.devtest")
    assert (doc["source"], doc["target"]) == (eng[0], ell[0])
    iso = load_dataset("el", "en", language_names="iso639")["devtest"][0]
    assert "from Modern Greek (1453-) to English." in iso["prompt"]
    assert iso["source"] == ell[0] and iso["target"] == eng[0]
    ds = load_dataset("en", "zh", version=1.0)  # lm-eval passes metadata (version) along
    # COMET/BLEURT are opt-in in the task route; off_target is on when its plugin is installed
    assert ds["devtest"][0]["metrics"].split(",")[:2] == ["spbleu", "chrf"]
    assert "comet" not in ds["devtest"][0]["metrics"]
    assert (
        "from Modern Greek (1453-) to English."
        in load_dataset("el", "en", reproduce="x-llm")["devtest"][0]["prompt"]
    )
    assert len(ds["dev"]) == len(read_lines(samples_data / "flores101" / "dev" / "eng.dev"))


def test_options_from_environment_and_bad_values(samples_data, monkeypatch):
    monkeypatch.setenv("XLLM_FLORES_METRICS", "spbleu,comet")
    monkeypatch.setenv("XLLM_COMET_MODEL", "/models/comet")
    monkeypatch.setenv("XLLM_FLORES_LANGUAGE_NAMES", "iso639")
    doc = load_dataset("en", "el")["devtest"][0]
    assert json.loads(doc["metric_options"]) == {"comet": {"model": "/models/comet"}}
    # the COMET checkpoint does not exist: known before generation, recorded with its reason
    assert "comet" not in doc["metrics"].split(",")
    assert (
        "/models/comet/checkpoints/model.ckpt does not exist" in json.loads(doc["missing_metrics"])["comet"]
    )
    assert "Modern Greek (1453-)" in doc["prompt"]
    with pytest.raises(ValueError, match=r"unknown \['bleu'\].*XLLM_FLORES_METRICS"):
        load_dataset("en", "el", metrics="spbleu,bleu")
    with pytest.raises(ValueError, match="language_names='latin'"):
        load_dataset("en", "el", language_names="latin")


def test_missing_and_broken_data(tmp_path, monkeypatch, samples_dir):
    monkeypatch.setenv("XLLM_DATA_DIR", str(tmp_path))
    with pytest.raises(MissingDataError, match="xllm data fetch flores101"):
        load_dataset("en", "ar")
    for split in ("devtest", "dev"):
        (tmp_path / "flores101" / split).mkdir(parents=True)
        for code in ("eng", "ara"):
            src = samples_dir / "flores101" / split / f"{code}.{split}"
            (tmp_path / "flores101" / split / src.name).write_bytes(src.read_bytes())
    ara = tmp_path / "flores101" / "devtest" / "ara.devtest"
    ara.write_text("\n".join(read_lines(ara)[:-1]) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"not parallel: .*eng\.devtest has 50 lines, .*ara\.devtest has 49"):
        load_dataset("en", "ar")


def test_readme():
    assert (Path(__file__).parents[3] / "xllm_harness" / "tasks" / "flores_xllm" / "README.md").is_file()


@pytest.mark.shared_data
def test_real_flores101_loads_for_all_12_directions(shared_data, monkeypatch):
    monkeypatch.setenv("XLLM_DATA_DIR", str(shared_data))
    first = {}
    for direction in DIRECTIONS:
        src, tgt = direction.split("-")
        ds = load_dataset(src, tgt)
        assert (len(ds["devtest"]), len(ds["dev"])) == (1012, 997), direction
        first[direction] = ds["devtest"][0]
        assert all(d["source"].strip() and d["target"].strip() for d in ds["devtest"]), direction
    # multi-way parallel: the English side is the same sentence in every direction
    assert first["en-ar"]["source"] == first["zh-en"]["target"] == first["el-en"]["target"]
    assert first["ar-en"]["source"] == first["en-ar"]["target"]


def test_tasks_and_groups_in_lm_eval(samples_data):
    from xllm_harness.bridge.task_index import task_manager

    tm = task_manager()
    for direction in DIRECTIONS:
        assert f"flores_xllm_{direction}" in tm.all_tasks
    leaves = leaves_of(tm.load(["flores_xllm"]))
    assert sorted(leaves) == sorted(f"flores_xllm_{d}" for d in DIRECTIONS)
    en_x = leaves_of(tm.load(["flores_xllm_en-x"]))
    assert sorted(en_x) == sorted(f"flores_xllm_en-{c}" for c in PAPER)
    task = leaves["flores_xllm_zh-en"]
    doc = task.eval_docs[0]
    text = task.doc_to_text(doc)
    assert text.endswith("### Response:") and not text[-1].isspace()
    assert task.doc_to_target(doc) == doc["target"]
    assert task.config.fewshot_split == "dev" and task.config.metadata["version"] == 2.0


def test_plugin_language_gets_both_directions(tmp_path, samples_dir, monkeypatch):
    from xllm_harness.bridge.task_index import task_manager
    from xllm_harness.hookspecs import hookimpl
    from xllm_harness.registry import _collect, get_registry

    monkeypatch.setenv("XLLM_DATA_DIR", str(samples_dir))
    for split in ("dev", "devtest"):  # a "Swahili" that is really the Vietnamese sample, at an absolute path
        (tmp_path / split).mkdir()
        (tmp_path / split / f"swh.{split}").write_bytes(
            (samples_dir / "flores101" / split / f"vie.{split}").read_bytes()
        )

    class Swahili:
        @hookimpl
        def xllm_languages(self):
            return [Language(code="sw", name="Swahili", flores=str(tmp_path / "{split}" / "swh.{split}"))]

    plugin = Swahili()
    registry = get_registry()
    registry.register(plugin, name="test-swahili")
    try:
        tm = task_manager()
        assert {"flores_xllm_en-sw", "flores_xllm_sw-en"} <= set(tm.all_tasks)
        # the plugin language joins the built-in groups, which keep their members
        leaves = leaves_of(tm.load(["flores_xllm_x-en"]))
        assert sorted(leaves) == sorted([f"flores_xllm_{c}-en" for c in PAPER] + ["flores_xllm_sw-en"])
        everything = leaves_of(tm.load(["flores_xllm"]))
        assert sorted(everything) == sorted(
            [f"flores_xllm_{d}" for d in DIRECTIONS] + ["flores_xllm_en-sw", "flores_xllm_sw-en"]
        )
        assert {"xllm", "xquad_xllm", "mi_eval_xllm"} <= set(tm.all_groups)
        doc = leaves["flores_xllm_sw-en"].eval_docs[0]
        assert "from Swahili to English." in doc["prompt"]
    finally:
        registry.pm.unregister(plugin)
        _collect.cache_clear()


@pytest.mark.slow
def test_task_route_scores_corpus_metrics_with_comet_and_bleurt(
    samples_data, tiny_model, tiny_comet, tiny_bleurt, use_sacrebleu_home
):
    from lm_eval import simple_evaluate

    from xllm_harness.bridge.task_index import task_manager
    from xllm_harness.plugins.metrics import comet as comet_plugin

    metadata = {
        "metrics": "spbleu,chrf,comet,bleurt",
        "comet_model": str(tiny_comet),
        "bleurt_model": str(tiny_bleurt),
    }
    tasks = ["flores_xllm_en-ar", "flores_xllm_zh-en", "flores_xllm_en-vi"]
    out = simple_evaluate(
        model="hf",
        model_args=f"pretrained={tiny_model},dtype=float32",
        device="cpu",
        tasks=tasks,
        limit=3,
        gen_kwargs="max_gen_toks=12",
        task_manager=task_manager(metadata=metadata),
        log_samples=True,
        bootstrap_iters=0,
    )
    metrics = get_metrics()
    for task in tasks:
        res = out["results"][task]
        samples = sorted(out["samples"][task], key=lambda s: s["doc_id"])
        assert len(samples) == 3
        hyps = [s["filtered_resps"][0].strip() for s in samples]
        refs = [[s["doc"]["target"]] for s in samples]
        srcs = [s["doc"]["source"] for s in samples]
        # corpus-level, not a mean of sentence scores: recompute on the logged outputs
        assert res["spbleu,none"] == pytest.approx(metrics["spbleu"]().corpus_score(hyps, refs).score)
        assert res["chrf,none"] == pytest.approx(metrics["chrf"]().corpus_score(hyps, refs).score)
        comet = metrics["comet"](model=str(tiny_comet)).corpus_score(hyps, refs, sources=srcs)
        assert res["comet,none"] == pytest.approx(comet.score)
        assert res["bleurt,none"] == pytest.approx(
            metrics["bleurt"](model=str(tiny_bleurt)).corpus_score(hyps, refs).score
        )
        assert "tok:flores101" in res["spbleu_signature,none"] and "nw:2" in res["chrf_signature,none"]
        assert res["comet_signature,none"] == comet.signature
    key = str((tiny_comet / "checkpoints" / "model.ckpt").resolve())
    assert comet_plugin.LOADS.count(key) == 1  # one load for the whole multi-task run (and the rescoring)


@pytest.mark.slow
def test_xllm_eval_then_xllm_score(
    tmp_path, samples_dir, tiny_model, tiny_comet, tiny_bleurt, sacrebleu_home, subprocess_env
):
    env = {**subprocess_env, "XLLM_DATA_DIR": str(samples_dir), "SACREBLEU": str(sacrebleu_home)}
    out_dir = tmp_path / "out"
    run = [sys.executable, "-m", "xllm_harness.cli"]
    subprocess.run(
        [
            *(*run, "eval", "--model_args", f"pretrained={tiny_model},dtype=float32", "--device", "cpu"),
            *(
                "--tasks",
                "flores_xllm_en-ar,flores_xllm_zh-en",
                "--limit",
                "3",
                "--gen_kwargs",
                "max_gen_toks=12",
            ),
            *("--output_path", str(out_dir), "--log_samples"),
        ],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    (results_file,) = out_dir.glob("*/results_*.json")
    lm_eval_results = json.loads(results_file.read_text(encoding="utf-8"))["results"]
    assert "comet,none" not in lm_eval_results["flores_xllm_en-ar"]  # not in the evaluated model's process

    done = subprocess.run(
        [*run, "score", str(out_dir), "--comet-model", str(tiny_comet), "--bleurt-model", str(tiny_bleurt)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    (scores_file,) = results_file.parent.glob("xllm_scores_*.json")
    scores = json.loads(scores_file.read_text(encoding="utf-8"))
    assert scores["source_results"] == str(results_file.resolve())
    assert scores["model_name"] == str(tiny_model)
    assert set(scores["results"]) == {"flores_xllm_en-ar", "flores_xllm_zh-en"}
    for task, per_metric in scores["results"].items():
        assert set(per_metric) == {"spbleu", "chrf", "comet", "bleurt"}
        assert per_metric["spbleu"] == pytest.approx(lm_eval_results[task]["spbleu,none"])
        assert per_metric["chrf"] == pytest.approx(lm_eval_results[task]["chrf,none"])
        assert scores["signatures"][task]["comet"].startswith(f"model:{tiny_comet}|")
        assert scores["num_samples"][task] == 3

    # a missing COMET model: clear message, exit 1, and the other metrics are still written
    missing = tmp_path / "no-comet"
    done = subprocess.run(
        [*run, "score", str(out_dir), "--metrics", "spbleu,comet", "--comet-model", str(missing)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert f"{missing}/checkpoints/model.ckpt does not exist" in done.stderr
    newest = max(results_file.parent.glob("xllm_scores_*.json"))
    partial = json.loads(newest.read_text(encoding="utf-8"))
    assert set(partial["results"]["flores_xllm_en-ar"]) == {"spbleu"}
    assert "comet" in partial["errors"]["flores_xllm_en-ar"]


@pytest.mark.slow
def test_missing_spm_model_keeps_generations_and_xllm_score_fills_spbleu_in(
    tmp_path, samples_dir, tiny_model, sacrebleu_home, subprocess_env
):
    """Offline without sacrebleu's SentencePiece model: announced before generation, chrF and the samples
    written, spBLEU recorded as missing; once the model is placed, `xllm score` adds spBLEU."""
    env = {**subprocess_env, "XLLM_DATA_DIR": str(samples_dir), "SACREBLEU": str(tmp_path / "no-sacrebleu")}
    out_dir = tmp_path / "out"
    run = [sys.executable, "-m", "xllm_harness.cli"]
    done = subprocess.run(
        [
            *(*run, "eval", "--model_args", f"pretrained={tiny_model},dtype=float32", "--device", "cpu"),
            *(
                "--tasks",
                "flores_xllm_en-ar,flores_xllm_en-zh",
                "--limit",
                "3",
                "--gen_kwargs",
                "max_gen_toks=8",
            ),
            *("--output_path", str(out_dir), "--log_samples"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    announced = re.search(r"xllm-harness: [^\n]*spbleu[^\n]* will be missing", done.stderr)
    assert announced, done.stderr[-3000:]
    assert announced.start() < done.stderr.index("Running generate_until requests")  # before any generation
    notices = [line for line in done.stderr.splitlines() if "will be missing" in line]
    assert len(notices) == 1 and len(notices[0]) < 300  # once per run, one line, for both tasks
    assert "curl --create-dirs -Lo" in notices[0] and "sacrebleu_tokenizer_spm.model" in notices[0]  # the fix
    assert str(tmp_path) not in notices[0] and str(Path.home()) not in notices[0]
    assert f"xllm score {out_dir} --metrics spbleu" in done.stderr.splitlines()[-1]
    (results_file,) = out_dir.glob("*/results_*.json")
    (samples_file,) = out_dir.glob("*/samples_flores_xllm_en-ar_*.jsonl")
    assert len(samples_file.read_text(encoding="utf-8").splitlines()) == 3
    results = json.loads(results_file.read_text(encoding="utf-8"))["results"]["flores_xllm_en-ar"]
    assert isinstance(results["chrf,none"], float) and "nw:2" in results["chrf_signature,none"]
    assert "spbleu,none" not in results
    assert results["spbleu_signature,none"].startswith(
        "missing: spBLEU (tokenize=flores101) needs sacrebleu's SentencePiece model"
    )

    env["SACREBLEU"] = str(sacrebleu_home)
    done = subprocess.run(
        [*run, "score", str(out_dir), "--metrics", "spbleu"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    (scores_file,) = results_file.parent.glob("xllm_scores_*.json")
    scores = json.loads(scores_file.read_text(encoding="utf-8"))
    assert isinstance(scores["results"]["flores_xllm_en-ar"]["spbleu"], float)
    assert "tok:flores101" in scores["signatures"]["flores_xllm_en-ar"]["spbleu"]


def test_late_failure_is_recorded_with_its_reason(samples_data, use_sacrebleu_home, monkeypatch, tmp_path):
    """A metric that passed the check but fails when aggregating: NaN plus the reason, other metrics intact."""
    import math

    from sacrebleu.tokenizers import tokenizer_spm

    from xllm_harness.tasks import flores_utils

    docs = list(load_dataset("en", "ar")["devtest"])[:3]
    items = [flores_utils.process_results(d, [d["target"]]) for d in docs]
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(tokenizer_spm, "SACREBLEU_DIR", str(tmp_path / "gone"))  # the model disappears
    spbleu = [i["spbleu"] for i in items]
    assert math.isnan(flores_utils.agg_spbleu(spbleu))
    assert flores_utils.agg_spbleu_signature([i["spbleu_signature"] for i in items]).startswith(
        "missing: spBLEU (tokenize=flores101) needs"
    )
    assert flores_utils.agg_chrf([i["chrf"] for i in items]) == pytest.approx(100.0)


def test_off_target_is_scored_against_the_target_language(samples_data):
    """The task passes the target language: references are on target, copied English sources are not."""
    from xllm_harness.tasks import flores_utils

    docs = list(load_dataset("en", "ar")["devtest"])[:20]
    assert "off_target" in docs[0]["metrics"].split(","), docs[0]["missing_metrics"]
    on_target = [flores_utils.process_results(d, [d["target"]])["off_target"] for d in docs]
    copied = [flores_utils.process_results(d, [d["source"]])["off_target"] for d in docs]
    assert flores_utils.agg_off_target(on_target) == 0.0
    assert flores_utils.agg_off_target(copied) == 1.0
    assert flores_utils.agg_off_target_signature(copied).startswith("off_target")
