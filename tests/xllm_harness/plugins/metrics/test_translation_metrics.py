"""Translation metric plugins against the reference CLIs, and their missing-model messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from xllm_harness.metrics import get_metrics
from xllm_harness.models.metric_models import MissingMetricModelError
from xllm_harness.tasks.flores_docs import read_lines
from xllm_harness.testing.tiny_metric_models import SPM_NAME


@pytest.fixture(scope="module")
def system(samples_dir) -> dict[str, list[str]]:
    """English sources, Arabic references and a partly wrong 'system': every third line is another one."""
    src = read_lines(samples_dir / "flores101" / "devtest" / "eng.devtest")
    ref = read_lines(samples_dir / "flores101" / "devtest" / "ara.devtest")
    hyp = [ref[(i + 7) % len(ref)] if i % 3 == 0 else ref[i] for i in range(len(ref))]
    ref[1] += "  "  # the real devtest has lines ending in spaces; comet-score strips them
    src[4] = " " + src[4]
    return {"src": src, "ref": ref, "hyp": hyp}


def _write(folder: Path, system: dict[str, list[str]]) -> dict[str, Path]:
    paths = {}
    for key, lines in system.items():
        paths[key] = folder / f"{key}.txt"
        paths[key].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths


def _cli(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def test_metrics_are_registered_plugins():
    metrics = get_metrics()
    for name in ("spbleu", "chrf", "comet", "bleurt"):
        assert name in metrics
        assert metrics[name].name == name


@pytest.mark.slow
def test_spbleu_and_chrf_equal_sacrebleu_cli(tmp_path, system, use_sacrebleu_home, subprocess_env):
    paths = _write(tmp_path, system)
    refs = [[r] for r in system["ref"]]
    ours = get_metrics()["spbleu"]().corpus_score(system["hyp"], refs)
    chrf = get_metrics()["chrf"]().corpus_score(system["hyp"], refs)
    subprocess_env["SACREBLEU"] = str(use_sacrebleu_home)
    out = subprocess.run(
        [
            *(_cli("sacrebleu"), str(paths["ref"]), "-i", str(paths["hyp"]), "-m", "bleu", "chrf"),
            *("-tok", "flores101", "--chrf-word-order", "2", "--format", "json", "-w", "6"),
        ],
        cwd=tmp_path,
        env=subprocess_env,
        capture_output=True,
        text=True,
        check=True,
    )
    cli = {entry["name"]: entry for entry in json.loads(out.stdout)}
    assert ours.score == pytest.approx(float(cli["BLEU"]["score"]), abs=1e-6)
    assert 10 < ours.score < 90  # a real overlap: the comparison means something
    # the CLI's corpus BLEU has no effective order; every n-gram order matches here, so scores agree
    assert ours.signature == cli["BLEU"]["signature"].replace("eff:no", "eff:yes")
    assert "tok:flores101" in ours.signature
    assert chrf.score == pytest.approx(float(cli["chrF2++"]["score"]), abs=1e-6)
    assert chrf.signature == cli["chrF2++"]["signature"]
    # the test model really tokenizes differently from the 13a default
    assert ours.score != pytest.approx(
        get_metrics()["spbleu"](tokenize="13a").corpus_score(system["hyp"], refs).score
    )


def test_comet_metric_segments_statistics_and_one_load(system, tiny_comet):
    """The metric's numbers are the model's segment scores (outer whitespace stripped, as comet-score
    reads files), ×100 as statistics; the model loads once per process. Parity with unbabel-comet
    itself is tests/plugins/metrics/test_comet_parity.py."""
    from xllm_harness.plugins.metrics import comet as comet_plugin
    from xllm_harness.plugins.metrics.comet.predict import predict

    metric = get_metrics()["comet"](model=str(tiny_comet), batch_size=8)
    refs = [[r] for r in system["ref"]]
    ours = metric.corpus_score(system["hyp"], refs, sources=system["src"])
    stats = metric.statistics(system["hyp"], refs, sources=system["src"])
    samples = [
        {"src": s.strip(), "mt": h.strip(), "ref": r.strip()}
        for s, h, r in zip(system["src"], system["hyp"], system["ref"], strict=True)
    ]
    scorer = comet_plugin.load_model(str(tiny_comet))
    direct = predict(scorer, samples, max_tokens=512, progress=False)["scores"]
    assert ours.extra["segments"] == pytest.approx(direct, abs=1e-6)
    assert ours.score == pytest.approx(100 * sum(direct) / len(direct), abs=1e-4)
    assert stats.shape == (len(direct), 1)
    assert stats[:, 0] == pytest.approx([100 * c for c in direct], abs=1e-4)
    assert metric.score_from_statistics(stats.sum(axis=0), len(stats)) == pytest.approx(ours.score)
    assert len(set(round(s, 6) for s in direct)) > 1  # segment scores differ: not a constant model
    assert ours.signature == f"model:{tiny_comet}|nrefs:1|precision:fp32|scale:100|version:xllm-comet-1"
    # loaded once per process, whatever the number of calls
    get_metrics()["comet"](model=str(tiny_comet)).corpus_score(["a"], [["b"]], sources=["c"])
    key = str((tiny_comet / "checkpoints" / "model.ckpt").resolve())
    assert comet_plugin.LOADS.count(key) == 1


@pytest.mark.slow
def test_bleurt_references_first_and_truncation(tiny_bleurt, system):
    from xllm_harness.plugins.metrics import bleurt as bleurt_plugin
    from xllm_harness.plugins.metrics.bleurt.predict import score_pairs

    metric = get_metrics()["bleurt"](model=str(tiny_bleurt), batch_size=4)
    refs = [[r] for r in system["ref"][:10]]
    result = metric.corpus_score(system["hyp"][:10], refs)
    net, encoder = bleurt_plugin.load_model(str(tiny_bleurt))
    # one pair at a time, reference first
    manual = [
        score_pairs(net, encoder, [r[0]], [h], progress=False)[0]
        for h, r in zip(system["hyp"][:10], refs, strict=True)
    ]
    swapped = score_pairs(net, encoder, [system["hyp"][0]], [refs[0][0]], progress=False)[0]
    assert result.extra["segments"] == pytest.approx(manual, abs=1e-5)
    assert result.score == pytest.approx(100 * sum(manual) / len(manual), abs=1e-3)
    stats = metric.statistics(system["hyp"][:10], refs)
    assert stats[:, 0] == pytest.approx([100 * m for m in manual], abs=1e-3)
    assert swapped != pytest.approx(manual[0], abs=1e-3)  # order matters, so the test above can fail
    # inputs longer than 512 tokens are truncated rather than failing
    long = " ".join(system["ref"]) * 3
    assert len(encoder.encode_pairs([long], [long], 10**6)[0][0]) > 512
    assert len(encoder.encode_pairs([long], [long], 512)[0][0]) == 512
    assert isinstance(metric.corpus_score([long], [[long]]).score, float)
    assert bleurt_plugin.LOADS.count(str(Path(tiny_bleurt).resolve())) == 1


def test_spbleu_missing_tokenizer_model_names_exact_path(tmp_path, monkeypatch):
    from sacrebleu.tokenizers import tokenizer_spm

    monkeypatch.setattr(tokenizer_spm, "SACREBLEU_DIR", str(tmp_path / "sb"))
    with pytest.raises(MissingMetricModelError) as err:
        get_metrics()["spbleu"]().corpus_score(["a b"], [["a b"]])
    message = str(err.value)
    assert str(tmp_path / "sb" / "models" / SPM_NAME) in message
    assert "sacrebleu_tokenizer_spm.model" in message and "https://dl.fbaipublicfiles.com" in message
    assert "docs/offline-models.md" in message


def test_comet_missing_models(tmp_path):
    comet = get_metrics()["comet"]
    with pytest.raises(MissingMetricModelError, match=r"checkpoints/model\.ckpt and .*hparams\.yaml"):
        comet(model=str(tmp_path / "nowhere")).corpus_score(["a"], [["b"]], sources=["c"])
    (tmp_path / "half" / "checkpoints").mkdir(parents=True)
    (tmp_path / "half" / "checkpoints" / "model.ckpt").write_bytes(b"x")
    with pytest.raises(MissingMetricModelError, match=r"hparams\.yaml"):
        comet(model=str(tmp_path / "half")).corpus_score(["a"], [["b"]], sources=["c"])
    with pytest.raises(MissingMetricModelError) as err:  # hub id, offline (autouse fixture)
        comet(model="Unbabel/no-such-comet-model").corpus_score(["a"], [["b"]], sources=["c"])
    assert "huggingface-cli download Unbabel/no-such-comet-model" in str(err.value)
    assert "Hugging Face cache" in str(err.value)
    with pytest.raises(ValueError, match="source"):
        comet(model=str(tmp_path)).corpus_score(["a"], [["b"]])


def test_bleurt_missing_models(tmp_path):
    bleurt = get_metrics()["bleurt"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(MissingMetricModelError, match=r"config\.json"):
        bleurt(model=str(tmp_path / "empty")).corpus_score(["a"], [["b"]])
    with pytest.raises(MissingMetricModelError, match="huggingface-cli download lucadiliello/BLEURT-20"):
        bleurt().corpus_score(["a"], [["b"]])


def test_reference_count_checked():
    with pytest.raises(ValueError, match="3 hypotheses but 2 reference lists"):
        get_metrics()["chrf"]().corpus_score(["a", "b", "c"], [["a"], ["b"]])
