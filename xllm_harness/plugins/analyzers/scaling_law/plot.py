"""The scaling-law figure (like the paper's Figure 3): points, fitted curves, targets."""

from __future__ import annotations

from typing import Any

from xllm_harness.analysis.scaling import PowerLaw
from xllm_harness.analyzers import count_axis, pyplot
from xllm_harness.plugins.analyzers.scaling_law.inputs import Point

FORMULA = r"$S(X) = 100 - \alpha\,(\gamma X)^{\beta}$"


def score_label(points: list[Point], score_scale: float = 1.0) -> str:
    """The y-axis label: the metric(s) the points measure, and the scale applied to them."""
    metrics = sorted({p.metric for p in points if p.metric})
    name = " / ".join(metrics) if metrics else "score"
    scaled = f" × {score_scale:g}" if score_scale != 1.0 else ""
    return f"{name}{scaled} (S, 0–100)"


def figure(by_lang: dict[str, list[Point]], laws: dict[str, dict[str, Any]], ylabel: str):
    """A matplotlib figure: each language's points, its fitted law (legend, mathtext), its target (★)."""
    import numpy as np

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.8), layout="constrained")
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (lang, points) in enumerate(by_lang.items()):
        color = colors[i % len(colors)]
        x = np.array([p.data_size for p in points])
        s = np.array([p.score for p in points])
        entry = laws[lang]
        law = PowerLaw(entry["alpha"], entry["beta"], entry["gamma"], lang)
        target = entry.get("target", {}).get("data_size") or 0
        grid = np.geomspace(x.min() / 1.5, max(x.max(), target) * 1.5, 200)
        label = f"{lang}: {law.mathtext()}"
        if entry.get("bad_fit"):
            label += " (bad fit)"
        ax.scatter(x, s, color=color, s=18, zorder=3)
        ax.plot(
            grid, law.score(grid), "--" if entry.get("bad_fit") else "-", lw=1.2, color=color, label=label
        )
        if target:
            ax.plot([target], [entry["target"]["score"]], "*", color=color, ms=11, zorder=4)
    if any(entry.get("target") for entry in laws.values()):
        ax.plot([], [], "*", color="grey", ms=11, label="data needed for the target")
    ax.set_xscale("log")
    count_axis(ax.xaxis)
    ax.set_xlabel("translation instruction examples X")
    ax.set_ylabel(ylabel)
    ax.set_title(f"Scaling law fit: {FORMULA}")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="lower right")
    return fig
