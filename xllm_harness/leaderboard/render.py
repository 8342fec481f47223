"""Render leaderboard tables as Markdown, CSV and one self-contained HTML page with SVG charts.

The page opens with an overview: per task family a heatmap of models × columns (the paper's reported
rows beside the measured ones), each cell coloured on its metric's own scale and labelled with its
value and interval. Then every table (sortable by any column; a filter by model and by language
applies to all of them) with its chart: bars per model for every column and average, on one labelled
value axis per metric shared by every chart of that metric, 95 % intervals as whiskers. A metric with
nothing to show (every value 0 or absent) gets one line saying so instead of an empty chart. The
MI-Eval pairwise table is drawn as stacked win / tie / loss bars on a 0–100 % axis.

Colours: the Okabe–Ito colour-blind-safe palette; each system keeps one colour (and fill pattern) in
every chart (:func:`system_styles`); reported rows are hatched. Paths in notes are written relative to
the leaderboard folder (:func:`relative_paths`). The same figures are written as SVG and PNG files
by :mod:`xllm_harness.leaderboard.figures`.
"""

from __future__ import annotations

import csv
import html
import io
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

from xllm_harness.leaderboard.board import PAIRWISE, Cell, Row, Table
from xllm_harness.results.lm_eval import OUTCOMES

MISSING = "missing"
ABSENT = "–"
MARKS = {"higher": "▲", "lower": "▼"}
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
"""Okabe & Ito's colour-blind-safe palette (blue, orange, bluish green, reddish purple, sky blue,
vermillion, yellow, black)."""
MEASURED_PATTERNS = ("solid", "dots")
REPORTED_PATTERNS = ("hatch", "crosshatch")
"""Fill patterns: measured systems solid (dotted past the 8th), the paper's reported rows hatched."""
OUTCOME_COLOURS = {"win": "#0072B2", "tie": "#BBBBBB", "loss": "#D55E00"}
HEATMAP_STOPS = ("#440154", "#3B528B", "#21918C", "#5EC962", "#FDE725")
"""viridis (perceptually uniform, colour-blind safe), low to high."""
CSV_FIELDS = [
    "table", "family", "metric", "model", "reported", "column", "value",
    "ci_low", "ci_high", "design_effect", "missing", "vs_baseline", "p_holm",
]  # fmt: skip


def _fmt(value: float | None) -> str:
    if value is None:
        return ABSENT
    return f"{value:.2f}" if abs(value) >= 10 else f"{value:.3f}"


def _cell_text(row: Row, column: str) -> str:
    cell = row.cells.get(column)
    if cell is not None and cell.value is None:
        return MISSING
    text = _fmt(row.values.get(column))
    return f"{text} {MARKS[cell.vs_baseline]}" if cell is not None and cell.vs_baseline else text


def _value(row: Row, column: str) -> float | None:
    return row.averages.get(column) if column not in row.values else row.values.get(column)


# --- paths ------------------------------------------------------------------------------------------

_PATH_RE = re.compile(r"(?<![\w.~/])(/[^\s'\"`()\[\]{},;]+)")
MAX_UP = 3
"""A path further than this many ``..`` from the leaderboard folder is shown from ``~`` or as is."""


def relative_paths(text: str, base: Path | None) -> str:
    """``text`` with each absolute path written relative to ``base`` (the leaderboard folder), or
    from ``~`` when it is far from it (a model cache in the home directory)."""
    if base is None:
        return text
    base = Path(os.path.abspath(base))
    home = os.path.expanduser("~")

    def shorten(match: re.Match[str]) -> str:
        path = match.group(1)
        trail = path[len(path.rstrip(".:")) :]
        path = path[: len(path) - len(trail)]
        rel = os.path.relpath(path, base)
        if rel.split(os.sep)[: MAX_UP + 1].count("..") <= MAX_UP:
            return rel + trail
        if home not in ("", "/") and (path == home or path.startswith(home + "/")):
            return "~" + path[len(home) :] + trail
        return path + trail

    return _PATH_RE.sub(shorten, text)


