"""Render leaderboard tables as Markdown, CSV and one self-contained HTML page with SVG charts.

Charts: one per table, bars per model for every column and every average (en→x and x→en apart where
the family averages them apart), on one labelled value axis per metric whose limits are shared by every
chart of that metric; 95 % intervals drawn as whiskers where they exist. The MI-Eval pairwise table is
drawn as stacked win / tie / loss bars on a 0–100 % axis.
"""

from __future__ import annotations

import csv
import html
import io
import math

from xllm_harness.leaderboard import PAIRWISE, Cell, Row, Table

MISSING = "missing"
ABSENT = "–"
MARKS = {"higher": "▲", "lower": "▼"}
PALETTE = ("#3b6ea8", "#d1762b", "#3a9a5b", "#b2443a", "#7d5ba6", "#8c6d31", "#c25a9c", "#4d9db0")
REPORTED_PALETTE = ("#b9b9b9", "#9d9d9d", "#cfcfcf", "#858585", "#e0e0e0", "#6f6f6f")
OUTCOME_COLOURS = {"win": "#3a9a5b", "tie": "#b9b9b9", "loss": "#b2443a"}
CSV_FIELDS = [
    "table", "family", "metric", "model", "reported", "column", "value",
    "ci_low", "ci_high", "missing", "vs_baseline", "p_holm",
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


def to_markdown(tables: list[Table], notes: list[str] | None = None) -> str:
    """Markdown tables (values only; intervals are in the CSV and HTML), each with its notes."""
    out = [f"> {note}\n" for note in notes or []]
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
        out += [f"- {note}" for note in table.notes]
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


def _colours(rows: list[Row]) -> dict[str, str]:
    measured = [r.label for r in rows if not r.reported]
    reported = [r.label for r in rows if r.reported]
    colours = {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(measured)}
    colours |= {label: REPORTED_PALETTE[i % len(REPORTED_PALETTE)] for i, label in enumerate(reported)}
    return colours


def _legend(entries: list[tuple[str, str]], x: float, y: float) -> list[str]:
    parts = ["<g class='legend'>"]
    for i, (label, colour) in enumerate(entries):
        top = y + i * 16
        parts.append(f"<rect x='{x}' y='{top}' width='11' height='11' fill='{colour}'/>")
        parts.append(f"<text class='legend-entry' x='{x + 16}' y='{top + 10}'>{html.escape(label)}</text>")
    parts.append("</g>")
    return parts


def chart_svg(table: Table, limits: tuple[float, float, float]) -> str:
    """Grouped bars (one per model) per column and average, on the metric's shared axis."""
    low, high, step = limits
    rows = [
        r
        for r in table.rows
        if any(_value(r, c) is not None for c in [*table.columns, *table.average_labels])
    ]
    categories = [
        c for c in [*table.columns, *table.average_labels] if any(_value(r, c) is not None for r in rows)
    ]
    colours = _colours(rows)
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
        f"data-metric='{html.escape(table.metric)}' data-ymin='{low!r}' data-ymax='{high!r}' role='img' "
        f"aria-label='{html.escape(table.title)}'>",
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
                f"height='{max(y1 - y0, 0.5):.1f}' fill='{colours[row.label]}' data-model='{html.escape(row.label)}' "
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
    parts += _legend([(r.label, colours[r.label]) for r in rows], legend_x, top)
    parts.append("</svg>")
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
        f"data-metric='win_tie_loss' data-ymin='0.0' data-ymax='1.0' role='img' aria-label='{html.escape(table.title)}'>"
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
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1200px;color:#222}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2.2rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
th,td{border-bottom:1px solid #ddd;padding:.25rem .6rem;text-align:right;vertical-align:top}
th:first-child,td:first-child{text-align:left}
tr.reported td{color:#666;font-style:italic}
td.avg{font-weight:600}td.missing{color:#b2443a}
td.higher{background:#e6f4ea}td.lower{background:#fbe9e7}
.ci{display:block;color:#777;font-size:.7rem}
.note{color:#666;font-size:.8rem;margin:.15rem 0}
svg text{font-size:11px;fill:#333}svg .axis-label{font-size:12px;font-weight:600}
svg line.grid{stroke:#e4e4e4}svg line.axis{stroke:#555}svg line.interval,svg line.interval-cap{stroke:#222;stroke-width:1.2}
"""


def _html_cell(table: Table, row: Row, column: str) -> str:
    value = _value(row, column)
    cell = row.cells.get(column)
    classes = ["avg"] if column in table.average_labels else []
    attrs = f" data-column='{html.escape(column)}'"
    if value is not None:
        attrs += f" data-value='{float(value)!r}'"
    extra = ""
    if cell is not None:
        if cell.missing is not None:
            classes.append("missing")
            attrs += f" title='{html.escape(cell.missing)}'"
        if cell.interval is not None:
            lo, hi = cell.interval
            attrs += f" data-ci-low='{lo!r}' data-ci-high='{hi!r}'"
            extra = f"<span class='ci'>[{_fmt(lo)}, {_fmt(hi)}]</span>"
        if cell.vs_baseline:
            classes.append(cell.vs_baseline)
    cls = f" class='{' '.join(classes)}'" if classes else ""
    text = _cell_text(row, column) if column in table.columns else _fmt(value)
    return f"<td{cls}{attrs}>{html.escape(text)}{extra}</td>"


def to_html(
    tables: list[Table], title: str = "xllm-harness leaderboard", notes: list[str] | None = None
) -> str:
    """One page, no external resources: tables (exact values in ``data-value``, intervals) and SVG charts."""
    limits = axis_limits(tables)
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<p class='note'>Italic grey rows are numbers reported in the x-LLaMA paper, not measured here. "
        "Bracketed numbers under a value: its 95 % bootstrap interval over items.</p>",
    ]
    parts += [f"<p class='note'>{html.escape(note)}</p>" for note in notes or []]
    for table in tables:
        parts.append(f"<h2>{html.escape(table.title)}</h2>")
        parts.append(f"<table data-table='{html.escape(table.title)}'><thead><tr><th>model</th>")
        parts += [f"<th>{html.escape(c)}</th>" for c in [*table.columns, *table.average_labels]]
        parts.append("</tr></thead><tbody>")
        for row in table.rows:
            parts.append(
                f"<tr class='{'reported' if row.reported else 'measured'}'><td>{html.escape(row.label)}</td>"
            )
            parts += [_html_cell(table, row, c) for c in [*table.columns, *table.average_labels]]
            parts.append("</tr>")
        parts.append("</tbody></table>")
        parts += [f"<p class='note'>{html.escape(note)}</p>" for note in table.notes]
        if table.family == PAIRWISE:
            parts.append(f"<div class='figure'>{pairwise_svg(table)}</div>")
        elif table.metric in limits:
            parts.append(f"<div class='figure'>{chart_svg(table, limits[table.metric])}</div>")
    parts.append("</body></html>")
    return "".join(parts)
