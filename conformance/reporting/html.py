"""The single-file HTML report: no external assets (styles and script inline), readable offline.

Everything is rendered here, server side, so the page shows the counts, the matrix and the details even
without JavaScript; the small inline script only filters (by outcome, level, section and text) and keeps
the filter in the URL fragment (``#outcome=fail,warn&level=MUST``), so a filtered view can be linked.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from . import OUTCOMES, accepted_ids, by_section, counts, curl_command, requirement_rows, section_url, verdict_line

CSS = """
:root{--pass:#1a7f37;--fail:#cf222e;--warn:#9a6700;--skip:#57606a;--error:#8250df;--bg:#fff;--fg:#1f2328;
--muted:#656d76;--line:#d0d7de;--soft:#f6f8fa}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);
background:var(--bg);margin:0;padding:1rem 2rem}h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.1rem;
margin:1.5rem 0 .5rem}a{color:#0969da}.meta{color:var(--muted)}.verdict{font-weight:700;font-size:1.1rem;
margin:.6rem 0}.verdict.bad{color:var(--fail)}.verdict.good{color:var(--pass)}.verdict.unsure{color:var(--error)}
.counts{display:flex;gap:.6rem;flex-wrap:wrap}.count{border:1px solid var(--line);border-radius:6px;
padding:.4rem .8rem;min-width:6rem}.count b{display:block;font-size:1.4rem}.o-pass{color:var(--pass)}
.o-fail{color:var(--fail)}.o-warn{color:var(--warn)}.o-skip{color:var(--skip)}.o-error{color:var(--error)}
table{border-collapse:collapse}th,td{border:1px solid var(--line);padding:.25rem .5rem;text-align:left;
vertical-align:top}th{background:var(--soft)}td.n{text-align:right;font-variant-numeric:tabular-nums}
td.n a{text-decoration:none;display:block;color:inherit;font-weight:600}
a.count{color:inherit;text-decoration:none}td.zero{color:var(--line)}.badge{display:inline-block;
border-radius:4px;padding:0 .35rem;color:#fff;font-weight:600;font-size:.8rem;text-transform:uppercase}
.b-pass{background:var(--pass)}.b-fail{background:var(--fail)}.b-warn{background:var(--warn)}
.b-skip{background:var(--skip)}.b-error{background:var(--error)}.filters{position:sticky;top:0;
background:var(--bg);border-bottom:1px solid var(--line);padding:.5rem 0;display:flex;gap:1rem;flex-wrap:wrap;
align-items:center;z-index:1}.filters fieldset{border:1px solid var(--line);border-radius:6px;padding:.2rem .6rem}
details.result{border:1px solid var(--line);border-radius:6px;margin:.3rem 0;padding:.3rem .6rem}
details.result>summary{cursor:pointer}details.result .msg{color:var(--muted)}pre{background:var(--soft);
padding:.5rem;overflow:auto;max-height:24rem;white-space:pre-wrap;word-break:break-all;margin:.3rem 0}
.exchange{border-left:3px solid var(--line);padding-left:.6rem;margin:.6rem 0}.accepted{font-style:italic;
color:var(--warn)}.cell{text-align:center;font-weight:600}.cell.c-pass{background:#dafbe1}
.cell.c-fail{background:#ffebe9}.cell.c-warn{background:#fff8c5}.cell.c-skip{background:var(--soft)}
.cell.c-error{background:#fbefff}.cell.c-none{color:var(--line)}[hidden]{display:none!important}
"""

SCRIPT = """
(function () {
  var results = Array.prototype.slice.call(document.querySelectorAll('details.result'));
  var boxes = Array.prototype.slice.call(document.querySelectorAll('.filters input[type=checkbox]'));
  var query = document.getElementById('q');
  var sectionBox = document.getElementById('section');
  var shown = document.getElementById('shown');
  function checked(kind) {
    return boxes.filter(function (b) { return b.name === kind && b.checked; }).map(function (b) { return b.value; });
  }
  function apply() {
    var outcomes = checked('outcome'), levels = checked('level');
    var section = sectionBox.value, text = query.value.trim().toLowerCase(), n = 0;
    results.forEach(function (el) {
      var ok = outcomes.indexOf(el.dataset.outcome) >= 0 && levels.indexOf(el.dataset.level) >= 0 &&
        (!section || el.dataset.section === section) &&
        (!text || el.dataset.search.indexOf(text) >= 0);
      el.hidden = !ok;
      if (ok) { n += 1; }
    });
    shown.textContent = String(n);
    var all = function (kind) {
      return checked(kind).length === boxes.filter(function (b) { return b.name === kind; }).length;
    };
    var parts = [];
    if (!all('outcome')) { parts.push('outcome=' + outcomes.join(',')); }
    if (!all('level')) { parts.push('level=' + levels.join(',')); }
    if (section) { parts.push('section=' + encodeURIComponent(section)); }
    if (text) { parts.push('q=' + encodeURIComponent(text)); }
    var hash = parts.length ? '#' + parts.join('&') : '';
    if (location.hash !== hash && history.replaceState) {
      history.replaceState(null, '', hash || location.pathname + location.search);
    }
  }
  function fromHash() {
    var params = {};
    location.hash.replace(/^#/, '').split('&').forEach(function (pair) {
      var i = pair.indexOf('=');
      if (i > 0) { params[pair.slice(0, i)] = decodeURIComponent(pair.slice(i + 1)); }
    });
    ['outcome', 'level'].forEach(function (kind) {
      if (params[kind] === undefined) { return; }
      var want = params[kind].split(',');
      boxes.forEach(function (b) { if (b.name === kind) { b.checked = want.indexOf(b.value) >= 0; } });
    });
    sectionBox.value = params.section || '';
    query.value = params.q || '';
  }
  boxes.forEach(function (b) { b.addEventListener('change', apply); });
  query.addEventListener('input', apply);
  sectionBox.addEventListener('change', apply);
  Array.prototype.slice.call(document.querySelectorAll('a[data-filter]')).forEach(function (a) {
    a.addEventListener('click', function (ev) {
      ev.preventDefault();
      location.hash = a.getAttribute('href').slice(1);
    });
  });
  window.addEventListener('hashchange', function () { fromHash(); apply(); });
  fromHash();
  apply();
}());
"""

_e = html.escape


def _pretty(body: str | None) -> str:
    if body is None:
        return ""
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):  # a 50,000-deep body (robustness checks) shown as sent
        return body


def _headers(headers: dict[str, str]) -> str:
    return "\n".join(f"{k}: {v}" for k, v in (headers or {}).items())


def exchange_html(ex: dict[str, Any], n: int) -> str:
    request = f"{ex['method']} {ex['url']}\n{_headers(ex.get('request_headers'))}"
    if ex.get("request_body") is not None:
        request += "\n\n" + _pretty(ex["request_body"])
    if ex.get("error"):
        response = f"no response: {ex['error']}"
    else:
        response = "".join(f"{hop['status']} redirect to {hop['location']} (followed)\n"
                           for hop in ex.get("redirects") or [])
        response += f"HTTP {ex.get('status')}  ({float(ex.get('elapsed_s') or 0) * 1000:.0f} ms)\n"
        response += _headers(ex.get("response_headers"))
        if ex.get("response_body"):
            response += "\n\n" + _pretty(ex["response_body"])
    return (
        f'<div class="exchange"><div><b>exchange {n}</b>: {_e(ex["method"])} {_e(ex["url"])}</div>'
        f"<div>request</div><pre>{_e(request)}</pre><div>response</div><pre>{_e(response)}</pre>"
        f"<div>reproduce</div><pre>{_e(curl_command(ex))}</pre></div>"
    )


def _description(check_id: str) -> str:
    from ..registry import REGISTRY, all_checks

    if not REGISTRY:
        all_checks()
    chk = REGISTRY.get(check_id)
    return chk.description if chk else ""


def result_html(r: dict[str, Any], accepted: dict[str, str]) -> str:
    reqs = requirement_rows(r["requirements"])
    links = ", ".join(f'<a href="{_e(q["url"])}">{_e(q["id"])}</a>' if q["url"] else _e(q["id"]) for q in reqs)
    search = " ".join([r["id"], r["title"], r["message"], " ".join(r["requirements"])]).lower()
    note = (
        f' <span class="accepted">accepted by the baseline: {_e(accepted[r["id"]])}</span>'
        if r["id"] in accepted
        else ""
    )
    body = [f"<p><b>{_e(r['title'])}</b> — {_e(r['section'])}, level {_e(r['level'])}</p>"]
    desc = _description(r["check"])
    if desc:
        body.append(f"<p>{_e(desc)}</p>")
    body.append(f"<p>result: {_e(r['message'])}</p>")
    body.append(
        "<ul>"
        + "".join(
            f"<li>{_e(q['id'])} ({_e(q['level'] or '?')}): {_e(q['summary'])}"
            + (f' — <a href="{_e(q["url"])}">RFC text</a>' if q["url"] else "")
            + "</li>"
            for q in reqs
        )
        + "</ul>"
    )
    if r["outcome"] in ("fail", "warn", "error"):
        from .explain import fix_hint

        hint = fix_hint(r["check"], r["requirements"])
        if hint:
            body.append(
                f'<p class="hint"><b>Where to look:</b> {_e(hint)} '
                f"(<code>scim-conformance explain {_e(r['check'])}</code>)</p>"
            )
    body.extend(exchange_html(ex, n) for n, ex in enumerate(r.get("exchanges") or [], 1))
    if not r.get("exchanges"):
        body.append("<p class=meta>no exchange recorded for this result</p>")
    return (
        f'<details class="result" id="r-{_e(r["id"])}" data-outcome="{_e(r["outcome"])}" '
        f'data-level="{_e(r["level"])}" data-section="{_e(r["section"])}" data-search="{_e(search)}">'
        f'<summary><span class="badge b-{_e(r["outcome"])}">{_e(r["outcome"])}</span> <b>{_e(r["id"])}</b> '
        f'{_e(r["level"])} [{links}]{note} <span class="msg">{_e(r["message"])}</span></summary>'
        + "".join(body)
        + "</details>"
    )


def _extra_tables(report: dict[str, Any]) -> str:
    """Profile readiness (the report's ``profiles`` member, when present) and the baseline notes."""
    out = []
    profiles = report.get("profiles") or {}
    if isinstance(profiles, dict) and profiles:
        rows = []
        for name, p in profiles.items():
            if not isinstance(p, dict):
                continue
            lists = "".join(
                f"<div>{key}: {_e(', '.join(map(str, p[key])))}</div>" for key in ("blocking", "warnings") if p.get(key)
            )
            state = "ready" if p.get("ready") else "not ready"
            rows.append(
                f'<tr data-profile="{_e(str(name))}"><th>{_e(str(name))}</th><td>{_e(str(p.get("kind", "")))}</td>'
                f'<td class="{"o-pass" if p.get("ready") else "o-fail"}">{state}</td>'
                f"<td>{_e(str(p.get('verdict', '')))}{lists}</td></tr>"
            )
        out.append(
            '<h2>Profiles</h2><table id="profiles"><thead><tr><th>profile</th><th>kind</th><th>readiness</th>'
            f"<th>verdict</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )
    base = report.get("baseline")
    if base:
        items = [
            f"<li>accepted: {_e(e['id'])} — {_e(e['reason'])} ({len(e.get('results', []))} results)</li>"
            for e in base.get("accepted", [])
        ]
        items += [
            f"<li><b>stale</b>: {_e(e['id'])} now passes — remove it ({_e(e['reason'])})</li>"
            for e in base.get("stale", [])
        ]
        items += [f"<li>unmatched: {_e(e['id'])} matched no result of this run</li>" for e in base.get("unmatched", [])]
        out.append(f'<h2>Baseline {_e(base.get("file", ""))}</h2><ul id="baseline">{"".join(items)}</ul>')
    return "".join(out)


def page(title: str, body: str, script: str = "") -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>{body}"
        + (f"<script>{script}</script>" if script else "")
        + "</body></html>\n"
    )


def render(report: dict[str, Any]) -> str:
    results = report["results"]
    c = counts(results)
    accepted = accepted_ids(report)
    target = report.get("target") or {}
    verdict = verdict_line(report)
    mood = "bad" if verdict.startswith("NOT") else "good" if verdict.startswith("CONFORMANT") else "unsure"
    tool = report.get("tool") or {}
    head = (
        f"<h1>SCIM conformance: {_e(str(target.get('url', '?')))}</h1>"
        f'<div class="meta">profile {_e(str(target.get("profile", "?")))} · run {_e(str(report.get("run_id", "")))}'
        f" · started {_e(str(report.get('started', '')))} · {float(report.get('duration_s') or 0):.1f} s"
        f" · {_e(str(tool.get('name', '')))} {_e(str(tool.get('version', '')))}</div>"
        f'<div class="verdict {mood}" id="verdict">{_e(verdict)}</div>'
    )
    count_boxes = (
        "".join(
            f'<a class="count" href="#outcome={o}" data-filter><span class="o-{o}">{o}</span>'
            f'<b id="count-{o}" data-count="{o}">{c[o]}</b></a>'
            for o in OUTCOMES
        )
        + f'<div class="count">total<b id="count-total" data-count="total">{c["total"]}</b></div>'
    )
    sections = by_section(results)
    matrix_rows = []
    for section, rs in sections.items():
        sc = counts(rs)
        url = section_url(section)
        name = f'<a href="{_e(url)}">{_e(section)}</a>' if url else _e(section)
        cells = "".join(
            f'<td class="n o-{o}"><a href="#outcome={o}&section={_e(quote(section))}" data-filter>{sc[o]}</a></td>'
            if sc[o]
            else '<td class="n zero">0</td>'
            for o in OUTCOMES
        )
        matrix_rows.append(
            f'<tr data-section="{_e(section)}"><th>{name}</th>{cells}<td class="n">{sc["total"]}</td></tr>'
        )
    matrix = (
        '<table id="matrix"><thead><tr><th>RFC section</th>'
        + "".join(f'<th class="o-{o}">{o}</th>' for o in OUTCOMES)
        + "<th>total</th></tr></thead><tbody>"
        + "".join(matrix_rows)
        + "</tbody></table>"
    )
    filters = (
        '<div class="filters"><fieldset><legend>outcome</legend>'
        + "".join(f'<label><input type="checkbox" name="outcome" value="{o}" checked> {o}</label> ' for o in OUTCOMES)
        + "</fieldset><fieldset><legend>level</legend>"
        + "".join(
            f'<label><input type="checkbox" name="level" value="{lv}" checked> {lv}</label> '
            for lv in ("MUST", "SHOULD", "MAY")
        )
        + '</fieldset><label>section <select id="section"><option value="">all</option>'
        + "".join(f'<option value="{_e(s)}">{_e(s)}</option>' for s in sections)
        + '</select></label><label>text <input id="q" type="search" placeholder="id, message, requirement"></label>'
        + f'<span>showing <b id="shown">{c["total"]}</b> of {c["total"]}</span></div>'
    )
    rank = {"fail": 0, "error": 1, "warn": 2, "skip": 3, "pass": 4}  # what needs attention first
    ordered = sorted((r for rs in sections.values() for r in rs), key=lambda r: rank.get(r["outcome"], 5))
    details = "".join(result_html(r, accepted) for r in ordered)
    body = (
        head
        + f'<div class="counts">{count_boxes}</div>'
        + _extra_tables(report)
        + "<h2>RFC sections × outcomes</h2>"
        + matrix
        + "<h2>Results</h2>"
        + filters
        + f'<div id="results">{details}</div>'
    )
    return page(f"SCIM conformance — {target.get('url', '')}", body, SCRIPT)


def write(report: dict[str, Any], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(report), encoding="utf-8")
    return path
