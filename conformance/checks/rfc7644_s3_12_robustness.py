"""Robustness of the target (tag ``robustness``, ids ``robustness.*``): bad and hostile input is refused
with a 4xx and an error body that leaks nothing, never a server error, and never echoed unescaped
into a response header.

The RFC asks for Table 8 status codes (RFC 7644 §3.12: 400 for a request that is unparsable or
violates the schema), for filters parsed by their grammar and matching only what they say (§3.4.2.2),
for a human-readable error ``detail`` (§3.12), and for percent-encoded URLs wherever the provider
builds them (§1.2). A server error is a SHOULD-level finding (warn); a filter whose quote or wildcard
changes what it matches, and a request id written raw into a header, are MUST-level (fail).

Safe on live tenants: every body carries the run id in its naming attribute; anything a lenient
target creates is deleted at once or when the check ends; every filter compares the naming
attribute with a literal that begins with the run id, so it can match only the suite's own data
(and only ids are asked for, should a filter be misread); every request path names an id that
begins with the run id.

Decided and not checked: HEAD answered 405 (scim2-server) breaks no rule of RFC 7644, which names
GET, POST, PUT, PATCH and DELETE as the methods of SCIM (§3.2); 405 is the HTTP answer for a method
a resource does not allow.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from ..discovery import ResourceType
from ..engine import Created, deferred_interrupts
from ..http import Reply
from ..payloads import naming_attribute
from ..registry import check
from ..support import field, said, show
from ..transport import provoking
from ..verdicts import ExchangeError, NotApplicable, Violation, expect

TAGS = ("robustness",)
SHOWN = 3

# A value of each kind a hostile client sends; each must be refused (4xx) or stored and returned unchanged.
HOSTILE_VALUES: dict[str, str] = {
    "quotes": 'O\'Brien "Q" `tick`',
    "backslashes": 'C:\\temp\\new \\" \\u0041',
    "sql": "' OR 1=1 --",
    "sql-stacked": 'x"); DROP TABLE users; --',
    "markup": "<b>&amp;</b><script>alert(1)</script>",
    "unicode": "Zo\u00eb \u015c\u0107\u00efm \u540d\u524d \U0001f600 \u05e9\u05dc\u05d5\u05dd",
    "crlf": "line1\r\nX-Injected: yes",
}

OVERSIZE = 2 * 1024 * 1024  # characters in the oversized string value
LONG_FILTER_CLAUSES = 120  # "or" clauses of the very long filter (about 6 KB once encoded)
DEEP_NESTING = 50_000  # brackets of the deeply nested JSON body


# -- what an error body must not show --------------------------------------------------------------

STACK_TRACE = [
    re.compile(p)
    for p in (
        r"Traceback \(most recent call last\)",
        r'File "[^"\n]+", line \d+',
        r"\bat [\w$.<>]+\([\w$]+\.(?:java|kt|scala|groovy):\d+\)",
        r"\bat [\w.<>`]+\([^)\n]*\) in [^\n]+:line \d+",
        r"Exception in thread \"",
        r"\b(?:java|javax|jakarta|org\.springframework|org\.hibernate)\.[\w.]+(?:Exception|Error)\b",
        r"\bSystem\.[\w.]+Exception\b",
        r"[\w/\\.-]+\.(?:rb|php|py|js|ts|go|cs|java):\d+(?::in\b|\))",
        r"\bgoroutine \d+ \[",
        r"#\d+ [\w/\\.-]+\.php\(\d+\)",
        r"\bnode_modules[/\\]",
        r"Werkzeug Debugger|\bwerkzeug\.debug\b",
    )
]
SQL_TEXT = [
    re.compile(p)
    for p in (
        r"\bSQLSTATE\b",
        r"(?i)syntax error at or near",
        r"(?i)You have an error in your SQL syntax",
        r"\bORA-\d{5}\b",
        r"\bSQLITE_[A-Z]+\b|\bsqlite3\.\w+Error\b",
        r"\bpsycopg2?\b|\bPG::\w+Error\b|\bpg_query\(",
        r"\bSQL(?:Exception|SyntaxErrorException|Error)\b",
        r"(?i)unterminated quoted string",
        r"(?i)Unclosed quotation mark",
        r"\bODBC (?:SQL Server )?Driver\b|\bOLE DB\b",
        r"\bMySQLSyntaxErrorException\b|\bmysql_\w+\(",
        r"\bSELECT\s+[\w*,\s.`\"\[\]]+?\s+FROM\s+[\w.`\"\[\]]+",
        r"\bINSERT\s+INTO\s+[\w.`\"\[\]]+",
        r"\bUPDATE\s+[\w.`\"\[\]]+\s+SET\b",
        r"\bDELETE\s+FROM\s+[\w.`\"\[\]]+",
        r"\bWHERE\s+[\w.`\"\[\]]+\s*(?:=|LIKE)\s*'",
    )
]


def leaks(text: str, patterns: list[re.Pattern[str]]) -> str | None:
    """The first piece of ``text`` one of ``patterns`` finds, or None."""
    for pattern in patterns:
        found = pattern.search(text)
        if found:
            return found.group(0)
    return None


# -- probes shared by the checks (made once per run and resource type) --------------------------------


@dataclass
class Probe:
    what: str  # what was sent, for messages
    reply: Reply
    sent: Any = None  # the hostile value, for hostile-value probes
    attribute: str | None = None
    case_exact: bool = False
    read_back: Reply | None = None
    expect_empty: bool = False  # a filter whose literal matches nothing: any resource found was let in
    valid: bool = True  # a filter the grammar accepts


def _probes(ctx, rt: ResourceType, kind: str) -> list[Probe]:
    """The ``kind`` probes of ``rt`` for this run, made by the first check that needs them (Run.once)."""

    def make() -> list[Probe]:
        with provoking(ctx.http):  # a 5xx here is the finding, not a sign of a failing target
            return _MAKERS[kind](ctx, rt)

    cached = ctx.run.once(("robustness", kind, rt.name), make)
    for probe in cached:
        ctx.attach(probe.reply.exchange)
    return cached


def _naming(ctx, rt: ResourceType) -> str:
    naming = naming_attribute(ctx.discovery, rt)
    if naming is None:
        raise NotApplicable(f"no naming attribute of {rt.name} can carry the run id; the suite sends nothing")
    return naming


def _post_raw(ctx, rt: ResourceType, raw: bytes) -> Reply:
    """POST bytes that are not a valid resource; whatever a lenient target creates is deleted at once."""
    with deferred_interrupts():
        reply = ctx.http.post(rt.path, content=raw)
        body = reply.maybe_json() if 200 <= reply.status < 300 else None
        rid = field(body, "id") if isinstance(body, dict) else None
        if not rid and 200 <= reply.status < 300 and reply.headers.get("location"):
            rid = reply.headers["location"].rstrip("/").rsplit("/", 1)[-1]
        if isinstance(rid, str) and rid:
            ctx.run.delete_quietly(Created(rt, {}, reply, body, rid, reply.headers.get("location")))
    return reply


def _make_malformed(ctx, rt: ResourceType) -> list[Probe]:
    _naming(ctx, rt)
    good = json.dumps(ctx.payload(rt))
    bodies = {
        "a truncated object": good[: len(good) // 2].encode(),
        "trailing garbage": (good + " }{ garbage").encode(),
        "single-quoted keys": good.replace('"', "'").encode(),
        "bytes that are not UTF-8": b'{"schemas": ["\xff\xfe\xc3\x28"]}',
        "an empty body": b"",
        f"{DEEP_NESTING} nested arrays": b"[" * DEEP_NESTING + b"]" * DEEP_NESTING,
    }
    return [Probe(what, _post_raw(ctx, rt, raw)) for what, raw in bodies.items()]


def _wrong_value(attr) -> Any:
    if attr.multi_valued:
        return {"not": "a list"}
    return {
        "string": {"nested": ["not", "a", "string"]},
        "boolean": "yes-please",
        "integer": "not-a-number",
        "decimal": "not-a-number",
        "dateTime": 12345,
        "reference": 42,
        "binary": ["not", "base64"],
        "complex": "not-an-object",
    }.get(attr.type, ["unexpected"])


def _make_wrong_types(ctx, rt: ResourceType) -> list[Probe]:
    naming = _naming(ctx, rt).lower()
    schema = ctx.discovery.schema_of(rt)
    probes: list[Probe] = []
    attrs = [
        a
        for a in (schema.attributes if schema else [])
        if a.mutability in ("readWrite", "immutable") and a.name.lower() not in ("id", "schemas", "meta", naming)
    ]
    seen_kinds: set[tuple[str, bool]] = set()
    for attr in attrs:
        kind = (attr.type, attr.multi_valued)
        if kind in seen_kinds or len(seen_kinds) >= 4:
            continue
        seen_kinds.add(kind)
        body = ctx.payload(rt)
        body[attr.name] = _wrong_value(attr)
        probes.append(Probe(f"{attr.name}={show(body[attr.name], 40)}", ctx.create(rt, body).reply))
    body = ctx.payload(rt)
    body["schemas"] = rt.schema
    probes.append(Probe(f"schemas={show(rt.schema, 60)} (a string, not a list)", ctx.create(rt, body).reply))
    for what, raw in (
        ("a JSON array as the body", [ctx.payload(rt)]),
        ("a JSON string as the body", "User"),
        ("null as the body", None),
    ):
        probes.append(Probe(what, _post_raw(ctx, rt, json.dumps(raw).encode())))
    return probes


def _carrier(ctx, rt: ResourceType) -> tuple[str, bool, bool]:
    """(attribute, caseExact, is the naming attribute) that carries the hostile values."""
    naming = _naming(ctx, rt)
    schema = ctx.discovery.schema_of(rt)
    fit = [
        a
        for a in (schema.attributes if schema else [])
        if a.type == "string"
        and not a.multi_valued
        and a.mutability == "readWrite"
        and a.uniqueness == "none"
        and a.returned in ("default", "always")
        and not a.canonical_values
        and a.name.lower() != naming.lower()
        and a.name.lower() not in ("password", "id", "externalid")
    ]
    preferred = ("displayName", "nickName", "title", "description")
    fit.sort(key=lambda a: (preferred.index(a.name) if a.name in preferred else len(preferred), not a.case_exact))
    if fit:
        return fit[0].name, fit[0].case_exact, False
    attr = schema.attribute(naming) if schema else None
    return naming, bool(attr and attr.case_exact), True


def _make_hostile_values(ctx, rt: ResourceType) -> list[Probe]:
    name, case_exact, is_naming = _carrier(ctx, rt)
    probes: list[Probe] = []
    for what, value in HOSTILE_VALUES.items():
        body = ctx.payload(rt)
        sent = f"{body[name]}-{value}" if is_naming else value
        body[name] = sent
        created = ctx.create(rt, body)
        probe = Probe(f"{name} with {what} ({show(value, 40)})", created.reply, sent, name, case_exact)
        if 200 <= created.reply.status < 300 and created.id:
            probe.read_back = ctx.http.get(created.path)
            ctx.attach(probe.read_back.exchange)
        probes.append(probe)
    return probes


def _filter_literal(value: str) -> str:
    """``value`` as a filter's JSON string literal (quotes and control characters escaped)."""
    return json.dumps(value, ensure_ascii=False)


