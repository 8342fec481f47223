"""``xllm analyze allocator``: split a translation-data budget across languages (paper §3.3, Table 4).

Maximises the mean predicted score ``(1/n)·Σ S_i(X_i)`` subject to ``Σ X_i = C`` and
``0 ≤ X_i ≤ Xmax_i``, with the laws fitted by ``xllm analyze scaling_law`` (``--laws laws.json``).
The solver is exact water-filling on the KKT multiplier (:mod:`xllm_harness.allocation`). For every
``--budget`` it prints the uniform and the optimized allocation with their predicted scores side by
side, and writes ``allocation_<budget>.json``, the file the trainer's data builder reads.
Availability defaults to the paper's Table 1 (WikiMatrix + NewsCommentary) for ar/el/hi/tr/vi/zh.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from xllm_harness import allocation as alloc
from xllm_harness.analyzers import Analyzer, output_dir, pyplot, save_figure, write_csv, write_json
from xllm_harness.errors import InputError, MissingFileError
from xllm_harness.hookspecs import hookimpl
from xllm_harness.scaling import read_laws


def read_availability(values: list[str] | None) -> dict[str, float]:
    """``--availability``: ``paper`` (Table 1), a JSON file ``{lang: n}``, or ``LANG=N`` pairs; later wins."""
    table: dict[str, float] = {}
    for value in values or ["paper"]:
        for item in str(value).split(","):
            item = item.strip()
            if not item:
                continue
            if item == "paper":
                table.update({k: float(v) for k, v in alloc.PAPER_AVAILABILITY.items()})
            elif item.endswith(".json"):
                path = Path(item)
                if not path.is_file():
                    raise MissingFileError(f"--availability file {path} not found")
                data = json.loads(path.read_text(encoding="utf-8"))
                data = data.get("availability", data) if isinstance(data, dict) else data
                if not isinstance(data, dict):
                    raise InputError(f"--availability file {path}: expected {{language: examples}}")
                table.update({k: alloc.parse_count(v) for k, v in data.items()})
            elif "=" in item:
                lang, _, count = item.partition("=")
                try:
                    table[lang.strip()] = alloc.parse_count(count)
                except ValueError as err:
                    raise InputError(f"--availability {item!r}: {err}") from None
            else:
                raise InputError(f"--availability {item!r}: expected 'paper', a .json file or LANG=N")
    return table


class Allocator(Analyzer):
    name = "allocator"
    help = "optimal translation-data budget per language from fitted scaling laws (paper §3.3, Table 4)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--laws", required=True, help="laws.json from `xllm analyze scaling_law`")
        parser.add_argument(
            "--budget",
            action="append",
            required=True,
            help="total examples C (300000, 300k, 1.2M); repeatable",
        )
        parser.add_argument(
            "--availability",
            action="append",
            metavar="A",
            help="Xmax per language: 'paper' (Table 1, default), a JSON file, or LANG=N / LANG=inf (repeatable)",
        )
        parser.add_argument("--languages", default=None, help="comma-separated subset of the laws' languages")

    def run(self, args: argparse.Namespace) -> dict[str, Any]:
        out = output_dir(args.output)
        laws = read_laws(args.laws)
        if args.languages:
            wanted = [c.strip() for c in args.languages.split(",") if c.strip()]
            missing = [c for c in wanted if c not in laws]
            if missing:
                raise InputError(
                    f"--languages: no law for {', '.join(missing)} in {args.laws} (has {', '.join(laws)})"
                )
            laws = {c: laws[c] for c in wanted}
        caps = read_availability(args.availability)
        caps_used = {lang: caps.get(lang) for lang in laws}
        budgets = []
        for value in args.budget:
            budget = alloc.parse_count(value)
            if budget != int(budget):
                raise InputError(f"--budget {value!r}: a budget counts examples; give a whole number")
            budgets.append(int(budget))
        results = []
        rows = []
        files: dict[str, str] = {}
        for budget in budgets:
            entry: dict[str, Any] = {"budget": budget}
            for strategy, solve in (("uniform", alloc.uniform), ("optimized", alloc.water_fill)):
                shares = solve(laws, budget, caps)
                counts = alloc.to_counts(shares, budget, caps)
                predicted = {lang: float(laws[lang].score(n)) for lang, n in counts.items()}
                entry[strategy] = {
                    "allocation": counts,
                    "predicted": predicted,
                    "predicted_mean": sum(predicted.values()) / len(predicted),
                }
                rows += [
                    {
                        "budget": budget,
                        "strategy": strategy,
                        "language": lang,
                        "examples": n,
                        "predicted": predicted[lang],
                    }
                    for lang, n in counts.items()
                ]
            best = entry["optimized"]
            document = {
                "budget": budget,
                "allocation": best["allocation"],
                "laws": {lang: law.to_dict() for lang, law in laws.items()},
                "availability": caps_used,
                "predicted": best["predicted"],
                "predicted_mean": best["predicted_mean"],
                "strategy": "optimized",
                "laws_file": str(args.laws),
            }
            files[f"allocation_{budget}"] = str(
                alloc.write_allocation(out / f"allocation_{budget}.json", document)
            )
            results.append(entry)
        print(self._table(results, list(laws)))
        files["json"] = str(
            write_json(out / "allocator.json", {"availability": caps_used, "budgets": results})
        )
        files["csv"] = str(write_csv(out / "allocator.csv", rows))
        files["png"] = str(self._plot(out / "allocator.png", results, list(laws)))
        return {"budgets": results, "files": files}

    @staticmethod
    def _table(results: list[dict[str, Any]], langs: list[str]) -> str:
        """Table 4 layout: allocation / predicted score per language, then the mean."""
        cells = [["budget", "strategy", *langs, "mean S"]]
        for entry in results:
            base = entry["uniform"]["predicted_mean"]
            for strategy in ("uniform", "optimized"):
                part = entry[strategy]
                mean = f"{part['predicted_mean']:.2f}"
                if strategy == "optimized":
                    mean += f" ({part['predicted_mean'] - base:+.2f})"
                cells.append(
                    [
                        f"{entry['budget']:,}" if strategy == "uniform" else "",
                        strategy,
                        *(f"{part['allocation'][lang]:,} / {part['predicted'][lang]:.2f}" for lang in langs),
                        mean,
                    ]
                )
        widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
        lines = ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "examples / predicted score per language\n" + "\n".join(lines)

    @staticmethod
    def _plot(path: Path, results: list[dict[str, Any]], langs: list[str]) -> Path:
        import numpy as np

        plt = pyplot()
        fig, axes = plt.subplots(
            1, len(results), figsize=(5.5 * len(results), 3.8), squeeze=False, layout="constrained"
        )
        pos = np.arange(len(langs))
        for ax, entry in zip(axes[0], results, strict=True):
            for offset, strategy, color in ((-0.2, "uniform", "#999999"), (0.2, "optimized", "#1f77b4")):
                part = entry[strategy]
                ax.bar(
                    pos + offset,
                    [part["allocation"][lang] for lang in langs],
                    width=0.4,
                    color=color,
                    label=f"{strategy} (mean S {part['predicted_mean']:.2f})",
                )
            ax.set_xticks(pos, langs)
            ax.set_title(f"budget {entry['budget']:,}")
            ax.set_ylabel("examples")
            ax.legend(fontsize=8)
        return save_figure(fig, path)


@hookimpl
def xllm_analyzers() -> list[type[Analyzer]]:
    return [Allocator]
