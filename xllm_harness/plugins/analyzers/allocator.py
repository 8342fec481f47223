"""``xllm analyze allocator``: split a translation-data budget across languages (paper §3.3, Table 4).

Maximises the mean predicted score ``(1/n)·Σ S_i(X_i)`` subject to ``Σ X_i = C`` and
``0 ≤ X_i ≤ Xmax_i``, with the laws fitted by ``xllm analyze scaling_law`` (``--laws laws.json``).
The solver is exact water-filling on the KKT multiplier (:mod:`xllm_harness.analysis.allocation`). For every
``--budget`` it prints the uniform and the optimized allocation with their predicted scores side by
side, and writes ``allocation_<budget>.json``, the file the trainer's data builder reads.
Availability defaults to the paper's Table 1 (WikiMatrix + NewsCommentary) for ar/el/hi/tr/vi/zh.
When the laws file carries the fit's bootstrap draws, every budget also gets intervals: each
language's optimal allocation, the predicted scores and the predicted gain over the uniform
allocation (:func:`xllm_harness.analysis.allocation.uncertainty`), in the files, the table and the figure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xllm_harness.analysis import allocation as alloc
from xllm_harness.analysis.scaling import PowerLaw, read_law_draws, read_laws, refuse_bad_fits
from xllm_harness.analyzers import (
    Analyzer,
    AnalyzerOptions,
    count_axis,
    format_count,
    option,
    output_dir,
    pyplot,
    save_figure,
    warn,
    write_csv,
    write_json,
)
from xllm_harness.errors import InputError, UnknownNameError, did_you_mean
from xllm_harness.hookspecs import hookimpl
from xllm_harness.results.jsonio import read_json, read_text


def read_availability(values: Sequence[str] | None) -> dict[str, float]:
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
                if Path(item).is_file():
                    read_text(item, "--availability file")  # UTF-8, or an error naming the line
                data = read_json(item, "--availability file")
                data = data.get("availability", data) if isinstance(data, dict) else data
                if not isinstance(data, dict):
                    raise InputError(f"--availability file {item}: expected {{language: examples}}")
                table.update({k: _count(v, f"--availability file {item}: {k}") for k, v in data.items()})
            elif "=" in item:
                lang, _, count = item.partition("=")
                try:
                    table[lang.strip()] = alloc.parse_count(count)
                except ValueError as err:
                    raise InputError(f"--availability {item!r}: {err}") from None
            else:
                raise InputError(f"--availability {item!r}: expected 'paper', a .json file or LANG=N")
    return table


def _count(value: object, where: str) -> float:
    """A number of examples from a JSON value (a number or ``"300k"``, ``"inf"``; not a boolean)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InputError(f"{where}: {value!r} is not a number of examples")
    try:
        count = alloc.parse_count(value)
    except ValueError as err:
        raise InputError(f"{where}: {err}") from None
    if math.isnan(count) or count < 0:
        raise InputError(f"{where}: {value!r} is not a number of examples")
    return count


