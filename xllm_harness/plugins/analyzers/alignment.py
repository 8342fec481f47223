"""``xllm analyze alignment``: do languages share a representation space inside the model? (Figure 5)

Encodes N multi-way FLORES-101 sentences in every language with any HF causal LM and, for every
layer (0 = embeddings), reports the cross-lingual retrieval accuracy: how often a sentence's nearest
neighbour (cosine) among the pivot language's sentences is its own translation, and the other way
round (chance = 1/N). Aligned layers score high; layers where each language sits in its own region
score near chance. For the layers in ``--plot-layers`` it draws a 2-D PCA projection of all
sentences, coloured by language, like the paper's Figure 5 (overlap = alignment).
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


def pca_2d(x):
    """Project rows of ``x`` onto their first two principal components: (coords, explained ratio)."""
    import numpy as np

    centred = x - x.mean(0, keepdims=True)
    _, sing, vt = np.linalg.svd(centred, full_matrices=False)
    var = sing**2
    ratio = var[:2] / var.sum() if var.sum() > 0 else np.zeros(2)
    return centred @ vt[:2].T, ratio


def layer_alignment(reps: dict, pivot: str, center: str = "none") -> dict[str, Any]:
    """Retrieval accuracy and translation-pair cosine per language for one layer (``[sentences, hidden]``)."""
    import numpy as np

    if center == "language":  # remove each language's mean: keeps only within-language variation
        reps = {c: x - x.mean(0, keepdims=True) for c, x in reps.items()}
    elif center != "none":
        raise InputError(f"--center must be 'none' or 'language', got {center!r}")
    out: dict[str, dict[str, float]] = {}
    for code, x in reps.items():
        if code == pivot:
            continue
        out[code] = {
            "retrieval_to_pivot": retrieval_accuracy(x, reps[pivot]),
            "retrieval_from_pivot": retrieval_accuracy(reps[pivot], x),
            "pair_cosine": float(np.mean(np.diag(cosine_matrix(x, reps[pivot])))),
        }
    mean = float(np.mean([(v["retrieval_to_pivot"] + v["retrieval_from_pivot"]) / 2 for v in out.values()]))
    return {"languages": out, "mean_retrieval": mean}


class Alignment(Analyzer):
    name = "alignment"
    help = "per-layer cross-lingual retrieval accuracy and 2-D projections of FLORES sentences (Figure 5)"
    description = """\