def to_markdown(tables: list[Table], notes: list[str] | None = None, base: Path | None = None) -> str:
    """Markdown tables (values only; intervals are in the CSV and HTML), each with its notes (paths
    relative to ``base``)."""
    out = [f"> {relative_paths(note, base)}\n" for note in notes or []]
    for table in tables:
        out.append(f"### {table.title}\n")
        header = ["model", *table.columns, *table.average_labels]
        out.append("| " + " | ".join(header) + " |")
        out.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
        for row in table.rows:
            label = f"*{row.label}*" if row.reported else row.label
            cells = [_cell_text(row, c) for c in table.columns]
            averages = [_fmt(row.averages.get(a)) for a in table.average_labels]
            out.append("| " + " | ".join([label, *cells, *averages]) + " |")
        out.append("")
        out += [f"- {relative_paths(note, base)}" for note in table.notes]
        if table.family != PAIRWISE and (reason := nothing_to_show(table)):
            out.append(f"- no chart: {reason}")
        out.append("")
    return "\n".join(out)


def csv_rows(tables: list[Table]) -> list[dict[str, str]]:
    rows = []
    for table in tables:
        for row in table.rows:
            for column in [*table.columns, *table.average_labels]:
                value = _value(row, column)
                cell: Cell | None = row.cells.get(column)
                interval = cell.interval if cell is not None else None
                rows.append(
                    {
                        "table": table.title,
                        "family": table.family,
                        "metric": table.metric,
                        "model": row.label,
                        "reported": "yes" if row.reported else "no",
                        "column": column,
                        "value": "" if value is None else repr(float(value)),
                        "ci_low": "" if interval is None else repr(float(interval[0])),
                        "ci_high": "" if interval is None else repr(float(interval[1])),
                        "design_effect": ""
                        if cell is None or cell.design_effect is None
                        else repr(float(cell.design_effect)),
                        "missing": (cell.missing or "") if cell is not None else "",
                        "vs_baseline": (cell.vs_baseline or "") if cell is not None else "",
                        "p_holm": "" if cell is None or cell.p_holm is None else repr(cell.p_holm),
                    }
                )
    return rows


def to_csv(tables: list[Table]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS)
    writer.writeheader()
    writer.writerows(csv_rows(tables))
    return buf.getvalue()


# --- charts ------------------------------------------------------------------------------------------


def _nice_step(span: float) -> float:
    raw = span / 5 if span > 0 else 1.0
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def axis_limits(tables: list[Table]) -> dict[str, tuple[float, float, float]]:
    """Per metric: (low, high, tick step) shared by every chart of that metric (values and intervals)."""
    seen: dict[str, list[float]] = {}
    for table in tables:
        if table.family == PAIRWISE:
            continue
        numbers = seen.setdefault(table.metric, [])
        for row in table.rows:
            numbers += [v for v in [*row.values.values(), *row.averages.values()] if v is not None]
            numbers += [x for c in row.cells.values() if c.interval for x in c.interval]
    limits = {}
    for metric, numbers in seen.items():
        if not numbers:
            continue
        low, high = min(0.0, min(numbers)), max(0.0, max(numbers))
        step = _nice_step(high - low)
        low, high = math.floor(low / step) * step, math.ceil(high / step) * step
        limits[metric] = (low, high if high > low else low + step, step)
    return limits


@dataclass(frozen=True)
class Style:
    """How one system is drawn in every chart: its colour and fill pattern."""

    colour: str
    pattern: str
    """``solid``, ``dots`` (measured), ``hatch``, ``crosshatch`` (the paper's reported rows)."""


def system_styles(tables: list[Table]) -> dict[str, Style]:
    """One style per system over all tables, so a system looks the same in every chart: measured
    systems (sorted) take the palette's colours in order, the reported rows the next colours, hatched;
    past the palette's length the next pattern starts, so no two systems share a style."""
    measured = sorted({r.label for t in tables if t.family != PAIRWISE for r in t.rows if not r.reported})
    reported = list(
        dict.fromkeys(r.label for t in tables if t.family != PAIRWISE for r in t.rows if r.reported)
    )
    styles = {}
    for offset, labels, patterns in (
        (0, measured, MEASURED_PATTERNS),
        (len(measured), reported, REPORTED_PATTERNS),
    ):
        for i, label in enumerate(labels):
            cycle = i // len(PALETTE)
            pattern = patterns[cycle] if cycle < len(patterns) else f"{patterns[-1]}{cycle}"
            styles[label] = Style(PALETTE[(offset + i) % len(PALETTE)], pattern)
    return styles