def _make_hostile_filters(ctx, rt: ResourceType) -> list[Probe]:
    if not ctx.discovery.supports("filter"):
        return []
    naming = _naming(ctx, rt)
    run_id = ctx.run.run_id
    ctx.sample(rt)  # data of the run that a misread quote or wildcard would let in
    matching_nothing = [
        ("eq", f"{run_id}' OR '1'='1"),
        ("eq", f"{run_id}' OR 1=1 --"),
        ("eq", f'{run_id}" or "1"="1'),
        ("sw", f"{run_id}%"),
        ("sw", f"{run_id}_"),
        ("sw", f"{run_id}.*"),
        ("sw", f"{run_id}*"),
    ]
    valid = [
        ("eq", f"{run_id}\\ backslash \\\\"),
        ("eq", f"{run_id}\r\nX-Injected: yes"),
        ("eq", f"{run_id} {HOSTILE_VALUES['unicode']}"),
        ("eq", f"{run_id}{HOSTILE_VALUES['sql-stacked']}"),
    ]
    malformed = [
        f'{naming} eq "{run_id}',
        f"{naming} eq '{run_id}' OR '1'='1'",
        f'({naming} eq "{run_id}"',
        f'{naming} eq "{run_id}" or',
        f'{naming} eq "{run_id}"; DROP TABLE users; --',
    ]
    probes: list[Probe] = []
    for op, literal in matching_nothing + valid:
        text = f"{naming} {op} {_filter_literal(literal)}"
        reply = ctx.http.get(rt.path, params={"filter": text, "attributes": "id", "count": "3"})
        probes.append(Probe(f"filter {show(text, 70)}", reply, expect_empty=True))
    for text in malformed:
        reply = ctx.http.get(rt.path, params={"filter": text, "attributes": "id", "count": "3"})
        probes.append(Probe(f"filter {show(text, 70)}", reply, valid=False))
    return probes


