"""Several JSON reports side by side: a matrix of results × targets, like Autobahn's.

``scim-conformance report --html OUT run1.json run2.json ...``. A row per result id (check and resource
type), grouped by RFC section; a column per report; a cell per outcome, with the message on hover and
"—" where a report has no such result (not selected, or the target lacks the resource type).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from . import OUTCOMES, by_section, counts, section_url, verdict_line
from .html import page

_e = html.escape

SCRIPT = """
(function () {
  var box = document.getElementById('differ');
  var rows = Array.prototype.slice.call(document.querySelectorAll('tr.row'));
  function apply() {
    rows.forEach(function (tr) { tr.hidden = box.checked && tr.dataset.same === '1'; });
  }
  box.addEventListener('change', apply);
  apply();
}());
"""


def column_name(report: dict[str, Any], path: str) -> str:
    target = report.get("target") or {}
    return f"{target.get('url', '?')} ({target.get('profile', '?')})"


def matrix(reports: list[tuple[str, dict[str, Any]]]) -> tuple[list[str], dict[str, dict[str, list[Any]]]]:
    """Section -> result id -> one result dict (or None) per report, and the column names."""
    columns = [column_name(rep, path) for path, rep in reports]
    rows: dict[str, dict[str, list[Any]]] = {}
    seen_section: dict[str, str] = {}
    for _, rep in reports:
        for r in rep["results"]:
            seen_section.setdefault(r["id"], r["section"])
    every = [{"id": rid, "section": section} for rid, section in seen_section.items()]
    for section, items in by_section(every).items():
        rows[section] = {}
        for item in items:
            rows[section][item["id"]] = [
                next((r for r in rep["results"] if r["id"] == item["id"]), None) for _, rep in reports
            ]
    return columns, rows


def render(reports: list[tuple[str, dict[str, Any]]]) -> str:
    columns, rows = matrix(reports)
    head = "".join(
        f'<th title="{_e(path)}">{_e(col)}<br><span class="meta">{_e(Path(path).name)}</span></th>'
        for col, (path, _) in zip(columns, reports, strict=True)
    )
    summary_rows = []
    for o in OUTCOMES:
        cells = "".join(
            f'<td class="n o-{o}" data-column="{i}" data-count="{o}">{counts(rep["results"])[o]}</td>'
            for i, (_, rep) in enumerate(reports)
        )
        summary_rows.append(f'<tr><th class="o-{o}">{o}</th>{cells}</tr>')
    verdicts = "".join(f"<td>{_e(verdict_line(rep))}</td>" for _, rep in reports)
    summary_rows.append(f"<tr><th>verdict</th>{verdicts}</tr>")
    body_rows = []
    for section, results in rows.items():
        url = section_url(section)
        name = f'<a href="{_e(url)}">{_e(section)}</a>' if url else _e(section)
        body_rows.append(f'<tr class="section"><th colspan="{len(reports) + 1}">{name}</th></tr>')
        for rid, cells in results.items():
            outcomes = {c["outcome"] if c else None for c in cells}
            tds = "".join(
                f'<td class="cell c-{_e(c["outcome"])}" title="{_e(c["message"])}">{_e(c["outcome"])}</td>'
                if c
                else '<td class="cell c-none" title="not in this report">—</td>'
                for c in cells
            )
            level = next((c["level"] for c in cells if c), "")
            body_rows.append(
                f'<tr class="row" data-same="{int(len(outcomes) == 1)}"><th>{_e(rid)} '
                f'<span class="meta">{_e(level)}</span></th>{tds}</tr>'
            )
    body = (
        f"<h1>SCIM conformance: {len(reports)} reports compared</h1>"
        f'<table id="summary"><thead><tr><th></th>{head}</tr></thead><tbody>{"".join(summary_rows)}</tbody></table>'
        '<h2>Results × targets</h2><label><input type="checkbox" id="differ"> only rows where the targets differ'
        f'</label><table id="compare"><thead><tr><th>result</th>{head}</tr></thead><tbody>{"".join(body_rows)}'
        "</tbody></table>"
    )
    return page(f"SCIM conformance — {len(reports)} reports", body, SCRIPT)


def write(reports: list[tuple[str, dict[str, Any]]], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(reports), encoding="utf-8")
    return path
