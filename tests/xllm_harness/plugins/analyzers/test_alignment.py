"""Representation alignment per layer (Figure 5): retrieval accuracy and 2-D projections."""

from __future__ import annotations

import csv
import json
import time

import numpy as np
import pytest

from xllm_harness.cli import main
from xllm_harness.plugins.analyzers.alignment import layer_alignment, pca_2d


def test_layer_alignment_and_pca_on_synthetic_vectors():
    rng = np.random.default_rng(0)
    en = rng.normal(size=(40, 8))
    reps = {"en": en, "same": en * 2.0, "shifted": en + 10.0, "noise": rng.normal(size=(40, 8))}
    result = layer_alignment(reps, "en")["languages"]
    assert result["same"]["retrieval_to_pivot"] == result["same"]["retrieval_from_pivot"] == 1.0
    assert result["noise"]["retrieval_to_pivot"] < 0.2
    # a language-specific offset hides the translations from cosine retrieval ...
    assert result["shifted"]["retrieval_to_pivot"] < 0.5
    # ... until each language's mean is removed
    assert layer_alignment(reps, "en", center="language")["languages"]["shifted"]["retrieval_to_pivot"] == 1.0
    points = np.concatenate([rng.normal(size=(30, 5)) * [10, 3, 1, 0.1, 0.1]])
    coords, ratio = pca_2d(points)
    assert coords.shape == (30, 2) and ratio[0] > ratio[1] > 0 and ratio.sum() < 1
    assert abs(np.corrcoef(coords[:, 0], points[:, 0])[0, 1]) > 0.95


@pytest.mark.slow
def test_alignment_on_tiny_model_with_bundled_samples(tiny_model, samples_dir, english_copy, tmp_path):
    out = tmp_path / "out"
    args = ["analyze", "alignment", "--model", str(tiny_model), "--data-dir", str(samples_dir)]
    args += [
        "--languages",
        f"ar,el,hi,tr,vi,zh,{english_copy}",
        "--sentences",
        "20",
        "--plot-layers",
        "0,last",
    ]
    assert main([*args, "--device", "cpu", "-o", str(out)]) == 0
    doc = json.loads((out / "alignment.json").read_text())
    assert doc["n_layers"] == 3 and doc["n_sentences"] == 20 and doc["chance"] == 0.05
    assert len(doc["languages"]) == 8 and set(doc["pca_explained_variance"]) == {"0", "2"}
    for layer in doc["per_layer"]:
        assert layer["languages"]["enx"]["retrieval_to_pivot"] == 1.0
        assert 0 <= layer["mean_retrieval"] <= 1
    rows = list(csv.DictReader((out / "alignment.csv").open()))
    assert len(rows) == 3 * 7
    pca_rows = list(csv.DictReader((out / "alignment_pca.csv").open()))
    assert len(pca_rows) == 2 * 8 * 20
    # identical sentences project to identical points
    by_key = {(r["layer"], r["language"], r["sentence"]): (r["pc1"], r["pc2"]) for r in pca_rows}
    assert by_key[("2", "enx", "7")] == by_key[("2", "en", "7")]
    for name in ("alignment_layers.png", "alignment_pca.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_alignment_100_sentences_7_languages_real_flores(tiny_model, shared_data, tmp_path, capsys):
    out = tmp_path / "out"
    start = time.perf_counter()
    args = ["analyze", "alignment", "--model", str(tiny_model), "--data-dir", str(shared_data)]
    assert main([*args, "--device", "cpu", "-o", str(out)]) == 0
    elapsed = time.perf_counter() - start
    doc = json.loads((out / "alignment.json").read_text())
    assert doc["n_sentences"] == 100 and len(doc["languages"]) == 7
    # shared subwords (names, numbers) make some translations findable even for a random model
    assert doc["per_layer"][0]["mean_retrieval"] > doc["chance"]
    print(f"alignment 100 x 7 on the tiny model: {elapsed:.1f} s")  # shown with -s; budget: under a minute


def test_bad_layer_is_reported(tiny_model, samples_dir, tmp_path, capsys):
    args = [
        "analyze",
        "alignment",
        "--model",
        str(tiny_model),
        "--data-dir",
        str(samples_dir),
        "--sentences",
        "4",
    ]
    assert main([*args, "--languages", "ar", "--plot-layers", "7", "-o", str(tmp_path)]) == 2
    assert "layer 7 out of range" in capsys.readouterr().err


def test_figures_have_a_legend_on_every_panel_and_no_paths(tmp_path):
    from matplotlib.text import Text

    from xllm_harness.plugins.analyzers.alignment import Alignment

    rng = np.random.default_rng(0)
    codes, n = ["en", "ar", "zh"], 10
    reps = {code: rng.normal(size=(n, 6)) for code in codes}
    projections = {}
    for layer in (0, 2):
        coords, ratio = pca_2d(np.concatenate([reps[c] for c in codes]))
        projections[layer] = {"coords": coords, "explained": ratio.tolist()}
    model = str(tmp_path / "models" / "tiny-llama")
    pca = Alignment.pca_figure(projections, codes, n, model)
    assert len(pca.axes) == 2
    for ax in pca.axes:
        assert ax.get_legend() is not None
        assert [t.get_text() for t in ax.get_legend().get_texts()] == codes
        assert ax.get_xlabel() == "PC1" and ax.get_ylabel() == "PC2"
    per_layer = [layer_alignment(reps, "en") for _ in range(3)]
    document = {"n_layers": 3, "per_layer": per_layer, "chance": 0.1, "pivot": "en", "model": model}
    layers = Alignment.layers_figure(document)
    assert layers.axes[0].get_legend_handles_labels()[1] == ["ar", "zh", "mean", "chance"]
    for fig in (pca, layers):
        texts = [t.get_text() for t in fig.findobj(Text)]
        texts.append(fig.get_suptitle())
        assert any("tiny-llama" in t for t in texts)
        assert not any(str(tmp_path) in t for t in texts)