def _make_unknown_ids(ctx, rt: ResourceType) -> list[Probe]:
    tag = ctx.tag("nosuch")
    return [
        Probe(f"GET {rt.endpoint}/{tag}{suffix}", ctx.http.get(f"{rt.path}/{tag}{suffix}"))
        for suffix in ("'%20OR%20'1'='1", "%22%3E%3Cx%3E")
    ]


_MAKERS = {
    "malformed": _make_malformed,
    "wrong-types": _make_wrong_types,
    "hostile-values": _make_hostile_values,
    "hostile-filters": _make_hostile_filters,
    "unknown-ids": _make_unknown_ids,
}


def _server_errors(probes: list[Probe]) -> list[str]:
    return [f"{p.what} answered {said(p.reply)}" for p in probes if p.reply.status >= 500 and p.reply.status != 501]


def _listing(items: list[str]) -> str:
    return "; ".join(items[:SHOWN]) + (f"; and {len(items) - SHOWN} more" if len(items) > SHOWN else "")


# -- the checks -----------------------------------------------------------------------------------------


@check(
    "robustness.malformed-json",
    "A body that is not valid JSON is refused with 400, not a server error",
    requirements=["7644-3.12-05"],
    level="SHOULD",
    per_resource_type=True,
    tags=TAGS,
)
def malformed_json(ctx, rt):
    """POSTs to the endpoint a truncated object, an object with trailing garbage, single-quoted keys,
    bytes that are not UTF-8, an empty body and deeply nested arrays. Table 8 answers an unparsable
    request with 400 Bad Request; a 5xx (a parser crash, a recursion limit) or another code misses it."""
    probes = _probes(ctx, rt, "malformed")
    wrong = [f"{p.what} answered {said(p.reply)}" for p in probes if p.reply.status != 400]
    expect(not wrong, f"expected 400 for each unparsable body: {_listing(wrong)}")
    ctx.passed(f"400 for each of {len(probes)} unparsable bodies")


