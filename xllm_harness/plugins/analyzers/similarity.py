"""``xllm analyze similarity``: language similarity γ ∈ (0, 1) to English from a model's representations.

The paper takes γ "following Pan et al. (2021) using multi-way translation data". Here, for any HF
causal LM: encode the same N FLORES-101 sentences in every language, mean-pool one layer (default:
the middle one, where Figure 5 finds languages aligning), centre the vectors on the mean over all
languages' sentences (removes the direction every sentence shares, the anisotropy that otherwise
makes every cosine ≈ 1), then for language X::

    c_X = mean_i cos(h_en(i), h_X(i))          # translations of the same sentence i
    γ_X = (1 + c_X) / 2                          # [-1, 1] → [0, 1], clipped into [1e-6, 1 − 1e-6]

``--measure retrieval`` uses instead the cross-lingual retrieval accuracy r_X (how often sentence
i's nearest neighbour among the English sentences is its translation, averaged over both
directions), mapped by ``γ_X = (r_X·N + 0.5) / (N + 1)`` so that it stays inside (0, 1).
The JSON lists γ for every layer too, and the full language × language matrix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from xllm_harness.analysis.representations import (
    ModelOptions,
    cosine_matrix,
    model_label,
    pivot_and_representations,
    resolve_layer,
    retrieval_accuracy,
)
from xllm_harness.analyzers import Analyzer, option, output_dir, pyplot, save_figure, write_csv, write_json
from xllm_harness.errors import InputError
from xllm_harness.hookspecs import hookimpl

EPS = 1e-6
MAPPINGS = {
    "cosine": "gamma = (1 + mean cosine of translation pairs) / 2, clipped to [1e-6, 1-1e-6]",
    "retrieval": "gamma = (retrieval accuracy * N + 0.5) / (N + 1)",
}


def centre(reps: dict, how: str) -> dict:
    """Subtract the mean vector over every language's sentences (``global``) or nothing (``none``)."""
    import numpy as np

    if how == "none":
        return reps
    if how != "global":
        raise InputError(f"--center must be 'global' or 'none', got {how!r}")
    mean = np.concatenate(list(reps.values()), axis=0).mean(0, keepdims=True)
    return {code: x - mean for code, x in reps.items()}


def pair_cosine(a, b) -> float:
    """Mean cosine between row i of ``a`` and row i of ``b`` (translation pairs)."""
    import numpy as np

    return float(np.mean(np.diag(cosine_matrix(a, b))))


def to_gamma(cos: float, retrieval: float, n: int, measure: str) -> float:
    if measure == "cosine":
        return min(max((1.0 + cos) / 2.0, EPS), 1.0 - EPS)
    return (retrieval * n + 0.5) / (n + 1)


def similarity_at_layer(
    reps: dict, pivot: str, center: str = "global", measure: str = "cosine"
) -> dict[str, Any]:
    """γ and its ingredients for one layer; ``reps`` maps language → ``[sentences, hidden]``."""
    if pivot not in reps:
        raise InputError(f"--pivot {pivot!r} is not among the languages ({', '.join(reps)})")
    if measure not in MAPPINGS:
        raise InputError(f"--measure must be one of {', '.join(MAPPINGS)}, got {measure!r}")
    reps = centre(reps, center)
    codes = list(reps)
    n = len(reps[pivot])
    matrix = [[pair_cosine(reps[a], reps[b]) for b in codes] for a in codes]
    per_lang: dict[str, dict[str, float]] = {}
    for code in codes:
        if code == pivot:
            continue
        to_pivot = retrieval_accuracy(reps[code], reps[pivot])
        from_pivot = retrieval_accuracy(reps[pivot], reps[code])
        cos = matrix[codes.index(code)][codes.index(pivot)]
        retrieval = (to_pivot + from_pivot) / 2
        per_lang[code] = {
            "gamma": to_gamma(cos, retrieval, n, measure),
            "mean_cosine": cos,
            "retrieval_to_pivot": to_pivot,
            "retrieval_from_pivot": from_pivot,
        }
    return {"languages": codes, "cosine_matrix": matrix, "per_language": per_lang}


