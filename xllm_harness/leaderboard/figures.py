"""The leaderboard's figures as files a paper can include: SVG and PNG, drawn by matplotlib.

The same figures as the page (:func:`xllm_harness.leaderboard.render.figures`): the overview heatmaps,
one bar chart per table with something to show, the MI-Eval win / tie / loss bars; with the page's
numbers, axis limits, colour scale and system styles (:func:`~xllm_harness.leaderboard.render.system_styles`).
"""

from __future__ import annotations

from pathlib import Path

from xllm_harness.leaderboard.board import Table
from xllm_harness.leaderboard.render import (
    ABSENT,
    HEATMAP_STOPS,
    MISSING,
    OUTCOME_COLOURS,
    Style,
    _fmt,
    _value,
    axis_limits,
    figures,
    system_styles,
)
from xllm_harness.results.files import atomic_path

FORMATS = ("svg", "png")
SVG_SALT = "xllm-harness"
"""Seed of the SVG element ids, so that the same tables give the same file."""
DPI = 200
HATCHES = {"solid": "", "dots": "..", "hatch": "///", "crosshatch": "xxx"}


def _hatch(style: Style) -> str:
    return HATCHES.get(style.pattern.rstrip("0123456789"), "++")


def _heatmap(plt, table: Table, limits: tuple[float, float, float]):
    import numpy as np
    from matplotlib.colors import LinearSegmentedColormap

    columns = [*table.columns, *table.average_labels]
    values = np.array(
        [[_value(r, c) if _value(r, c) is not None else np.nan for c in columns] for r in table.rows],
        dtype=float,
    )
    cmap = LinearSegmentedColormap.from_list("board", HEATMAP_STOPS).with_extremes(bad="#FFFFFF")
    fig, ax = plt.subplots(figsize=(1.0 + 0.85 * len(columns) + 0.08 * max(len(r.label) for r in table.rows),
                                    0.9 + 0.42 * len(table.rows)))  # fmt: skip
    image = ax.imshow(values, cmap=cmap, vmin=limits[0], vmax=limits[1], aspect="auto")
    for i, row in enumerate(table.rows):
        for j, column in enumerate(columns):
            value, cell = _value(row, column), row.cells.get(column)
            if value is None:
                text = MISSING if cell is not None and cell.missing is not None else ABSENT
                colour = "#555555"
            else:
                text = _fmt(value)
                if cell is not None and cell.interval is not None:
                    text += f"\n[{_fmt(cell.interval[0])}, {_fmt(cell.interval[1])}]"
                rgba = cmap((value - limits[0]) / ((limits[1] - limits[0]) or 1.0))
                colour = "black" if 0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2] > 0.55 else "white"
            ax.text(j, i, text, ha="center", va="center", fontsize=7, color=colour)
    ax.set_xticks(range(len(columns)), columns)
    ax.set_yticks(range(len(table.rows)), [r.label for r in table.rows])
    for label, row in zip(ax.get_yticklabels(), table.rows, strict=True):
        label.set_fontstyle("italic" if row.reported else "normal")
    ax.xaxis.tick_top()
    fig.colorbar(image, ax=ax, label=table.title.split(": ", 1)[-1], fraction=0.04)
    ax.set_title(table.title, fontsize=10, pad=18)
    return fig


def _bars(plt, table: Table, limits: tuple[float, float, float], styles: dict[str, Style]):
    columns = [*table.columns, *table.average_labels]
    rows = [r for r in table.rows if any(_value(r, c) is not None for c in columns)]
    categories = [c for c in columns if any(_value(r, c) is not None for r in rows)]
    width = 0.8 / max(len(rows), 1)
    fig, ax = plt.subplots(figsize=(2.0 + 0.22 * len(categories) * max(len(rows), 1), 3.6))
    for i, row in enumerate(rows):
        style = styles[row.label]
        xs = [
            j + (i - (len(rows) - 1) / 2) * width
            for j, c in enumerate(categories)
            if _value(row, c) is not None
        ]
        present = [c for c in categories if _value(row, c) is not None]
        heights = [_value(row, c) for c in present]
        ax.bar(xs, heights, width=width * 0.95, color=style.colour, hatch=_hatch(style),
               edgecolor="white" if _hatch(style) else style.colour, linewidth=0, label=row.label)  # fmt: skip
        for x, column, height in zip(xs, present, heights, strict=True):
            cell = row.cells.get(column)
            if cell is not None and cell.interval is not None:
                lo, hi = cell.interval
                ax.errorbar([x], [height], yerr=[[height - lo], [hi - height]], fmt="none", ecolor="#222",
                            elinewidth=0.8, capsize=2)  # fmt: skip
    ax.set_xticks(range(len(categories)), categories, rotation=35, ha="right")
    ax.set_ylim(limits[0], limits[1])
    ax.set_ylabel(table.title.split(": ", 1)[-1])
    ax.set_title(table.title, fontsize=10)
    ax.grid(axis="y", color="#e4e4e4")
    ax.set_axisbelow(True)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def _pairwise(plt, table: Table):
    langs = list(dict.fromkeys(c.rsplit(" ", 1)[0] for c in table.columns))
    bars = [(row, lang) for row in table.rows for lang in langs if row.values.get(f"{lang} win") is not None]
    fig, ax = plt.subplots(figsize=(7.5, 1.0 + 0.3 * len(bars)))
    labels = [f"{row.label} · {lang}" for row, lang in bars]
    start = [0.0] * len(bars)
    for outcome, colour in OUTCOME_COLOURS.items():
        shares = [100 * (row.values[f"{lang} {outcome}"] or 0.0) for row, lang in bars]
        ax.barh(labels, shares, left=start, color=colour, label=outcome)
        start = [a + b for a, b in zip(start, shares, strict=True)]
    ax.set_xlim(0, 100)
    ax.invert_yaxis()
    ax.set_xlabel("share of items (%) — A against B")
    ax.set_title(table.title, fontsize=10)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def write_figures(tables: list[Table], folder: Path) -> list[Path]:
    """Every figure of the page as ``folder/<name>.svg`` and ``.png``; returns the files written."""
    from xllm_harness.analyzers import pyplot

    plt = pyplot()
    limits, styles = axis_limits(tables), system_styles(tables)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, name, table in figures(tables):
        if kind == "heatmap":
            fig = _heatmap(plt, table, limits[table.metric])
        elif kind == "chart":
            fig = _bars(plt, table, limits[table.metric], styles)
        else:
            fig = _pairwise(plt, table)
        for fmt in FORMATS:
            path = folder / f"{name}.{fmt}"
            # whole or not at all; the same bytes for the same tables (fixed SVG ids, no date)
            with atomic_path(path) as tmp, plt.rc_context({"svg.hashsalt": SVG_SALT}):
                fig.savefig(
                    tmp,
                    format=fmt,
                    dpi=DPI,
                    bbox_inches="tight",
                    metadata={"Date": None} if fmt == "svg" else None,
                )
            written.append(path)
        plt.close(fig)
    return written