_PATTERN_SHAPES = {
    "dots": "<circle cx='2' cy='2' r='1.1' fill='#fff'/>",
    "hatch": "<path d='M-1,1 l2,-2 M0,4 l4,-4 M3,5 l2,-2' stroke='#fff' stroke-width='1.1'/>",
    "crosshatch": "<path d='M0,4 l4,-4 M0,0 l4,4' stroke='#fff' stroke-width='1'/>",
}


def _style_defs(styles: dict[str, Style], uid: str) -> tuple[list[str], dict[str, str]]:
    """SVG ``<defs>`` of the patterned styles and each system's ``fill`` value (ids unique per chart)."""
    defs, fills = [], {}
    for i, (label, style) in enumerate(styles.items()):
        shape = _PATTERN_SHAPES.get(style.pattern.rstrip("0123456789"))
        if shape is None:
            fills[label] = style.colour
            continue
        pid = f"{uid}-p{i}"
        defs.append(
            f"<pattern id='{pid}' patternUnits='userSpaceOnUse' width='4' height='4'>"
            f"<rect width='4' height='4' fill='{style.colour}'/>{shape}</pattern>"
        )
        fills[label] = f"url(#{pid})"
    return (["<defs>", *defs, "</defs>"] if defs else []), fills


def nothing_to_show(table: Table) -> str | None:
    """Why a chart of ``table`` would be empty (every value 0 or absent), or ``None`` when it has a bar."""
    columns = [*table.columns, *table.average_labels]
    values = [_value(r, c) for r in table.rows for c in columns]
    present = [v for v in values if v is not None]
    if not present:
        missing = sorted({c.missing for r in table.rows for c in r.cells.values() if c.missing})
        return "no value was measured" + (f" (missing: {missing[0]})" if len(missing) == 1 else "")
    if all(v == 0 for v in present):
        return f"every value is 0 ({len(present)} cells)"
    return None


def overview_tables(tables: list[Table]) -> list[Table]:
    """Per task family, the table of the overview heatmap: its first metric with a measured number."""
    chosen: dict[str, Table] = {}
    for table in tables:
        if table.family == PAIRWISE or table.family in chosen:
            continue
        if any(r.values.get(c) is not None for r in table.rows if not r.reported for c in table.columns):
            chosen[table.family] = table
    return list(chosen.values())


def _legend(entries: list[tuple[str, str]], x: float, y: float) -> list[str]:
    parts = ["<g class='legend'>"]
    for i, (label, fill) in enumerate(entries):
        top = y + i * 16
        parts.append(
            f"<rect x='{x}' y='{top}' width='11' height='11' fill='{fill}' stroke='#444' stroke-width='0.4'/>"
        )
        parts.append(f"<text class='legend-entry' x='{x + 16}' y='{top + 10}'>{html.escape(label)}</text>")
    parts.append("</g>")
    return parts