class Similarity(Analyzer):
    name = "similarity"
    help = "language similarity gamma in (0,1) to English from a model's FLORES representations"
    description = """\
Language similarity gamma in (0, 1) to the pivot (English), the gamma of the paper's scaling law,
from any Hugging Face causal LM. The same N FLORES-101 sentences are encoded in every language, one
layer is mean-pooled (default: the middle one) and centred on the mean over all sentences; then

    c_X = mean over sentences i of cos(h_en(i), h_X(i))      (translations of the same sentence)
    gamma_X = (1 + c_X) / 2, clipped into (0, 1)

--measure retrieval maps the cross-lingual retrieval accuracy r_X instead:
gamma_X = (r_X * N + 0.5) / (N + 1). similarity.json lists gamma for every layer and the full
language x language matrix; 'xllm analyze scaling_law --gamma similarity.json' reads it."""
    example = """\
examples:
  xllm analyze similarity --model path/to/model --data-dir ~/data -o analysis/similarity
  xllm analyze similarity --model path/to/model --languages ar,hi,zh --layer last --measure retrieval"""

    @dataclass(kw_only=True)
    class Options(ModelOptions):
        sentences: int = option("first N multi-way sentences", default=997)
        layer: str = option("layer for gamma: index, first, middle or last", default="middle")
        center: str = option(
            "subtract the mean over every language's sentences first",
            default="global",
            choices=["global", "none"],
        )
        measure: str = option("what gamma maps from", default="cosine", choices=sorted(MAPPINGS))

    def run(self, options: Options) -> dict[str, Any]:
        out = output_dir(options.output)
        texts, reps, n_layers = pivot_and_representations(options)
        layer = resolve_layer(options.layer, n_layers)
        per_layer = [
            similarity_at_layer(
                {c: r[i] for c, r in reps.items()}, options.pivot, options.center, options.measure
            )
            for i in range(n_layers)
        ]
        chosen = per_layer[layer]
        gamma = {code: v["gamma"] for code, v in chosen["per_language"].items()}
        document = {
            "model": options.model,
            "pivot": options.pivot,
            "split": options.split,
            "n_sentences": len(texts[options.pivot]),
            "layer": layer,
            "n_layers": n_layers,
            "pooling": options.pooling,
            "center": options.center,
            "measure": options.measure,
            "mapping": MAPPINGS[options.measure],
            "gamma": gamma,
            "per_language": chosen["per_language"],
            "matrix": {"languages": chosen["languages"], "mean_cosine": chosen["cosine_matrix"]},
            "gamma_per_layer": {
                code: [pl["per_language"][code]["gamma"] for pl in per_layer]
                for code in chosen["per_language"]
            },
        }
        rows = [{"language": code, **values} for code, values in chosen["per_language"].items()]
        files = {
            "json": str(write_json(out / "similarity.json", document)),
            "csv": str(write_csv(out / "similarity.csv", rows)),
            "png": str(save_figure(self.figure(document), out / "similarity.png")),
        }
        for code, value in gamma.items():
            print(f"{code}: gamma={value:.4f}  (layer {layer}, {options.measure}, pivot {options.pivot})")
        return {"gamma": gamma, "layer": layer, "files": files}

    @staticmethod
    def figure(document: dict[str, Any]):
        """Heatmap of translation-pair cosines (diagonal masked, colours scaled to the other cells)
        and gamma by layer."""
        import numpy as np
        from matplotlib.ticker import MaxNLocator

        plt = pyplot()
        codes = document["matrix"]["languages"]
        matrix = np.array(document["matrix"]["mean_cosine"], dtype=float)
        off = ~np.eye(len(codes), dtype=bool)
        low, high = float(matrix[off].min()), float(matrix[off].max())
        fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11.5, 4.4), layout="constrained")
        cmap = plt.get_cmap("viridis").with_extremes(bad="0.88")
        image = ax.imshow(np.ma.masked_array(matrix, mask=~off), cmap=cmap, vmin=low, vmax=high)
        ax.set_xticks(range(len(codes)), codes)
        ax.set_yticks(range(len(codes)), codes)
        middle = 0.5 * (low + high)
        for i in range(len(codes)):
            for j in range(len(codes)):
                shade = "k" if i == j or matrix[i, j] > middle else "w"
                ax.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", fontsize=7, color=shade)
        ax.set_title(f"mean cosine of translations, layer {document['layer']} (diagonal: same language)")
        fig.colorbar(image, ax=ax, shrink=0.85, label="mean cosine (off-diagonal range)")
        for code, values in document["gamma_per_layer"].items():
            ax2.plot(range(len(values)), values, marker="o", ms=3, label=code)
        ax2.axvline(document["layer"], color="k", ls=":", lw=1, label=f"layer used ({document['layer']})")
        ax2.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax2.set_xlabel("layer (0 = embeddings)")
        ax2.set_ylabel(f"gamma (similarity to {document['pivot']})")
        ax2.set_title(f"gamma by layer ({document['measure']})")
        ax2.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
        fig.suptitle(f"Language similarity from {model_label(document['model'])}", fontsize=10)
        return fig


@hookimpl
def xllm_analyzers() -> list[type[Analyzer]]:
    return [Similarity]