class Allocator(Analyzer):
    name = "allocator"
    help = "optimal translation-data budget per language from fitted scaling laws (paper §3.3, Table 4)"
    description = """\
Split a budget of C translation examples across languages to maximise the mean predicted score
(1/n) * sum S_i(X_i), subject to sum X_i = C and 0 <= X_i <= Xmax_i (paper section 3.3, Table 4).
The laws come from 'xllm analyze scaling_law' (laws.json); laws that the fit marked as bad are
refused unless --allow-bad-fits. The solver is exact water-filling on the KKT multiplier. For each
--budget it prints the uniform and the optimized allocation with their predicted scores, and writes
allocation_<C>.json, the file 'xllm train --allocation' reads. Availability Xmax defaults to the
paper's Table 1 (WikiMatrix + NewsCommentary) for ar, el, hi, tr, vi and zh. With the fit's
bootstrap draws in laws.json, the optimisation is repeated under every draw: intervals for each
language's allocation, the predicted mean score and the predicted gain over uniform."""
    example = """\
examples:
  xllm analyze allocator --laws analysis/scaling_law/laws.json --budget 300k --budget 1.2M
  xllm analyze allocator --laws laws.json --budget 500k --availability paper --availability sw=80k"""

    @dataclass(kw_only=True)
    class Options(AnalyzerOptions):
        laws: str = option("laws.json from 'xllm analyze scaling_law'")
        budget: tuple[str, ...] = option("total examples C (300000, 300k, 1.2M); repeatable")
        availability: tuple[str, ...] | None = option(
            "Xmax per language: 'paper' (Table 1, the default), a JSON file {lang: n}, "
            "or LANG=N / LANG=inf (repeatable, later wins)",
            default=None,
            metavar="A",
        )
        languages: str | None = option(
            "comma-separated subset of the laws' languages (default: all)", default=None
        )
        allow_bad_fits: bool = option(
            "use laws the fit marked as bad (R2 < 0, beta on a bound); they are flagged in the outputs",
            default=False,
        )
        confidence: float = option(
            "level of the intervals from the laws' bootstrap draws (default: %(default)s)", default=0.95
        )

    def run(self, options: Options) -> dict[str, Any]:
        out = output_dir(options.output)
        laws = self._laws(options)
        caps = read_availability(options.availability)
        caps_used = {lang: caps.get(lang) for lang in laws}
        bad_fits = {lang: law.bad_fit for lang, law in laws.items() if law.bad_fit}
        for lang, reason in bad_fits.items():
            warn(f"{lang}: using a law marked as a bad fit (--allow-bad-fits): {reason}")
        draws = read_law_draws(options.laws, list(laws))
        if draws is None:
            warn(
                f"{options.laws} holds no bootstrap draws for every law: no intervals (fit with --bootstrap N)"
            )
        results = [
            self.solve(laws, budget, caps, draws, options.confidence)
            for budget in self._budgets(options.budget)
        ]
        files = {
            f"allocation_{entry['budget']}": str(
                alloc.write_allocation(
                    out / f"allocation_{entry['budget']}.json",
                    self._allocation_document(entry, laws, caps_used, bad_fits, options.laws),
                )
            )
            for entry in results
        }
        print(self._table(results, list(laws), bad_fits))
        summary = {"availability": caps_used, "bad_fits": bad_fits, "budgets": results}
        files["json"] = str(write_json(out / "allocator.json", summary))
        rows = self._rows(results)
        fields = list(dict.fromkeys(key for row in rows for key in row))
        files["csv"] = str(write_csv(out / "allocator.csv", rows, fields))
        figure = self.figure(results, list(laws), caps_used, bad_fits)
        files["png"] = str(save_figure(figure, out / "allocator.png"))
        return {"budgets": results, "bad_fits": bad_fits, "files": files}

    # -- the steps of a run --------------------------------------------------------------------

    @staticmethod
    def _laws(options: Allocator.Options) -> dict[str, PowerLaw]:
        if Path(options.laws).is_file():
            read_text(options.laws, "laws file")  # UTF-8, or an error naming the line
        laws = read_laws(options.laws, allow_bad_fits=True)
        if options.languages:
            wanted = [c.strip() for c in options.languages.split(",") if c.strip()]
            for code in wanted:
                if code not in laws:
                    raise UnknownNameError(
                        f"--languages: no law for {code!r} in {options.laws}{did_you_mean(code, laws)}; "
                        f"it has {', '.join(laws)}"
                    )
            laws = {c: laws[c] for c in wanted}
        if not options.allow_bad_fits:
            refuse_bad_fits(laws, f"laws file {options.laws}")
        return laws

    @staticmethod
    def _budgets(values: Sequence[str]) -> list[int]:
        budgets = []
        for value in values:
            budget = alloc.parse_count(value)
            if budget != int(budget):
                raise InputError(f"--budget {value!r}: a budget counts examples; give a whole number")
            budgets.append(int(budget))
        return budgets

    @staticmethod
    def solve(
        laws: dict[str, PowerLaw],
        budget: int,
        caps: dict[str, float],
        draws: dict[str, list[PowerLaw]] | None = None,
        level: float = 0.95,
    ) -> dict[str, Any]:
        """Both strategies for one budget: whole-example allocations and their predicted scores (with
        ``draws``, the intervals of :func:`xllm_harness.analysis.allocation.uncertainty` under ``intervals``)."""
        if not 0 < level < 1:
            raise InputError(f"--confidence must lie in (0, 1), got {level}")
        entry: dict[str, Any] = {"budget": budget}
        for strategy, solve in (("uniform", alloc.uniform), ("optimized", alloc.water_fill)):
            counts = alloc.to_counts(solve(laws, budget, caps), budget, caps)
            predicted = {lang: float(laws[lang].score(n)) for lang, n in counts.items()}
            entry[strategy] = {
                "allocation": counts,
                "predicted": predicted,
                "predicted_mean": sum(predicted.values()) / len(predicted),
            }
        entry["gain"] = entry["optimized"]["predicted_mean"] - entry["uniform"]["predicted_mean"]
        if draws is not None:
            entry["intervals"] = alloc.uncertainty(
                draws, budget, caps, entry["optimized"]["allocation"], entry["uniform"]["allocation"], level
            )
        return entry

    @staticmethod
    def _allocation_document(
        entry: dict[str, Any],
        laws: dict[str, PowerLaw],
        caps_used: dict[str, float | None],
        bad_fits: dict[str, str],
        laws_file: str,
    ) -> dict[str, Any]:
        best = entry["optimized"]
        document = {
            "budget": entry["budget"],
            "allocation": best["allocation"],
            "laws": {lang: law.to_dict() for lang, law in laws.items()},
            "availability": caps_used,
            "predicted": best["predicted"],
            "predicted_mean": best["predicted_mean"],
            "strategy": "optimized",
            "laws_file": str(laws_file),
        }
        document["gain_over_uniform"] = {"predicted": entry["gain"]}
        found = entry.get("intervals")
        if found is not None:
            document["allocation_ci"] = found["allocation_ci"]
            document["predicted_ci"] = found["predicted_ci"]
            document["predicted_mean_ci"] = found["predicted_mean_ci"]
            document["gain_over_uniform"].update(found["gain_over_uniform"])
            document["intervals"] = {
                "draws": found["draws"], "level": found["level"],
                "method": "percentiles over the laws' bootstrap draws, the optimisation solved under each",
            }  # fmt: skip
        if bad_fits:
            document["bad_fits"] = bad_fits
        return document

    @staticmethod
    def _rows(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows = []
        for entry in results:
            found = entry.get("intervals")
            for strategy in ("uniform", "optimized"):
                for lang, n in entry[strategy]["allocation"].items():
                    row = {
                        "budget": entry["budget"],
                        "strategy": strategy,
                        "language": lang,
                        "examples": n,
                        "predicted": entry[strategy]["predicted"][lang],
                    }
                    if found is not None and strategy == "optimized":
                        row["optimal_lo"], row["optimal_hi"] = found["allocation_ci"][lang]
                        row["predicted_lo"], row["predicted_hi"] = found["predicted_ci"][lang]
                    rows.append(row)
        return rows

    @staticmethod
    def _table(results: list[dict[str, Any]], langs: list[str], bad_fits: dict[str, str]) -> str:
        """Table 4 layout: allocation / predicted score per language, then the mean; bad fits starred."""
        cells = [
            ["budget", "strategy", *(f"{lang}*" if lang in bad_fits else lang for lang in langs), "mean S"]
        ]
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
            found = entry.get("intervals")
            if found is not None:
                pct = f"{100 * found['level']:g}%"
                cells.append(
                    [
                        "",
                        f"{pct} interval",
                        *(
                            f"[{found['allocation_ci'][lang][0]:,.0f}, {found['allocation_ci'][lang][1]:,.0f}]"
                            for lang in langs
                        ),
                        "[{:.2f}, {:.2f}] ({:+.3f} to {:+.3f})".format(
                            *found["predicted_mean_ci"], *found["gain_over_uniform"]["ci"]
                        ),
                    ]
                )
        widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
        lines = ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
        lines.insert(1, "  ".join("-" * w for w in widths))
        note = "\n* law marked as a bad fit: its predictions cannot be trusted" if bad_fits else ""
        if any("intervals" in entry for entry in results):
            note += (
                "\ninterval row: optimal allocation per language over the laws' bootstrap draws; mean S of the "
                "optimized allocation (its predicted gain over uniform)"
            )
        return "examples / predicted score per language\n" + "\n".join(lines) + note

    @staticmethod
    def figure(
        results: list[dict[str, Any]],
        langs: list[str],
        caps: dict[str, float | None],
        bad_fits: dict[str, str],
    ):
        """One panel per budget: uniform and optimized bars per language, each language's availability cap."""
        import numpy as np

        plt = pyplot()
        fig, axes = plt.subplots(
            1, len(results), figsize=(5.8 * len(results), 4), squeeze=False, layout="constrained"
        )
        pos = np.arange(len(langs))
        for ax, entry in zip(axes[0], results, strict=True):
            tallest = 0.0
            for offset, strategy, color in ((-0.2, "uniform", "#999999"), (0.2, "optimized", "#1f77b4")):
                part = entry[strategy]
                heights = [part["allocation"][lang] for lang in langs]
                tallest = max(tallest, *heights)
                label = f"{strategy} (mean S {part['predicted_mean']:.2f})"
                found = entry.get("intervals")
                errors = None
                if strategy == "optimized" and found is not None:
                    lo = [found["allocation_ci"][lang][0] for lang in langs]
                    hi = [found["allocation_ci"][lang][1] for lang in langs]
                    errors = [
                        np.maximum(0, np.subtract(heights, lo)),
                        np.maximum(0, np.subtract(hi, heights)),
                    ]
                    tallest = max(tallest, *hi)
                    g_lo, g_hi = found["gain_over_uniform"]["ci"]
                    label += f", gain {entry['gain']:+.3f} [{g_lo:+.3f}, {g_hi:+.3f}]"
                ax.bar(pos + offset, heights, width=0.4, color=color, label=label, yerr=errors, capsize=3)
            top = 1.3 * tallest
            drawn = False
            for i, lang in enumerate(langs):
                cap = caps.get(lang)
                if cap is None or not math.isfinite(cap):
                    continue
                if cap <= top:  # the cap as a bar-wide line at its height
                    ax.plot(
                        [i - 0.45, i + 0.45],
                        [cap, cap],
                        color="k",
                        lw=1.5,
                        label=None if drawn else "availability cap",
                    )
                    drawn = True
                else:  # far above the bars: an arrow at the top edge with the cap's value
                    ax.annotate(
                        f"cap ↑\n{format_count(cap)}",
                        (i, top),
                        xytext=(0, -2),
                        textcoords="offset points",
                        ha="center",
                        va="top",
                        fontsize=7,
                        color="0.3",
                    )
            ax.set_ylim(0, top)
            ax.set_xticks(pos, [f"{lang}*" if lang in bad_fits else lang for lang in langs])
            count_axis(ax.yaxis)
            ax.set_title(f"budget {format_count(entry['budget'])} examples")
            ax.set_xlabel("language" + (" (* law marked as a bad fit)" if bad_fits else ""))
            ax.set_ylabel("translation examples")
            ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, frameon=False)
        return fig


@hookimpl
def xllm_analyzers() -> list[type[Analyzer]]:
    return [Allocator]