def chart_svg(
    table: Table,
    limits: tuple[float, float, float],
    styles: dict[str, Style] | None = None,
    uid: str = "chart",
) -> str:
    """Grouped bars (one per model) per column and average, on the metric's shared axis; each system
    in its style from ``styles`` (:func:`system_styles` of all tables)."""
    low, high, step = limits
    styles = styles or system_styles([table])
    rows = [
        r
        for r in table.rows
        if any(_value(r, c) is not None for c in [*table.columns, *table.average_labels])
    ]
    categories = [
        c for c in [*table.columns, *table.average_labels] if any(_value(r, c) is not None for r in rows)
    ]
    defs, fills = _style_defs({r.label: styles[r.label] for r in rows}, uid)
    bar, gap, left, top, plot_h = 10, 14, 64, 16, 220
    group_w = max(len(rows), 1) * bar + gap
    averages_gap = 18 if any(c in table.average_labels for c in categories) else 0
    plot_w = len(categories) * group_w + averages_gap
    legend_x = left + plot_w + 24
    width = legend_x + 16 + 7 * max((len(r.label) for r in rows), default=4)
    height = max(top + plot_h + 70, top + 16 * len(rows) + 8)

    def y_of(value: float) -> float:
        return top + plot_h * (high - value) / (high - low)

    metric_title = table.title.split(": ", 1)[-1]
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' class='chart' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' data-metric='{html.escape(table.metric)}' "
        f"data-ymin='{low!r}' data-ymax='{high!r}' role='img' aria-label='{html.escape(table.title)}'>",
        *defs,
        f"<text class='axis-label' transform='translate(14,{top + plot_h / 2}) rotate(-90)' "
        f"text-anchor='middle'>{html.escape(metric_title)}</text>",
    ]
    ticks = round((high - low) / step)
    for i in range(ticks + 1):
        value = low + i * step
        y = y_of(value)
        parts.append(f"<line class='grid' x1='{left}' x2='{left + plot_w}' y1='{y:.1f}' y2='{y:.1f}'/>")
        parts.append(f"<text class='tick' x='{left - 6}' y='{y + 4:.1f}' text-anchor='end'>{value:g}</text>")
    parts.append(f"<line class='axis' x1='{left}' x2='{left}' y1='{top}' y2='{top + plot_h}'/>")
    x = left
    for category in categories:
        if category == next((c for c in categories if c in table.average_labels), None):
            x += averages_gap
        for i, row in enumerate(rows):
            value = _value(row, category)
            if value is None:
                continue
            bx = x + gap / 2 + i * bar
            y0, y1 = y_of(max(value, 0.0)), y_of(min(value, 0.0))
            parts.append(
                f"<rect class='bar{' reported' if row.reported else ''}' x='{bx:.1f}' y='{y0:.1f}' width='{bar - 1}' "
                f"height='{max(y1 - y0, 0.5):.1f}' fill='{fills[row.label]}' data-model='{html.escape(row.label)}' "
                f"data-column='{html.escape(category)}' data-value='{float(value)!r}'>"
                f"<title>{html.escape(row.label)}, {html.escape(category)}: {_fmt(value)}</title></rect>"
            )
            cell = row.cells.get(category)
            if cell is not None and cell.interval is not None:
                lo, hi = cell.interval
                cx = bx + (bar - 1) / 2
                parts.append(
                    f"<line class='interval' x1='{cx:.1f}' x2='{cx:.1f}' y1='{y_of(lo):.1f}' y2='{y_of(hi):.1f}' "
                    f"data-low='{lo!r}' data-high='{hi!r}'/>"
                )
                parts += [
                    f"<line class='interval-cap' x1='{cx - 3:.1f}' x2='{cx + 3:.1f}' y1='{y_of(v):.1f}' y2='{y_of(v):.1f}'/>"
                    for v in (lo, hi)
                ]
        label_x = x + group_w / 2
        parts.append(
            f"<text class='category' text-anchor='end' transform='translate({label_x + 4:.1f},{top + plot_h + 14}) rotate(-35)'>"
            f"{html.escape(category)}</text>"
        )
        x += group_w
    parts += _legend([(r.label, fills[r.label]) for r in rows], legend_x, top)
    parts.append("</svg>")
    return "".join(parts)