@check(
    "robustness.wrong-types",
    "Values of the wrong JSON type are refused with 4xx, never a server error",
    requirements=["7644-3.12-05"],
    level="SHOULD",
    per_resource_type=True,
    tags=TAGS,
)
def wrong_types(ctx, rt):
    """Creates in which one attribute holds a value of another JSON type (an object for a string, a
    string for a list, ...), "schemas" is a string, or the body is an array, a string or null. Each
    violates the schema: a 4xx (Table 8 names 400) is expected; a lenient target may coerce an attribute
    (2xx), but never a non-object body, and a 5xx is never right."""
    probes = _probes(ctx, rt, "wrong-types")
    errors = _server_errors(probes)
    accepted = [
        f"{p.what} was accepted ({p.reply.status})"
        for p in probes
        if p.what.endswith("as the body") and p.reply.status < 400
    ]
    expect(not errors and not accepted, "expected 4xx: " + _listing(errors + accepted))
    refused = sum(1 for p in probes if 400 <= p.reply.status < 500)
    ctx.passed(f"{refused} of {len(probes)} wrong-typed bodies refused with 4xx, the rest stored; no server error")


@check(
    "robustness.oversized-body",
    "A very large body is answered 413 or 400 (or stored), never a server error",
    requirements=["7644-3.12-05"],
    level="SHOULD",
    per_resource_type=True,
    tags=TAGS,
)
def oversized_body(ctx, rt):
    """Creates a resource whose text attribute holds 2 MiB. The target may store it, or refuse it with
    413 Payload Too Large or 400; another status (a 5xx above all) is not what Table 8 names. A target
    that closes the connection during the upload gives no status to judge (a server may do that after
    refusing a body), so the check is then skipped."""
    name, _, is_naming = _carrier(ctx, rt)
    body = ctx.payload(rt)
    big = "x" * OVERSIZE
    body[name] = f"{body[name]}-{big}" if is_naming else big
    try:
        with provoking(ctx.http):
            reply = ctx.create(rt, body).reply
    except ExchangeError as exc:
        raise NotApplicable(f"the target closed the connection during the 2 MiB upload ({exc.message})") from None
    if 200 <= reply.status < 300:
        ctx.passed(f"a {OVERSIZE // 1024} KiB {name} was stored ({reply.status})")
        return
    expect(
        reply.status in (400, 413),
        f"a {OVERSIZE // 1024} KiB {name} was answered {said(reply)}; expected 413 Payload Too Large or 400",
    )
    ctx.passed(f"refused with {reply.status}")


