"""The scaling-law figure: the formula in mathtext, the metric on the axis, one legend entry per law."""

from __future__ import annotations

import numpy as np
from matplotlib.text import Text

from xllm_harness.analysis.scaling import PowerLaw
from xllm_harness.plugins.analyzers.scaling_law import plot
from xllm_harness.plugins.analyzers.scaling_law.fit import FitSettings, fit_language
from xllm_harness.plugins.analyzers.scaling_law.inputs import Point

SIZES = [1e4, 1e5, 1e6]


def points_of(lang: str, law: PowerLaw, source: str) -> list[Point]:
    return [Point(lang, x, float(law.score(x)), source, "comet") for x in SIZES]


def test_figure_names_metric_formula_and_laws(tmp_path):
    source = f"{tmp_path / 'points.csv'} row 2"  # sources carry the file path: it must stay out of the figure
    by_lang = {
        "ar": points_of("ar", PowerLaw(95.0, -0.15, 0.5), source),
        "hi": [Point("hi", x, s, source, "comet") for x, s in zip(SIZES, [90.0, 85.0, 80.0], strict=True)],
    }
    laws = {
        lang: fit_language(
            lang, [p.data_size for p in pts], [p.score for p in pts], 0.5, FitSettings(0), 85.0
        )
        for lang, pts in by_lang.items()
    }
    points = [p for pts in by_lang.values() for p in pts]
    fig = plot.figure(by_lang, laws, plot.score_label(points, 100))
    ax = fig.axes[0]
    assert ax.get_ylabel() == "comet × 100 (S, 0–100)"
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "translation instruction examples X"
    assert r"$S(X) = 100 - \alpha\,(\gamma X)^{\beta}$" in ax.get_title()
    labels = ax.get_legend_handles_labels()[1]
    ar = PowerLaw(laws["ar"]["alpha"], laws["ar"]["beta"], 0.5)
    assert labels[0] == f"ar: {ar.mathtext()}" and labels[0].count("$") == 2
    assert labels[1].startswith("hi: $S = 100 - ") and labels[1].endswith("(bad fit)")
    assert labels[2] == "data needed for the target"
    assert ax.xaxis.get_major_formatter()(1e5, 0) == "100k"
    texts = [t.get_text() for t in fig.findobj(Text)]
    assert not any(str(tmp_path) in t for t in texts)


def test_score_label_without_a_metric():
    law = PowerLaw(95.0, -0.15, 0.5)
    points = [Point("ar", x, float(law.score(x)), "p.csv row 2") for x in np.array(SIZES)]
    assert plot.score_label(points) == "score (S, 0–100)"
