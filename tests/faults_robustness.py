"""Faults for the robustness checks (conformance/checks/rfc7644_s3_12_robustness.py). Prefix: rob-.

Each fault is a server that breaks on one kind of bad or hostile input the way real servers do: a
parser that crashes, a filter pasted into SQL, a sanitizer that rewrites stored text, a debug page or
a database error shown to the client, an id echoed raw into a header.
"""

from __future__ import annotations

import json
import re

from .faultkit import Forward, Request, Response, fault

RESOURCES = ("Users", "Groups")
ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"


def _resource(req: Request) -> bool:
    return req.endpoint in RESOURCES


def _crash() -> Response:
    """What an uncaught exception gives behind a typical framework: 500 with an HTML page."""
    return Response(500, [("Content-Type", "text/html")], b"<html><h1>500 Internal Server Error</h1></html>")


def _parses(body: bytes) -> bool:
    try:
        json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):  # the deeply nested probe is too deep for json
        return False
    return True


def _with_detail(resp: Response, detail: str) -> Response:
    data = resp.data if isinstance(resp.data, dict) else {"schemas": [ERROR_URN], "status": str(resp.status)}
    resp.data = {**data, "detail": detail}
    return resp


@fault("rob-malformed-json-500", proves=["robustness.malformed-json"])
def malformed_json_500(req: Request, forward: Forward) -> Response:
    """The JSON parser's exception is not caught: a POST body that does not parse answers 500."""
    if req.method == "POST" and _resource(req) and not req.is_item and not _parses(req.body):
        return _crash()
    return forward(req)


@fault("rob-wrong-type-500", proves=["robustness.wrong-types"])
def wrong_type_500(req: Request, forward: Forward) -> Response:
    """A create body that is JSON but not an object (an array, a string, null) crashes the handler."""
    if (
        req.method == "POST"
        and _resource(req)
        and not req.is_item
        and _parses(req.body)
        and not isinstance(json.loads(req.body), dict)
    ):
        return _crash()
    return forward(req)


@fault("rob-oversized-500", proves=["robustness.oversized-body"])
def oversized_500(req: Request, forward: Forward) -> Response:
    """A body over 1 MiB overflows a buffer: 500."""
    if req.method in ("POST", "PUT", "PATCH") and _resource(req) and len(req.body) > 1024 * 1024:
        return _crash()
    return forward(req)


@fault("rob-long-filter-500", proves=["robustness.long-filter"])
def long_filter_500(req: Request, forward: Forward) -> Response:
    """The filter parser recurses once per "or": a filter of more than 100 clauses overflows its stack."""
    text = req.query.get("filter", "")
    if req.method == "GET" and _resource(req) and len(re.findall(r"\sor\s", text)) > 100:
        return _crash()
    return forward(req)


@fault("rob-hostile-filter-500", proves=["robustness.hostile-filter.no-server-error"])
def hostile_filter_500(req: Request, forward: Forward) -> Response:
    """A filter whose literal holds a single quote breaks the SQL the server pastes it into: 500."""
    if req.method == "GET" and _resource(req) and "'" in req.query.get("filter", ""):
        return _crash()
    return forward(req)


@fault("rob-filter-like-wildcard", proves=["robustness.hostile-filter.no-injection"])
def filter_like_wildcard(req: Request, forward: Forward) -> Response:
    """sw is a LIKE 'literal%' whose literal is not escaped: a % at its end matches anything, so
    "sw "X%"" finds what "sw "X"" finds."""
    text = req.query.get("filter", "")
    if req.method == "GET" and _resource(req) and re.search(r'\ssw\s+"[^"]*%"', text):
        req.query["filter"] = re.sub(r'(\ssw\s+"[^"]*)%"', r'\1"', text)
    return forward(req)


@fault("rob-hostile-value-500", proves=["robustness.hostile-values.no-server-error"])
def hostile_value_500(req: Request, forward: Forward) -> Response:
    """A value holding "' OR 1=1" is pasted into an INSERT statement, which fails: 500."""
    if req.method == "POST" and _resource(req) and b"' OR 1=1" in req.body:
        return _crash()
    return forward(req)


@fault("rob-hostile-value-escaped", proves=["robustness.hostile-values.read-back"])
def hostile_value_escaped(req: Request, forward: Forward) -> Response:
    """An input sanitizer HTML-escapes <script> in stored values, so they do not read back as sent."""
    if req.method in ("POST", "PUT") and _resource(req) and b"<script>" in req.body:
        req.body = req.body.replace(b"<script>", b"&lt;script&gt;").replace(b"</script>", b"&lt;/script&gt;")
    return forward(req)


_TRACE = (
    'Traceback (most recent call last):\n  File "/srv/scim/app/handlers.py", line 88, in create_user\n'
    "    payload = json.loads(body)\njson.decoder.JSONDecodeError: Expecting value: line 1 column 1"
)


@fault("rob-stack-trace-in-detail", proves=["robustness.error-detail.no-stack-trace"])
def stack_trace_in_detail(req: Request, forward: Forward) -> Response:
    """A body that does not parse is refused with 400, but its detail is the server's traceback."""
    resp = forward(req)
    if req.method == "POST" and _resource(req) and not _parses(req.body) and resp.status == 400:
        return _with_detail(resp, _TRACE)
    return resp


@fault("rob-sql-in-detail", proves=["robustness.error-detail.no-sql"])
def sql_in_detail(req: Request, forward: Forward) -> Response:
    """A filter with a single quote is refused with 400 whose detail is the database's error and query."""
    resp = forward(req)
    text = req.query.get("filter", "")
    if req.method == "GET" and _resource(req) and "'" in text and resp.status == 400:
        return _with_detail(
            resp, f'ERROR: syntax error at or near "OR" (SQLSTATE 42601) in SELECT id FROM users WHERE {text[:60]}'
        )
    return resp


@fault("rob-id-echoed-into-header", proves=["robustness.no-header-injection"])
def id_echoed_into_header(req: Request, forward: Forward) -> Response:
    """A GET of one resource echoes the decoded id raw into an X-Resource-Id header (the embedded target
    already writes it into Location; tests/test_robustness.py proves this fault on a target that does not)."""
    resp = forward(req)
    if req.method == "GET" and _resource(req) and req.is_item:
        resp.set_header("X-Resource-Id", req.segments[1])
    return resp