@check(
    "robustness.long-filter",
    "A very long filter is answered (with what it matches) or refused with 4xx, never a server error",
    requirements=["7644-3.4.2.2-17", "7644-3.12-05"],
    level="SHOULD",
    per_resource_type=True,
    needs=("filter",),
    tags=TAGS,
)
def long_filter(ctx, rt):
    """A filter of 120 "or" clauses on the naming attribute, the last naming the run's sample. The
    target may refuse it (400, 413, 414, ...: a limit is its right) or evaluate it, and then returns the
    sample; a 5xx, or an answer that misses the sample, is a parser that breaks on long input."""
    naming = _naming(ctx, rt)
    sample = ctx.sample(rt)
    value = sample.sent.get(naming)
    if not isinstance(value, str):
        raise NotApplicable(f"the sample {rt.name} has no {naming} to look for")
    clauses = [f'{naming} eq "{ctx.run.run_id}-long-{i:04d}"' for i in range(LONG_FILTER_CLAUSES - 1)]
    text = " or ".join([*clauses, f"{naming} eq {_filter_literal(value)}"])
    with provoking(ctx.http):
        reply = ctx.http.get(rt.path, params={"filter": text, "attributes": "id"})
    expect(reply.status < 500, f"a {len(text)}-character filter answered {said(reply)}; expected an answer or a 4xx")
    if reply.status >= 400:
        ctx.passed(f"a {len(text)}-character filter refused with {reply.status}")
        return
    body = reply.json_object()
    ids = [field(r, "id") for r in body.get("Resources") or [] if isinstance(r, dict)]
    expect(
        sample.id in ids,
        f"a {len(text)}-character filter naming the sample ({naming} eq {value!r} in its last clause) "
        f"answered {reply.status} without it (ids {show(ids, 80)})",
    )
    ctx.passed(f"a {len(text)}-character filter found the sample")


@check(
    "robustness.hostile-filter.no-server-error",
    "Filters with quotes, backslashes, SQL, unicode or CR/LF are answered or refused with 4xx, never 5xx",
    requirements=["7644-3.12-05", "7644-3.4.2.2-17"],
    level="SHOULD",
    per_resource_type=True,
    needs=("filter",),
    tags=TAGS,
)
def hostile_filter_no_server_error(ctx, rt):
    """Valid filters whose string literal holds quotes, backslashes, an SQL fragment, unicode or an
    escaped CR/LF, and malformed ones (an unterminated string, single quotes, an unbalanced parenthesis,
    a dangling "or", trailing SQL). The valid ones are evaluated (200) and the malformed refused (400
    invalidFilter): a 5xx means the input reached something that broke on it."""
    probes = _probes(ctx, rt, "hostile-filters")
    errors = _server_errors(probes)
    expect(not errors, f"server errors: {_listing(errors)}")
    ctx.passed(f"{len(probes)} hostile filters, no server error")