def _hex(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def heat_colour(value: float, low: float, high: float) -> str:
    """``value``'s colour on the sequential scale from ``low`` to ``high`` (clipped)."""
    t = 0.0 if high <= low else min(max((value - low) / (high - low), 0.0), 1.0)
    pos = t * (len(HEATMAP_STOPS) - 1)
    i = min(int(pos), len(HEATMAP_STOPS) - 2)
    a, b = _hex(HEATMAP_STOPS[i]), _hex(HEATMAP_STOPS[i + 1])
    mix = [round(x + (y - x) * (pos - i)) for x, y in zip(a, b, strict=True)]
    return "#{:02X}{:02X}{:02X}".format(*mix)


def _ink(fill: str) -> str:
    """Black or white text, whichever reads on ``fill``."""
    r, g, b = _hex(fill)
    return "#000" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "#fff"


def heatmap_svg(table: Table, limits: tuple[float, float, float], uid: str = "heatmap") -> str:
    """Models × columns (and averages), each cell coloured on the metric's scale ``limits`` and labelled
    with its value and 95 % interval; ``missing`` and absent cells in grey and white."""
    low, high, _ = limits
    columns = [*table.columns, *table.average_labels]
    cell_w, cell_h, top = 74, 34, 34
    left = 16 + 6.6 * max((len(r.label) for r in table.rows), default=8)
    scale_w = min(240, cell_w * len(columns))
    metric_title = table.title.split(": ", 1)[-1]
    width = left + max(cell_w * len(columns), scale_w + 7 * len(metric_title) + 24) + 16
    height = top + cell_h * len(table.rows) + 56
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' class='heatmap' width='{width:.0f}' height='{height}' "
        f"viewBox='0 0 {width:.0f} {height}' data-family='{html.escape(table.family)}' "
        f"data-metric='{html.escape(table.metric)}' data-vmin='{low!r}' data-vmax='{high!r}' role='img' "
        f"aria-label='{html.escape(table.title)}'>",
        f"<defs><linearGradient id='{uid}-scale'>"
        + "".join(
            f"<stop offset='{i / (len(HEATMAP_STOPS) - 1):.2f}' stop-color='{c}'/>"
            for i, c in enumerate(HEATMAP_STOPS)
        )
        + "</linearGradient></defs>",
    ]
    for j, column in enumerate(columns):
        cx = left + j * cell_w + cell_w / 2
        weight = " font-weight='600'" if column in table.average_labels else ""
        parts.append(
            f"<text class='column' x='{cx:.1f}' y='{top - 10}' text-anchor='middle'{weight}>{html.escape(column)}</text>"
        )
    for i, row in enumerate(table.rows):
        y = top + i * cell_h
        kind = "reported" if row.reported else "measured"
        parts.append(f"<g class='hm-row {kind}' data-model='{html.escape(row.label)}'>")
        style = " font-style='italic'" if row.reported else ""
        parts.append(
            f"<text class='row-label' x='{left - 8:.1f}' y='{y + cell_h / 2 + 4:.1f}' text-anchor='end'{style}>"
            f"{html.escape(row.label)}</text>"
        )
        for j, column in enumerate(columns):
            x = left + j * cell_w
            value = _value(row, column)
            cell = row.cells.get(column)
            if value is None:
                missing = cell is not None and cell.missing is not None
                fill, text, sub = ("#DDDDDD", MISSING, "") if missing else ("#FFFFFF", ABSENT, "")
                data = ""
            else:
                fill, text = heat_colour(value, low, high), _fmt(value)
                interval = cell.interval if cell is not None else None
                sub = f"[{_fmt(interval[0])}, {_fmt(interval[1])}]" if interval else ""
                data = f" data-value='{float(value)!r}'"
            parts.append(
                f"<rect class='hm-cell' x='{x:.1f}' y='{y}' width='{cell_w - 2}' height='{cell_h - 2}' fill='{fill}' "
                f"stroke='#ccc' stroke-width='0.5' data-column='{html.escape(column)}'{data}>"
                f"<title>{html.escape(row.label)}, {html.escape(column)}: {html.escape(text)} {sub}</title></rect>"
            )
            ink = _ink(fill)
            text_y = y + (cell_h / 2 - 3 if sub else cell_h / 2 + 3)
            parts.append(
                f"<text class='hm-value' x='{x + cell_w / 2 - 1:.1f}' y='{text_y:.1f}' text-anchor='middle' "
                f"fill='{ink}' style='fill:{ink}'>{html.escape(text)}</text>"
            )  # style: the page's CSS colours svg text, which would override the attribute
            if sub:
                parts.append(
                    f"<text class='hm-interval' x='{x + cell_w / 2 - 1:.1f}' y='{y + cell_h / 2 + 9:.1f}' "
                    f"text-anchor='middle' fill='{ink}' style='fill:{ink}'>{html.escape(sub)}</text>"
                )
        parts.append("</g>")
    scale_y = top + cell_h * len(table.rows) + 14
    parts += [
        f"<rect x='{left}' y='{scale_y}' width='{scale_w}' height='10' fill='url(#{uid}-scale)'/>",
        f"<text class='tick' x='{left}' y='{scale_y + 24}' text-anchor='start'>{low:g}</text>",
        f"<text class='tick' x='{left + scale_w}' y='{scale_y + 24}' text-anchor='end'>{high:g}</text>",
        f"<text class='axis-label' x='{left + scale_w + 10}' y='{scale_y + 9}'>{html.escape(metric_title)}</text>",
        "</svg>",
    ]
    return "".join(parts)


