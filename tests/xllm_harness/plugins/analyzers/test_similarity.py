"""Language similarity γ from a model's representations of multi-way FLORES text."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from xllm_harness.cli import main
from xllm_harness.plugins.analyzers.similarity import EPS, similarity_at_layer


def test_gamma_mapping_on_synthetic_embeddings():
    rng = np.random.default_rng(0)
    en = rng.normal(size=(50, 16))
    reps = {
        "en": en,
        "near": en + rng.normal(scale=0.1, size=en.shape),  # translations close to English
        "far": rng.normal(size=en.shape),  # unrelated vectors
        "opposite": -en,
    }
    cos = similarity_at_layer(reps, "en", center="none", measure="cosine")["per_language"]
    assert cos["near"]["gamma"] > 0.95 and cos["near"]["retrieval_to_pivot"] == 1.0
    assert abs(cos["far"]["gamma"] - 0.5) < 0.05 and cos["far"]["retrieval_to_pivot"] < 0.2
    assert cos["opposite"]["gamma"] == EPS  # cosine -1 maps to the open interval's edge
    ret = similarity_at_layer(reps, "en", center="none", measure="retrieval")["per_language"]
    assert ret["near"]["gamma"] == pytest.approx(50.5 / 51)
    assert all(0 < v["gamma"] < 1 for v in ret.values())
    with pytest.raises(ValueError, match="--pivot 'xx'"):
        similarity_at_layer(reps, "xx")


@pytest.mark.slow
def test_similarity_on_tiny_model_with_bundled_samples(tiny_model, samples_dir, english_copy, tmp_path):
    out = tmp_path / "out"
    args = ["analyze", "similarity", "--model", str(tiny_model), "--languages", f"ar,vi,{english_copy}"]
    args += ["--data-dir", str(samples_dir), "--sentences", "20", "--device", "cpu", "-o", str(out)]
    assert main(args) == 0
    doc = json.loads((out / "similarity.json").read_text())
    assert doc["n_sentences"] == 20 and doc["layer"] == 1 and doc["n_layers"] == 3
    gamma = doc["gamma"]
    assert set(gamma) == {"ar", "vi", "enx"}
    assert gamma["enx"] == pytest.approx(1 - EPS)  # identical text → identical representations
    assert doc["per_language"]["enx"]["retrieval_to_pivot"] == 1.0
    assert all(0 < gamma[c] < gamma["enx"] for c in ("ar", "vi"))
    assert all(len(v) == 3 for v in doc["gamma_per_layer"].values())
    rows = list(csv.DictReader((out / "similarity.csv").open()))
    assert {r["language"] for r in rows} == set(gamma)
    assert (out / "similarity.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_similarity_on_real_flores_dev(tiny_model, shared_data, tmp_path):
    out = tmp_path / "out"
    args = ["analyze", "similarity", "--model", str(tiny_model), "--data-dir", str(shared_data)]
    assert main([*args, "--sentences", "100", "--device", "cpu", "-o", str(out)]) == 0
    doc = json.loads((out / "similarity.json").read_text())
    assert doc["n_sentences"] == 100 and set(doc["gamma"]) == {"ar", "el", "hi", "tr", "vi", "zh"}
    assert all(0 < g < 1 for g in doc["gamma"].values())
    # Latin-script languages share subword tokens (names, numbers) with English: even a random
    # model's pooled representations put them closer to English than the other scripts.
    gamma = doc["gamma"]
    assert min(gamma["tr"], gamma["vi"]) > max(gamma["ar"], gamma["el"], gamma["hi"], gamma["zh"])


def test_similarity_errors(tiny_model, samples_dir, tmp_path, capsys):
    base = [
        "analyze",
        "similarity",
        "--model",
        str(tiny_model),
        "--data-dir",
        str(samples_dir),
        "-o",
        str(tmp_path),
    ]
    assert main([*base, "--languages", "ar,xx"]) == 2
    assert "unknown language 'xx'" in capsys.readouterr().err
    assert main([*base, "--languages", "ar", "--data-dir", str(tmp_path / "nowhere")]) == 2
    assert "FLORES file" in capsys.readouterr().err


def test_heatmap_colours_exclude_the_diagonal(tmp_path):
    from matplotlib.text import Text

    from xllm_harness.plugins.analyzers.similarity import Similarity

    matrix = [[1.0, 0.42, 0.30], [0.42, 1.0, 0.55], [0.30, 0.55, 1.0]]
    document = {
        "model": str(tmp_path / "checkpoints" / "tiny-coit"),
        "pivot": "en",
        "layer": 1,
        "measure": "cosine",
        "matrix": {"languages": ["en", "ar", "zh"], "mean_cosine": matrix},
        "gamma_per_layer": {"ar": [0.6, 0.71, 0.65], "zh": [0.55, 0.65, 0.6]},
    }
    fig = Similarity.figure(document)
    heatmap, by_layer = fig.axes[:2]
    image = heatmap.get_images()[0]
    assert image.get_clim() == (0.30, 0.55)  # the off-diagonal range, not [0.30, 1.0]
    assert list(np.ma.getmaskarray(image.get_array()).diagonal()) == [True, True, True]
    assert [t.get_text() for t in heatmap.get_xticklabels()] == ["en", "ar", "zh"]
    assert by_layer.get_ylabel() == "gamma (similarity to en)"
    assert set(by_layer.get_legend_handles_labels()[1]) >= {"ar", "zh"}
    texts = [t.get_text() for t in fig.findobj(Text)] + [fig.get_suptitle()]
    assert "Language similarity from tiny-coit" in texts
    assert not any(str(tmp_path) in t or "/" in t for t in texts)