@check(
    "robustness.hostile-filter.no-injection",
    "A quote or wildcard in a filter literal never widens what the filter matches",
    requirements=["7644-3.4.2.2-04", "7644-3.4.2.2-17"],
    level="MUST",
    per_resource_type=True,
    needs=("filter",),
    tags=TAGS,
)
def hostile_filter_no_injection(ctx, rt):
    """Filters compare the naming attribute with literals that begin with the run id and go on with
    ' OR '1'='1, " or "1"="1, %, _, .* or *. No resource holds such a value, so each answer has no
    resources; the run's sample exists, so a literal read as SQL, a LIKE pattern, a regex or a glob
    would find it. Only resources matching the filter may be returned."""
    probes = [p for p in _probes(ctx, rt, "hostile-filters") if p.expect_empty]
    answered = [p for p in probes if p.reply.status == 200]
    if not answered:
        raise NotApplicable("the target answered none of the filters with 200; nothing to judge")
    widened = []
    for p in answered:
        body = p.reply.maybe_json()
        total = body.get("totalResults") if isinstance(body, dict) else None
        found = [r for r in (body.get("Resources") or []) if isinstance(r, dict)] if isinstance(body, dict) else []
        if found or (isinstance(total, int) and total > 0):
            widened.append(f"{p.what} matched {total if isinstance(total, int) else len(found)} resources")
    expect(
        not widened,
        "a literal matching no value found resources (its quote or wildcard was interpreted): " + _listing(widened),
    )
    ctx.passed(f"{len(answered)} filters with quotes and wildcards matched nothing, as their literals say")


@check(
    "robustness.hostile-values.no-server-error",
    "Values and ids with quotes, backslashes, SQL, markup, unicode or CR/LF get an answer, never a 5xx",
    requirements=["7644-3.12-05"],
    level="SHOULD",
    per_resource_type=True,
    tags=TAGS,
)
def hostile_values_no_server_error(ctx, rt):
    """Creates a resource per hostile string in a text attribute (the naming attribute keeps the run id
    in front), and GETs ids (beginning with the run id) that hold quotes, SQL and angle brackets. Each value
    is a valid JSON string: the target stores it (2xx) or refuses it (4xx, e.g. a character policy); an
    unknown id is a 404; a 5xx means the input reached something that broke on it."""
    probes = _probes(ctx, rt, "hostile-values")
    errors = _server_errors(probes + _probes(ctx, rt, "unknown-ids")) + [
        f"reading back {p.what} answered {said(p.read_back)}"
        for p in probes
        if p.read_back is not None and p.read_back.status >= 500
    ]
    expect(not errors, f"server errors: {_listing(errors)}")
    stored = sum(1 for p in probes if 200 <= p.reply.status < 300)
    ctx.passed(f"{stored} of {len(probes)} hostile values stored, the rest refused with 4xx")


def _same(sent: str, got: Any, case_exact: bool) -> bool:
    if not isinstance(got, str):
        return False
    a, b = unicodedata.normalize("NFC", sent), unicodedata.normalize("NFC", got)
    return a == b if case_exact else a.casefold() == b.casefold()


@check(
    "robustness.hostile-values.read-back",
    "A stored value with quotes, backslashes, markup, unicode or CR/LF reads back as sent",
    requirements=["7644-3.3-08", "7644-3.8-01", "7643-7-14"],
    level="SHOULD",
    per_resource_type=True,
    tags=TAGS,
)
def hostile_values_read_back(ctx, rt):
    """For each hostile value the target stored, a GET of the new resource returns the value sent: not
    escaped (&lt;, \\"), not cut at a quote, not re-encoded (SCIM text is UTF-8), its case kept unless the
    attribute is caseExact=false. RFC 7644 §3.3 leaves a server free to alter what it is sent (and asks
    its 201 to show the resource as stored, so the client can correlate), hence a warning, not a failure:
    a client that compares its values with the server's sees a difference it cannot resolve."""
    probes = [p for p in _probes(ctx, rt, "hostile-values") if p.read_back is not None]
    if not probes:
        raise NotApplicable("the target stored none of the hostile values; nothing to read back")
    changed = []
    for p in probes:
        if p.read_back.status != 200:
            changed.append(f"{p.what}: the GET answered {p.read_back.status}")
            continue
        got = field(p.read_back.maybe_json(), p.attribute or "")
        if not _same(p.sent, got, p.case_exact):
            changed.append(f"{p.what}: sent {show(p.sent, 50)}, read back {show(got, 50)}")
    expect(not changed, "values changed on the way: " + _listing(changed))
    ctx.passed(f"{len(probes)} hostile values read back unchanged")