def pairwise_svg(table: Table) -> str:
    """Stacked win / tie / loss bars per comparison and language, on a 0–100 % axis (whisker: the win share's
    95 % interval, where the judge's details give one)."""
    langs = list(dict.fromkeys(c.rsplit(" ", 1)[0] for c in table.columns))
    bars = [(row, lang) for row in table.rows for lang in langs if row.values.get(f"{lang} win") is not None]
    left, top, plot_w, bar_h = 230, 12, 420, 16
    height = top + len(bars) * (bar_h + 6) + 50
    width = left + plot_w + 110

    def x_of(share: float) -> float:
        return left + plot_w * share

    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' class='chart' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' data-metric='win_tie_loss' data-ymin='0.0' data-ymax='1.0' role='img' "
        f"aria-label='{html.escape(table.title)}'>"
    ]
    axis_y = top + len(bars) * (bar_h + 6)
    for pct in range(0, 101, 20):
        x = x_of(pct / 100)
        parts.append(f"<line class='grid' x1='{x:.1f}' x2='{x:.1f}' y1='{top}' y2='{axis_y}'/>")
        parts.append(f"<text class='tick' x='{x:.1f}' y='{axis_y + 14}' text-anchor='middle'>{pct}</text>")
    parts.append(
        f"<text class='axis-label' x='{left + plot_w / 2}' y='{axis_y + 34}' text-anchor='middle'>"
        "share of items (%) — A against B</text>"
    )
    for i, (row, lang) in enumerate(bars):
        y = top + i * (bar_h + 6)
        parts.append(
            f"<text class='category' x='{left - 6}' y='{y + bar_h - 4}' text-anchor='end'>"
            f"{html.escape(row.label)} · {html.escape(lang)}</text>"
        )
        start = 0.0
        for outcome, colour in OUTCOME_COLOURS.items():
            share = row.values[f"{lang} {outcome}"] or 0.0
            parts.append(
                f"<rect class='bar {outcome}' x='{x_of(start):.1f}' y='{y}' width='{plot_w * share:.1f}' height='{bar_h}' "
                f"fill='{colour}' data-model='{html.escape(row.label)}' data-column='{html.escape(f'{lang} {outcome}')}' "
                f"data-value='{float(share)!r}'><title>{outcome} {share:.1%}</title></rect>"
            )
            start += share
        win = row.cells.get(f"{lang} win")
        if win is not None and win.interval is not None:  # the win share's interval, at the win segment's end
            lo, hi = win.interval
            mid = y + bar_h / 2
            parts.append(
                f"<line class='interval' x1='{x_of(lo):.1f}' x2='{x_of(hi):.1f}' y1='{mid}' y2='{mid}' "
                f"data-low='{lo!r}' data-high='{hi!r}'/>"
            )
    parts += _legend(list(OUTCOME_COLOURS.items()), left + plot_w + 14, top)
    parts.append("</svg>")
    return "".join(parts)