Do languages share a representation space inside the model? (the paper's Figure 5)

Encodes N multi-way FLORES-101 sentences in every language with any Hugging Face causal LM and, for
every layer (0 = embeddings), reports the cross-lingual retrieval accuracy: how often a sentence's
nearest neighbour (cosine) among the pivot language's sentences is its own translation, and the
other way round (chance = 1/N). Aligned layers score high; layers where each language sits in its
own region score near chance. For the layers in --plot-layers it draws a 2-D PCA projection of all
sentences, coloured by language (overlap = alignment)."""
    example = """\
examples:
  xllm analyze alignment --model path/to/model --data-dir ~/data -o analysis/alignment
  xllm analyze alignment --model path/to/model --sentences 200 --plot-layers 0,8,16,last"""

    @dataclass(kw_only=True)
    class Options(ModelOptions):
        plot_layers: str = option(
            "layers to project in 2-D (indices, first/middle/last)", default="first,middle,last"
        )
        center: str = option(
            "subtract each language's mean first (none: keep the language offset)",
            default="none",
            choices=["none", "language"],
        )

    def run(self, options: Options) -> dict[str, Any]:
        import numpy as np

        out = output_dir(options.output)
        plot_specs = [s.strip() for s in options.plot_layers.split(",") if s.strip()]
        texts, reps, n_layers = pivot_and_representations(options)
        plot_layers = sorted({resolve_layer(s, n_layers) for s in plot_specs})
        per_layer = [
            layer_alignment({c: r[i] for c, r in reps.items()}, options.pivot, options.center)
            for i in range(n_layers)
        ]
        rows = [
            {"layer": i, "language": code, **values}
            for i, layer in enumerate(per_layer)
            for code, values in layer["languages"].items()
        ]
        codes = list(reps)
        projections = {}
        pca_rows = []
        for layer in plot_layers:
            stacked = np.concatenate([reps[c][layer] for c in codes], axis=0)
            coords, ratio = pca_2d(stacked)
            projections[layer] = {"coords": coords, "explained": ratio.tolist()}
            n = len(texts[options.pivot])
            for k, code in enumerate(codes):
                for i in range(n):
                    pca_rows.append(
                        {
                            "layer": layer,
                            "language": code,
                            "sentence": i,
                            "pc1": coords[k * n + i, 0],
                            "pc2": coords[k * n + i, 1],
                        }
                    )
        best = int(np.argmax([layer["mean_retrieval"] for layer in per_layer]))
        document = {
            "model": options.model,
            "pivot": options.pivot,
            "split": options.split,
            "n_sentences": len(texts[options.pivot]),
            "languages": codes,
            "n_layers": n_layers,
            "pooling": options.pooling,
            "center": options.center,
            "chance": 1.0 / len(texts[options.pivot]),
            "best_layer": best,
            "per_layer": per_layer,
            "pca_explained_variance": {str(k): v["explained"] for k, v in projections.items()},
        }
        files = {
            "json": str(write_json(out / "alignment.json", document)),
            "csv": str(write_csv(out / "alignment.csv", rows)),
            "pca_csv": str(write_csv(out / "alignment_pca.csv", pca_rows)),
            "png": str(save_figure(self.layers_figure(document), out / "alignment_layers.png")),
            "pca_png": str(
                save_figure(
                    self.pca_figure(projections, codes, len(texts[options.pivot]), options.model),
                    out / "alignment_pca.png",
                )
            ),
        }
        for i, layer in enumerate(per_layer):
            print(f"layer {i:3d}: mean retrieval accuracy {layer['mean_retrieval']:.3f}")
        print(f"best layer {best} (chance {document['chance']:.3f})")
        return {
            "best_layer": best,
            "mean_retrieval": [layer["mean_retrieval"] for layer in per_layer],
            "files": files,
        }

    @staticmethod
    def layers_figure(document: dict[str, Any]):
        """Retrieval accuracy by layer: one line per language, their mean, and chance."""
        from matplotlib.ticker import MaxNLocator

        plt = pyplot()
        fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
        layers = range(document["n_layers"])
        for code in document["per_layer"][0]["languages"]:
            acc = [
                (pl["languages"][code]["retrieval_to_pivot"] + pl["languages"][code]["retrieval_from_pivot"])
                / 2
                for pl in document["per_layer"]
            ]
            ax.plot(layers, acc, marker="o", ms=3, lw=1, label=code)
        ax.plot(layers, [pl["mean_retrieval"] for pl in document["per_layer"]], "k-", lw=2, label="mean")
        ax.axhline(document["chance"], color="grey", ls=":", lw=1, label="chance")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("layer (0 = embeddings)")
        ax.set_ylabel(f"retrieval accuracy with {document['pivot']}")
        ax.set_ylim(0, 1.02)
        ax.set_title(f"cross-lingual retrieval of translations by layer: {model_label(document['model'])}")
        ax.legend(fontsize=7, ncol=2)
        return fig

    @staticmethod
    def pca_figure(projections: dict, codes: list[str], n: int, model: str):
        """One 2-D PCA panel per plotted layer, every panel with its legend of languages."""
        plt = pyplot()
        fig, axes = plt.subplots(
            1, len(projections), figsize=(4.2 * len(projections), 4.4), squeeze=False, layout="constrained"
        )
        for ax, (layer, proj) in zip(axes[0], sorted(projections.items()), strict=True):
            for k, code in enumerate(codes):
                xy = proj["coords"][k * n : (k + 1) * n]
                ax.scatter(xy[:, 0], xy[:, 1], s=8, alpha=0.7, label=code)
            ax.set_title(f"layer {layer} (PC1+2: {sum(proj['explained']):.0%} of variance)", fontsize=9)
            ax.set_xlabel("PC1")
            ax.set_ylabel("PC2")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.legend(fontsize=7, markerscale=2, loc="best", ncol=2)
        fig.suptitle(f"2-D PCA of sentence representations: {model_label(model)}", fontsize=10)
        return fig


@hookimpl
def xllm_analyzers() -> list[type[Analyzer]]:
    return [Alignment]