def _error_probes(ctx, rt: ResourceType) -> list[Probe]:
    kinds = ("malformed", "wrong-types", "unknown-ids", "hostile-filters")
    return [p for kind in kinds for p in _probes(ctx, rt, kind) if p.reply.status >= 400]


def _leak_check(ctx, rt: ResourceType, patterns: list[re.Pattern[str]], what: str) -> None:
    probes = _error_probes(ctx, rt)
    if not probes:
        raise NotApplicable("no probe was answered with an error; no error body to read")
    leaked = []
    for p in probes:
        found = leaks(p.reply.text, patterns)
        if found:
            leaked.append(f"{p.what} answered {p.reply.status} showing {show(found, 60)}")
    if leaked:
        raise Violation(f"error bodies show {what}: {_listing(leaked)}")
    ctx.passed(f"{len(probes)} error answers, none showing {what}")


@check(
    "robustness.error-detail.no-stack-trace",
    "Error answers to bad input show no stack trace",
    requirements=["7644-3.12-04", "7644-3.12-05"],
    level="SHOULD",
    per_resource_type=True,
    tags=TAGS,
)
def error_detail_no_stack_trace(ctx, rt):
    """The error bodies answering unparsable JSON, wrong types, malformed filters and unknown ids are
    read for stack traces (Python, Java, .NET, Go, PHP, Node frames, debugger pages). "detail" is a
    message for a person; a trace tells an attacker the code paths and libraries instead."""
    _leak_check(ctx, rt, STACK_TRACE, "a stack trace")


@check(
    "robustness.error-detail.no-sql",
    "Error answers to bad input show no SQL text or database error",
    requirements=["7644-3.12-04", "7644-3.12-05"],
    level="SHOULD",
    per_resource_type=True,
    tags=TAGS,
)
def error_detail_no_sql(ctx, rt):
    """The same error bodies are read for SQL statements and database errors (SQLSTATE, ORA-, "syntax
    error at or near", driver exception names): input that reaches the database unescaped shows there
    first, and the text tells an attacker how to shape the next request."""
    _leak_check(ctx, rt, SQL_TEXT, "SQL or a database error")


_BAD_IN_URL = re.compile(r"[\x00-\x20\x7f\"<>\\^`{|}]")


def _malformed_header(message: str) -> bool:
    lowered = message.lower()
    return any(s in lowered for s in ("illegal header", "invalid header", "header line", "malformed header"))


@check(
    "robustness.no-header-injection",
    "An id with CR/LF or spaces in the request path is never written unescaped into a response header",
    requirements=["7644-1.2-01"],
    level="MUST",
    per_resource_type=True,
    tags=TAGS,
)
def no_header_injection(ctx, rt):
    """GETs ids (beginning with the run id) that hold an encoded CR LF followed by a header line, a
    lone LF, a lone CR, and a space with quotes and angle brackets. URLs the provider builds, such as a
    Location header, are percent-encoded: the decoded id must not split the header section (a header
    of our choosing appearing, or a header line the client cannot parse), nor stand raw in a URL."""
    tag = ctx.tag("probe")
    injected = "X-Scim-Injected"
    paths = {
        "CR LF": f"{tag}%0D%0A{injected}:%20{ctx.run.run_id}",
        "LF": f"{tag}%0A{injected}:%20{ctx.run.run_id}",
        "CR": f"{tag}%0D{injected}:%20{ctx.run.run_id}",
        "space, quotes and <>": f"{tag}%20%22q%22%3Cx%3E",
    }
    problems = []
    for what, suffix in paths.items():
        try:
            with provoking(ctx.http):
                reply = ctx.http.get(f"{rt.path}/{suffix}")
        except ExchangeError as exc:
            if _malformed_header(exc.message):
                problems.append(f"an id with {what}: the answer's header section is malformed ({exc.message[-90:]})")
                continue
            raise
        if injected.lower() in {k.lower() for k in reply.headers}:
            problems.append(f"an id with {what}: the answer carries an {injected} header, split off the id")
        for name, value in reply.headers.multi_items():
            if name.lower() in ("location", "content-location") and _BAD_IN_URL.search(value):
                problems.append(f"an id with {what}: {name} holds it unencoded ({show(value[-60:], 70)})")
    expect(not problems, "; ".join(problems[:SHOWN]))
    ctx.passed("ids with CR, LF, spaces and quotes never appear raw in a header")