_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1280px;color:#222;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.25rem;margin-top:2.4rem;border-bottom:1px solid #ddd}h3{font-size:1.05rem;margin-top:2rem}
.controls{position:sticky;top:0;background:#fff;padding:.5rem 0;border-bottom:1px solid #eee;z-index:1}
.controls label{margin-right:1.2rem;font-size:.9rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
th,td{border-bottom:1px solid #ddd;padding:.25rem .6rem;text-align:right;vertical-align:top}
th{cursor:pointer;user-select:none;white-space:nowrap}th[aria-sort=ascending]::after{content:" ▲"}
th[aria-sort=descending]::after{content:" ▼"}
th:first-child,td:first-child{text-align:left}
tr.reported td{color:#555;font-style:italic}
td.avg{font-weight:600}td.missing{color:#D55E00}
td.higher{background:#e3eefa}td.lower{background:#fcebdc}
.ci{display:block;color:#666;font-size:.7rem}
.note{color:#555;font-size:.8rem;margin:.15rem 0}.no-chart{color:#555;font-size:.85rem;font-style:italic}
figure{margin:1rem 0;overflow-x:auto}figcaption{font-size:.85rem;color:#444}
svg text{font-size:11px;fill:#333}svg .axis-label{font-size:12px;font-weight:600}
svg text.hm-value{font-size:11px}svg text.hm-interval{font-size:9px}
svg g.hm-row.filtered{opacity:.12}
svg line.grid{stroke:#e4e4e4}svg line.axis{stroke:#555}svg line.interval,svg line.interval-cap{stroke:#222;stroke-width:1.2}
"""

_SCRIPT = """
(function(){
  function num(td){ if(!td || td.dataset.value === undefined) return null; return parseFloat(td.dataset.value); }
  function sortBy(th){
    var table = th.closest('table'), idx = Array.prototype.indexOf.call(th.parentNode.children, th);
    var current = th.getAttribute('aria-sort');
    var dir = current ? (current === 'ascending' ? 'descending' : 'ascending') : (idx === 0 ? 'ascending' : 'descending');
    table.querySelectorAll('th').forEach(function(h){ h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', dir);
    var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows), sign = dir === 'ascending' ? 1 : -1;
    rows.sort(function(a, b){
      if (idx === 0) return sign * a.dataset.model.localeCompare(b.dataset.model);
      var x = num(a.cells[idx]), y = num(b.cells[idx]);
      if (x === null && y === null) return 0; if (x === null) return 1; if (y === null) return -1;
      return sign * (x - y);
    });
    rows.forEach(function(r){ body.appendChild(r); });
  }
  document.querySelectorAll('table.board th').forEach(function(th){
    th.addEventListener('click', function(){ sortBy(th); });
  });
  var model = document.getElementById('model-filter'), lang = document.getElementById('lang-filter');
  function apply(){
    var q = model.value.trim().toLowerCase(), l = lang.value;
    document.querySelectorAll('table.board tbody tr').forEach(function(tr){
      tr.hidden = q !== '' && tr.dataset.model.toLowerCase().indexOf(q) < 0;
    });
    document.querySelectorAll('svg.heatmap g.hm-row').forEach(function(g){
      g.classList.toggle('filtered', q !== '' && g.dataset.model.toLowerCase().indexOf(q) < 0);
    });
    document.querySelectorAll('table.board [data-langs]').forEach(function(c){
      c.hidden = l !== '' && c.dataset.langs.split(' ').indexOf(l) < 0;
    });
  }
  model.addEventListener('input', apply); lang.addEventListener('change', apply);
})();
"""


def column_languages(table: Table, column: str) -> list[str]:
    """The language codes a column is about (``en-ar`` → en, ar; ``ar win`` → ar); none for averages."""
    if column in table.average_labels:
        return []
    return [p for p in re.split(r"[- ]", column) if p and p not in OUTCOMES and p != "all"]


def _html_cell(table: Table, row: Row, column: str, base: Path | None) -> str:
    value = _value(row, column)
    cell = row.cells.get(column)
    classes = ["avg"] if column in table.average_labels else []
    attrs = f" data-column='{html.escape(column)}'"
    langs = column_languages(table, column)
    if langs:
        attrs += f" data-langs='{html.escape(' '.join(langs))}'"
    if value is not None:
        attrs += f" data-value='{float(value)!r}'"
    extra = ""
    if cell is not None:
        if cell.missing is not None:
            classes.append("missing")
            attrs += f" title='{html.escape(relative_paths(cell.missing, base))}'"
        if cell.interval is not None:
            lo, hi = cell.interval
            attrs += f" data-ci-low='{lo!r}' data-ci-high='{hi!r}'"
            extra = f"<span class='ci'>[{_fmt(lo)}, {_fmt(hi)}]</span>"
            if cell.design_effect is not None:
                attrs += f" data-design-effect='{cell.design_effect!r}'"
                extra += f"<span class='ci'> deff {cell.design_effect:.1f}</span>"
        if cell.vs_baseline:
            classes.append(cell.vs_baseline)
    cls = f" class='{' '.join(classes)}'" if classes else ""
    text = _cell_text(row, column) if column in table.columns else _fmt(value)
    return f"<td{cls}{attrs}>{html.escape(text)}{extra}</td>"


def _html_table(table: Table, base: Path | None) -> list[str]:
    columns = [*table.columns, *table.average_labels]
    parts = [f"<table class='board' data-table='{html.escape(table.title)}'><thead><tr><th>model</th>"]
    for column in columns:
        langs = column_languages(table, column)
        attr = f" data-langs='{html.escape(' '.join(langs))}'" if langs else ""
        parts.append(f"<th{attr} title='sort by {html.escape(column)}'>{html.escape(column)}</th>")
    parts.append("</tr></thead><tbody>")
    for row in table.rows:
        parts.append(
            f"<tr class='{'reported' if row.reported else 'measured'}' data-model='{html.escape(row.label)}'>"
            f"<td>{html.escape(row.label)}</td>"
        )
        parts += [_html_cell(table, row, c, base) for c in columns]
        parts.append("</tr>")
    parts.append("</tbody></table>")
    return parts


def figure_name(kind: str, table: Table) -> str:
    """The file stem of a figure: ``heatmap-xquad_xllm-match``, ``chart-flores_xllm-chrf``, ``mi_eval-...``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{kind}-{table.family}-{table.metric}")


def figures(tables: list[Table]) -> list[tuple[str, str, Table]]:
    """Every figure of the page in order, as (kind, file stem, table); kind is ``heatmap``, ``chart``
    or ``pairwise``. A table with nothing to show has no chart."""
    out = [("heatmap", figure_name("heatmap", t), t) for t in overview_tables(tables)]
    for table in tables:
        if table.family == PAIRWISE:
            out.append(("pairwise", figure_name("pairwise", table), table))
        elif nothing_to_show(table) is None:
            out.append(("chart", figure_name("chart", table), table))
    return out


def to_html(
    tables: list[Table],
    title: str = "xllm-harness leaderboard",
    notes: list[str] | None = None,
    base: Path | None = None,
) -> str:
    """One self-contained page (no external resources): the overview heatmaps, then each table
    (exact values in ``data-value``, intervals) with its chart; paths relative to ``base``."""
    limits = axis_limits(tables)
    styles = system_styles(tables)
    languages = sorted({lang for t in tables for c in t.columns for lang in column_languages(t, c)})
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<p class='note'>Italic rows (hatched in charts) are numbers reported in the x-LLaMA paper, not "
        "measured here. Bracketed numbers: 95 % intervals (Wilson for proportions, QA resampled by "
        "paragraph with its design effect, bootstrap otherwise). Click a column header to sort; the "
        "filters apply to every table.</p>",
    ]
    parts += [f"<p class='note'>{html.escape(relative_paths(note, base))}</p>" for note in notes or []]
    parts.append(
        "<div class='controls'><label>model <input id='model-filter' type='search' "
        "placeholder='part of a model name'></label><label>language <select id='lang-filter'>"
        "<option value=''>all</option>"
        + "".join(f"<option value='{html.escape(lang)}'>{html.escape(lang)}</option>" for lang in languages)
        + "</select></label></div>"
    )
    overview = overview_tables(tables)
    if overview:
        parts.append("<h2 id='overview'>Overview</h2>")
    for i, table in enumerate(overview):
        parts.append(
            f"<figure>{heatmap_svg(table, limits[table.metric], uid=f'hm{i}')}"
            f"<figcaption>{html.escape(table.title)}: coloured on the metric's own scale "
            f"({limits[table.metric][0]:g} to {limits[table.metric][1]:g}).</figcaption></figure>"
        )
    parts.append("<h2 id='tables'>Tables</h2>")
    for i, table in enumerate(tables):
        parts.append(f"<h3>{html.escape(table.title)}</h3>")
        parts += _html_table(table, base)
        parts += [f"<p class='note'>{html.escape(relative_paths(note, base))}</p>" for note in table.notes]
        if table.family == PAIRWISE:
            parts.append(f"<figure>{pairwise_svg(table)}</figure>")
        elif reason := nothing_to_show(table):
            parts.append(f"<p class='no-chart'>No chart: {html.escape(reason)}.</p>")
        else:
            chart = chart_svg(table, limits[table.metric], styles, uid=f"c{i}")
            parts.append(f"<figure>{chart}</figure>")
    parts.append(f"<script>{_SCRIPT}</script></body></html>")
    return "".join(parts)
