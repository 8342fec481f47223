"""Render leaderboard tables as Markdown, CSV and one self-contained HTML page with charts."""

from __future__ import annotations

import csv
import html
import io
import json

from xllm_harness.leaderboard import Table

AVG = "Avg"


def _fmt(value: float | None, metric: str) -> str:
    if value is None:
        return "–"
    if metric in ("spbleu", "chrf") or value > 1.5:
        return f"{value:.2f}"
    return f"{value:.3f}"


def to_markdown(tables: list[Table]) -> str:
    out = []
    for table in tables:
        out.append(f"### {table.title}\n")
        header = ["model", *table.columns, AVG]
        out.append("| " + " | ".join(header) + " |")
        out.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
        for row in table.rows:
            label = f"*{row.label}*" if row.reported else row.label
            cells = [_fmt(row.values.get(c), table.metric) for c in table.columns]
            out.append("| " + " | ".join([label, *cells, _fmt(row.average, table.metric)]) + " |")
        out.append(
            f"\n{AVG}: {table.average_note}. *Italic rows*: numbers reported in the paper, not measured.\n"
        )
    return "\n".join(out)


def csv_rows(tables: list[Table]) -> list[dict[str, str]]:
    rows = []
    for table in tables:
        for row in table.rows:
            for column in [*table.columns, AVG]:
                value = row.average if column == AVG else row.values.get(column)
                rows.append(
                    {
                        "table": table.title,
                        "family": table.family,
                        "metric": table.metric,
                        "model": row.label,
                        "reported": "yes" if row.reported else "no",
                        "column": column,
                        "value": "" if value is None else repr(float(value)),
                    }
                )
    return rows


def to_csv(tables: list[Table]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(
        buf, fieldnames=["table", "family", "metric", "model", "reported", "column", "value"]
    )
    writer.writeheader()
    writer.writerows(csv_rows(tables))
    return buf.getvalue()


_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1200px;color:#222}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2.2rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
th,td{border-bottom:1px solid #ddd;padding:.25rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left}
tr.reported td{color:#666;font-style:italic}
td.avg{font-weight:600}
.note{color:#666;font-size:.8rem}
svg text{font-size:11px;fill:#333}
rect.bar{fill:#3b6ea8}rect.bar.reported{fill:#b9b9b9}
"""

_SCRIPT = """
(function () {
  const data = JSON.parse(document.getElementById('leaderboard-data').textContent);
  const ns = 'http://www.w3.org/2000/svg';
  data.tables.forEach(function (table, t) {
    const rows = table.rows.filter(r => r.average !== null);
    const holder = document.getElementById('chart-' + t);
    if (!holder || rows.length === 0) return;
    const max = Math.max.apply(null, rows.map(r => r.average)) || 1;
    const barH = 18, gap = 6, left = 260, width = 420;
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('width', left + width + 80);
    svg.setAttribute('height', rows.length * (barH + gap) + gap);
    rows.forEach(function (r, i) {
      const y = gap + i * (barH + gap);
      const label = document.createElementNS(ns, 'text');
      label.setAttribute('x', 0); label.setAttribute('y', y + barH - 5); label.textContent = r.label;
      const bar = document.createElementNS(ns, 'rect');
      bar.setAttribute('class', 'bar' + (r.reported ? ' reported' : ''));
      bar.setAttribute('x', left); bar.setAttribute('y', y); bar.setAttribute('height', barH);
      bar.setAttribute('width', Math.max(1, width * r.average / max));
      bar.setAttribute('data-value', String(r.average));
      bar.setAttribute('data-model', r.label);
      const value = document.createElementNS(ns, 'text');
      value.setAttribute('x', left + Math.max(1, width * r.average / max) + 4); value.setAttribute('y', y + barH - 5);
      value.textContent = r.display;
      svg.appendChild(label); svg.appendChild(bar); svg.appendChild(value);
    });
    holder.appendChild(svg);
  });
  document.body.setAttribute('data-rendered', 'yes');
})();
"""


def to_html(tables: list[Table], title: str = "xllm-harness leaderboard") -> str:
    """One page, no external resources: tables with exact values in ``data-value``, SVG charts of the averages."""
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<p class='note'>Italic grey rows are numbers reported in the x-LLaMA paper, not measured here.</p>",
    ]
    payload = {"tables": []}
    for t, table in enumerate(tables):
        parts.append(f"<h2>{html.escape(table.title)}</h2>")
        parts.append(f"<table data-table='{html.escape(table.title)}'><thead><tr><th>model</th>")
        parts += [f"<th>{html.escape(c)}</th>" for c in table.columns]
        parts.append(f"<th>{AVG}</th></tr></thead><tbody>")
        for row in table.rows:
            parts.append(
                f"<tr class='{'reported' if row.reported else 'measured'}'><td>{html.escape(row.label)}</td>"
            )
            for column in [*table.columns, AVG]:
                value = row.average if column == AVG else row.values.get(column)
                attr = "" if value is None else f" data-value='{float(value)!r}'"
                cls = " class='avg'" if column == AVG else ""
                parts.append(
                    f"<td{cls} data-column='{html.escape(column)}'{attr}>{html.escape(_fmt(value, table.metric))}</td>"
                )
            parts.append("</tr>")
        parts.append(f"</tbody></table><p class='note'>{AVG}: {html.escape(table.average_note)}.</p>")
        parts.append(f"<div class='chart' id='chart-{t}'></div>")
        payload["tables"].append(
            {
                "title": table.title,
                "rows": [
                    {
                        "label": r.label,
                        "reported": r.reported,
                        "average": r.average,
                        "display": _fmt(r.average, table.metric),
                    }
                    for r in table.rows
                ],
            }
        )
    data = json.dumps(payload, ensure_ascii=False).replace("</", "<\\/")
    parts.append(f"<script type='application/json' id='leaderboard-data'>{data}</script>")
    parts.append(f"<script>{_SCRIPT}</script></body></html>")
    return "".join(parts)
