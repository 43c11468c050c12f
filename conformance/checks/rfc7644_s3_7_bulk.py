"""RFC 7644 §3.7 — Bulk, when /ServiceProviderConfig says bulk.supported: the BulkResponse, one result
per operation with its method, bulkId, location and status, errors reported per operation, bulkId
references resolved (§3.7.2), failOnErrors, and the maxOperations and maxPayloadSize limits (§3.7.4).

Most checks grade one bulk request per resource type (the *probe*, sent once per run by the first check
that needs it, like the shared samples): it creates a resource (POST with a bulkId), deletes an id that
does not exist (an error, placed second so that the operations after it show the server went on),
replaces one of the suite's resources (PUT), patches another (PATCH, when patch is advertised) and
deletes a third. GETs made right after the request show what was applied; everything the request
created is deleted before the probe returns. Every POST in a bulk request carries the run id in its
naming attribute. The limit checks send only DELETEs of ids that do not exist, so a server that does not
enforce its limits changes nothing.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from ..discovery import GROUP_URN, PATCH_URN, USER_URN, ResourceType, list_resources
from ..engine import Created
from ..http import Reply
from ..jsonschemas import problems
from ..payloads import naming_attribute
from ..registry import check
from ..support import SHOWN, field, is_error, said, show, unknown_id
from ..verdicts import ExchangeError, NotApplicable, expect
from .rfc7644_s3_3_create import plain_string_attribute, same_value

BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BULK_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
MAX_OPERATIONS_SENT = 1000  # above this maxOperations, the too-many-operations check skips
MAX_PAYLOAD_SENT = 2 * 1024 * 1024  # above this maxPayloadSize, the too-large-payload check skips


def _once(ctx, key: Any, make) -> Any:
    """``make(ctx)`` once per run (Run.once); later callers get its value (or the skip/error it raised) again,
    with its exchanges attached to their result too."""
    first: list[bool] = []

    def made() -> Any:
        first.append(True)
        return make(ctx)

    value = ctx.run.once(("bulk", key), made)
    if first:
        return value
    for exchange in getattr(value, "exchanges", []):
        ctx.attach(exchange)
    return value


# -- reading bulk answers ---------------------------------------------------------------------------


def _code(status: Any) -> int | None:
    """The HTTP code of an operation's status: "201", 201 or {"code": "201"}."""
    if isinstance(status, dict):
        status = field(status, "code")
    if isinstance(status, bool):
        return None
    if isinstance(status, int):
        return status
    if isinstance(status, str) and status.strip().isdigit():
        return int(status.strip())
    return None


def _results(body: Any) -> list[dict[str, Any]]:
    ops = field(body, "Operations")
    return [r for r in ops if isinstance(r, dict)] if isinstance(ops, list) else []


def _method(result: dict[str, Any]) -> str:
    value = field(result, "method")
    return value.upper() if isinstance(value, str) else ""


def _ok(result: dict[str, Any]) -> bool:
    code = _code(field(result, "status"))
    return code is not None and 200 <= code < 300


def _id_from(location: Any) -> str | None:
    if isinstance(location, str) and location.strip().rstrip("/"):
        return location.strip().rstrip("/").rsplit("/", 1)[-1] or None
    return None


def _bulk(ops: list[dict[str, Any]], fail_on_errors: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"schemas": [BULK_REQUEST]}
    if fail_on_errors is not None:
        body["failOnErrors"] = fail_on_errors
    body["Operations"] = ops
    return body


def _fits(ctx, count: int) -> None:
    """Skip when the advertised maxOperations is below the ``count`` operations a check sends."""
    limit = field(field(ctx.discovery.spc, "bulk"), "maxOperations")
    if isinstance(limit, int) and not isinstance(limit, bool) and 0 < limit < count:
        raise NotApplicable(f"maxOperations is {limit}; the check sends {count} operations in one request")


def _response_body(reply: Reply) -> dict[str, Any]:
    body = reply.maybe_json()
    if reply.status != 200 or not isinstance(body, dict):
        raise NotApplicable(f"precondition: POST /Bulk answered {reply.status}"
                            f"{'' if isinstance(body, dict) else ' without a JSON object'}; see bulk.status-200")
    return body


def _find_ids(ctx, rt: ResourceType, name: str | None, value: str) -> list[str]:
    """Ids of the suite's resources of ``rt`` named ``value`` (used when a bulk result gives no location)."""
    if not name or not ctx.discovery.supports("filter"):
        return []
    try:
        reply = ctx.http.get(rt.path, params={"filter": f'{name} eq "{value}"'})
    except ExchangeError:
        return []
    if reply.status != 200:
        return []
    return [r["id"] for r in list_resources(reply.maybe_json())
            if isinstance(r.get("id"), str) and value in json.dumps(r)]


def _delete(ctx, rt: ResourceType, rid: str | None) -> None:
    if rid:
        ctx.run.delete_quietly(Created(rt=rt, sent={}, reply=None, body=None, id=rid, location=None))  # type: ignore[arg-type]


def _created_id(ctx, rt: ResourceType, result: dict[str, Any] | None, tag: str) -> str | None:
    """The id of what a bulk POST created: from its location, else found by its name (carrying the run id)."""
    rid = _id_from(field(result, "location")) if result else None
    if rid:
        return rid
    found = _find_ids(ctx, rt, naming_attribute(ctx.discovery, rt), tag)
    return found[0] if found else None


# -- the probe ----------------------------------------------------------------------------------------


@dataclass
class Op:
    kind: str  # post, fail, put, patch, delete
    sent: dict[str, Any]
    target: str | None = None  # the id the operation names (put, patch, delete, fail)


@dataclass
class Probe:
    rt: ResourceType
    ops: list[Op]
    reply: Reply
    body: dict[str, Any] | None
    name: str  # the attribute PUT and PATCH change
    values: dict[str, str]  # kind -> value sent (post: the naming value)
    after: dict[str, Reply] = dc_field(default_factory=dict)  # kind -> GET after the request
    exchanges: list[Any] = dc_field(default_factory=list)

    def result(self, kind: str) -> dict[str, Any] | None:
        """The result of the operation of ``kind``: by bulkId, by the id in its location, else by position."""
        index = next(i for i, op in enumerate(self.ops) if op.kind == kind)
        op = self.ops[index]
        method = op.sent["method"]
        results = _results(self.body)
        same = [r for r in results if _method(r) == method]
        if kind == "post":
            match = [r for r in same if field(r, "bulkId") == op.sent.get("bulkId")]
            if match or len(same) != 1:
                return match[0] if match else None
            return same[0]
        match = [r for r in same if _id_from(field(r, "location")) == op.target]
        if match:
            return match[0]
        if len(results) == len(self.ops) and _method(results[index]) == method \
                and not field(results[index], "location"):
            return results[index]
        return None

    def has(self, kind: str) -> bool:
        return any(op.kind == kind for op in self.ops)


def _probe(ctx, rt: ResourceType) -> Probe:
    return _once(ctx, ("probe", rt.name), lambda c: _make_probe(c, rt))


def _make_probe(ctx, rt: ResourceType) -> Probe:
    _fits(ctx, 5 if ctx.discovery.supports("patch") else 4)
    put_target, delete_target = ctx.created_ok(rt), ctx.created_ok(rt)
    patch_target = ctx.created_ok(rt) if ctx.discovery.supports("patch") else None
    name = plain_string_attribute(ctx, rt, put_target.sent)
    post_body = ctx.payload(rt)
    naming = naming_attribute(ctx.discovery, rt)
    values = {"post": str(post_body.get(naming, "")) if naming else "", "put": ctx.tag("bulkput"),
              "patch": ctx.tag("bulkpatch")}
    missing = unknown_id()
    ops = [
        Op("post", {"method": "POST", "path": f"/{rt.path}", "bulkId": "sct1", "data": post_body}),
        Op("fail", {"method": "DELETE", "path": f"/{rt.path}/{missing}"}, missing),
        Op("put", {"method": "PUT", "path": f"/{put_target.path}",
                   "data": {**put_target.sent, "id": put_target.id, name: values["put"]}}, put_target.id),
    ]
    if patch_target is not None:
        ops.append(Op("patch", {"method": "PATCH", "path": f"/{patch_target.path}", "data": {
            "schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": name, "value": values["patch"]}]}},
            patch_target.id))
    ops.append(Op("delete", {"method": "DELETE", "path": f"/{delete_target.path}"}, delete_target.id))
    reply = ctx.http.post("Bulk", _bulk([op.sent for op in ops]))
    body = reply.maybe_json()
    probe = Probe(rt, ops, reply, body if isinstance(body, dict) else None, name, values)
    post_id = None
    try:
        post_id = _created_id(ctx, rt, probe.result("post") if probe.body else None, values["post"])
        if post_id:
            probe.after["post"] = ctx.http.get(f"{rt.path}/{post_id}")
        for kind, target in (("put", put_target), ("patch", patch_target), ("delete", delete_target)):
            if target is not None:
                probe.after[kind] = ctx.http.get(target.path)
    finally:
        _delete(ctx, rt, post_id)
    probe.exchanges = [reply.exchange] + [r.exchange for r in probe.after.values()]
    return probe


def _probe_results(ctx, rt: ResourceType) -> Probe:
    probe = _probe(ctx, rt)
    _response_body(probe.reply)
    return probe


def _label(probe: Probe, kind: str) -> str:
    op = next(o for o in probe.ops if o.kind == kind)
    what = {"fail": " of an unknown id"}.get(kind, "")
    return f"the {op.sent['method']} {op.sent['path'] if kind != 'post' else probe.rt.endpoint}{what}"


# -- checks on the probe ----------------------------------------------------------------------------------


@check(
    "bulk.status-200",
    "A bulk request that is processed answers 200 OK",
    requirements=["7644-3.7-12"],
    level="MUST",
    per_resource_type=True,
    needs=("bulk",),
)
def status_200(ctx, rt):
    """A well-formed bulk request within the advertised limits (POST, PUT, PATCH and DELETE operations,
    one of which fails) is processed, so POST /Bulk answers 200 OK, whatever the operations' own
    statuses."""
    probe = _probe(ctx, rt)
    expect(probe.reply.status == 200, f"POST /Bulk with {len(probe.ops)} operations answered "
                                      f"{probe.reply.status}; a processed bulk request answers 200")
    ctx.passed(f"200 for a bulk request of {len(probe.ops)} operations")


@check(
    "bulk.response-document",
    "The answer is a BulkResponse with one result per operation, each naming its method",
    requirements=["7644-3.7-02", "7644-3.7-03", "7644-3.1-02"],
    level="MUST",
    per_resource_type=True,
    needs=("bulk",),
)
def response_document(ctx, rt):
    """The body of the 200 is a BulkResponse: schemas holds its URN and Operations is an array of
    results, each an object with the method of an operation the request held, never more results of a
    method than operations of it were sent."""
    probe = _probe_results(ctx, rt)
    mine = ("7644-3.1-02", "7644-3.7-02", "7644-3.7-03")
    found = [p for p in problems("bulk-response", probe.body, limit=20)
             if "[" not in p or any(f"[{r}]" in p for r in mine)]
    results = _results(probe.body)
    sent = [op.sent["method"] for op in probe.ops]
    for method in sorted({_method(r) for r in results}):
        if results and sum(_method(r) == method for r in results) > sent.count(method):
            found.append(f"Operations: {sum(_method(r) == method for r in results)} results with method "
                         f"{method or '(none)'}, but {sent.count(method)} such operations were sent")
    expect(not found, "the BulkResponse: " + "; ".join(found[:SHOWN]))
    ctx.passed(f"BulkResponse with {len(results)} results for {len(sent)} operations")


@check(
    "bulk.bulkid-echoed",
    "The result of a bulk POST gives back the client's bulkId",
    requirements=["7644-3.7-16"],
    level="MUST",
    per_resource_type=True,
    needs=("bulk",),
)
def bulkid_echoed(ctx, rt):
    """The result of the POST operation carries the bulkId the client gave it, so the client can map it
    to the created resource."""
    probe = _probe_results(ctx, rt)
    posts = [r for r in _results(probe.body) if _method(r) == "POST"]
    if not posts:
        raise NotApplicable("the BulkResponse has no result for the POST; see bulk.response-document")
    sent = probe.ops[0].sent["bulkId"]
    if not any(_ok(r) for r in posts):
        raise NotApplicable(f"the POST failed ({show(field(posts[0], 'status'))}); nothing was created")
    got = [field(r, "bulkId") for r in posts]
    expect(sent in got, f"the result of the POST (bulkId {sent!r}) carries bulkId {show(got[0])}")
    ctx.passed(f"bulkId {sent!r} returned with the created resource")


@check(
    "bulk.location",
    "Every result but a failed POST gives the resource's location",
    requirements=["7644-3.7.3-02", "7644-3.7-08"],
    level="MUST",
    per_resource_type=True,
    needs=("bulk",),
)
def location(ctx, rt):
    """Each result carries location, the URL of the resource under its endpoint: for the PUT, PATCH and
    DELETE operations (the failed one included) the resource they name, for the POST the new resource
    (a GET of it answers 200). Only a POST that failed has none."""
    probe = _probe_results(ctx, rt)
    bad = []
    for op in probe.ops:
        result = probe.result(op.kind)
        if result is None or (op.kind == "post" and not _ok(result)):
            continue
        loc = field(result, "location")
        if not isinstance(loc, str) or not loc.strip():
            bad.append(f"{_label(probe, op.kind)}: no location")
        elif f"/{rt.path}/".lower() not in loc.lower() + "/":
            bad.append(f"{_label(probe, op.kind)}: location {loc!r} is not under {rt.endpoint}")
        elif op.target and _id_from(loc) != op.target:
            bad.append(f"{_label(probe, op.kind)}: location {loc!r} names another resource")
        elif op.kind == "post" and "post" in probe.after and probe.after["post"].status != 200:
            bad.append(f"the POST: location {loc!r} answers GET with {probe.after['post'].status}")
    expect(not bad, "; ".join(bad[:SHOWN]))
    ctx.passed("every result has the location of its resource")


_EXPECTED = {"post": {201}, "fail": {404}, "put": {200}, "patch": {200, 204}, "delete": {204, 200}}


@check(
    "bulk.status-code",
    "Each result's status holds the code the same single request would get",
    requirements=["7644-3.7.3-03"],
    level="MUST",
    per_resource_type=True,
    needs=("bulk",),
)
def status_code(ctx, rt):
    """Each result's status gives an HTTP code ("201", or an object with code), the one a single
    request would have got: 201 for the POST, 404 for the DELETE of an unknown id, 200 for the PUT,
    200 or 204 for the PATCH, 204 (or 200) for the DELETE."""
    probe = _probe_results(ctx, rt)
    bad = []
    for op in probe.ops:
        result = probe.result(op.kind)
        if result is None:
            continue
        code = _code(field(result, "status"))
        if code is None:
            bad.append(f"{_label(probe, op.kind)}: status {show(field(result, 'status'))} holds no HTTP code")
        elif code not in _EXPECTED[op.kind]:
            want = " or ".join(str(c) for c in sorted(_EXPECTED[op.kind]))
            bad.append(f"{_label(probe, op.kind)}: status {code}, expected {want}")
    expect(not bad, "; ".join(bad[:SHOWN]))
    ctx.passed("every result has the status a single request would get")


def _failed(ctx, rt) -> tuple[Probe, dict[str, Any], int]:
    probe = _probe_results(ctx, rt)
    result = probe.result("fail")
    code = _code(field(result, "status")) if result else None
    if result is None or code is None or code < 400:
        raise NotApplicable(f"{_label(probe, 'fail')} has no error result; see bulk.status-code")
    return probe, result, code


@check(
    "bulk.error-response",
    "A failed operation's result holds the SCIM Error in response",
    requirements=["7644-3.7-11", "7644-3.7-09"],
    level="MUST",
    per_resource_type=True,
    needs=("bulk",),
)
def error_response(ctx, rt):
    """The result of the operation that failed (a DELETE of an id that does not exist) carries a
    response attribute holding a SCIM Error message (RFC 7644 §3.12) with the same status."""
    probe, result, code = _failed(ctx, rt)
    response = field(result, "response")
    expect(response is not None, f"{_label(probe, 'fail')} failed with {code} but its result has no response")
    expect(is_error(response), f"the response of the failed operation is {show(response)}, not a SCIM Error")
    expect(_code(field(response, "status")) == code,
           f"the Error in the response has status {show(field(response, 'status'))}; the result's status is {code}")
    ctx.passed(f"the failed DELETE: status {code}, with a SCIM Error")


@check(
    "bulk.error-description",
    "A failed operation's result explains the error in words",
    requirements=["7644-3.7.3-04"],
    level="MUST",
    per_resource_type=True,
    needs=("bulk",),
)
def error_description(ctx, rt):
    """The result of the failed operation gives a human-readable explanation: a description in its
    status, or the detail of the Error in its response (the form the RFC's examples use)."""
    probe, result, code = _failed(ctx, rt)
    texts = [field(field(result, "status"), "description"), field(field(result, "response"), "detail")]
    said = [t for t in texts if isinstance(t, str) and t.strip()]
    expect(said, f"{_label(probe, 'fail')} failed with {code}, with neither status.description nor a "
                 "response detail to explain it")
    ctx.passed(f"explained: {said[0]!r}")


@check(
    "bulk.operations-applied",
    "Operations a bulk result reports as done are applied",
    requirements=["7644-3.7-18", "7644-3.7.3-03", "7644-3.7-10"],
    level="MUST",
    per_resource_type=True,
    needs=("bulk",),
)
def operations_applied(ctx, rt):
    """Every operation whose result reports success did what a single request would have: GETs right
    after the bulk request find the POSTed resource with its name, the PUT's and the PATCH's new values,
    and no longer the deleted resource. A successful result may come without a response body (RFC 7644
    §3.7 allows it): what was applied is read back, not taken from the BulkResponse."""
    probe = _probe_results(ctx, rt)
    attr = ctx.discovery.attribute(rt, probe.name)
    bad, done = [], []
    for op in probe.ops:
        result = probe.result(op.kind)
        if op.kind == "fail" or result is None or not _ok(result):
            continue
        after = probe.after.get(op.kind)
        if after is None:
            if op.kind == "post":
                bad.append("the POST reported success but the created resource is not found by its location "
                           "nor by its name")
            continue
        done.append(op.sent["method"])
        if op.kind == "delete":
            if after.status != 404:
                bad.append(f"the DELETE reported success but GET {rt.endpoint}/{op.target} answers {after.status}")
            continue
        got = after.maybe_json()
        if after.status != 200 or not isinstance(got, dict):
            bad.append(f"{_label(probe, op.kind)} reported success but a GET then answered {after.status}")
            continue
        if op.kind == "post":
            naming = naming_attribute(ctx.discovery, rt)
            if naming and not same_value(ctx.discovery.attribute(rt, naming), naming, probe.values["post"],
                                         field(got, naming)):
                bad.append(f"the POSTed resource has {naming} {show(field(got, naming))}; "
                           f"{probe.values['post']!r} was sent")
        elif not same_value(attr, probe.name, probe.values[op.kind], field(got, probe.name)):
            bad.append(f"{_label(probe, op.kind)} reported success but {probe.name} is "
                       f"{show(field(got, probe.name))}; {probe.values[op.kind]!r} was sent")
    expect(not bad, "; ".join(bad[:SHOWN]))
    if not done:
        raise NotApplicable("no operation reported success; see bulk.status-code")
    ctx.passed("applied: " + ", ".join(done))


@check(
    "bulk.continues-after-error",
    "Without failOnErrors, the operations after a failed one are processed",
    requirements=["7644-3.7-13", "7644-3.7.3-01"],
    level="MUST",
    per_resource_type=True,
    needs=("bulk",),
)
def continues_after_error(ctx, rt):
    """The second operation of the probe fails (a DELETE of an unknown id) and the request sets no
    failOnErrors: the server goes on, so the BulkResponse holds a result for every operation after the
    failed one."""
    probe = _probe_results(ctx, rt)
    fail = probe.result("fail")
    if fail is None or _ok(fail):
        raise NotApplicable(f"{_label(probe, 'fail')} has no error result; see bulk.status-code")
    after = probe.ops[[op.kind for op in probe.ops].index("fail") + 1:]
    missing = [_label(probe, op.kind) for op in after if probe.result(op.kind) is None]
    expect(not missing, "after the failed operation, no result for " + ", ".join(missing)
           + ": the server stopped, though the request set no failOnErrors")
    ctx.passed(f"{len(after)} operations after the failed one processed")


# -- own requests -----------------------------------------------------------------------------------------


@check(
    "bulk.fail-on-errors",
    "With failOnErrors=1, the operations after the first error are not performed",
    requirements=["7644-3.7-13"],
    level="MUST",
    per_resource_type=True,
    needs=("bulk",),
)
def fail_on_errors(ctx, rt):
    """failOnErrors is how a client overrides going on after failures: with failOnErrors=1 a DELETE
    of an unknown id (an error) followed by a PUT changing one of the suite's resources stops at the
    error. The PUT is not performed (a GET shows the old value) and no success is reported for it; the
    RFC's example still answers 200 with the results so far, but an error status is accepted too."""
    _fits(ctx, 2)
    created = ctx.created_ok(rt)
    name = plain_string_attribute(ctx, rt, created.sent)
    value = ctx.tag("bulkfoe")
    missing = unknown_id()
    ops = [{"method": "DELETE", "path": f"/{rt.path}/{missing}"},
           {"method": "PUT", "path": f"/{created.path}", "data": {**created.sent, "id": created.id, name: value}}]
    reply = ctx.http.post("Bulk", _bulk(ops, fail_on_errors=1))
    results = _results(reply.maybe_json()) if reply.status == 200 else []
    first = next((r for r in results if _method(r) == "DELETE"), None)
    if reply.status == 200 and first is not None and _ok(first):
        raise NotApplicable("the DELETE of an unknown id did not fail; see bulk.status-code")
    after = ctx.http.get(created.path)
    expect(after.status == 200, f"GET {rt.endpoint}/{created.id} answered {after.status}, expected 200")
    stored = field(after.json_object(), name)
    put_ok = [r for r in results if _method(r) == "PUT" and _ok(r)]
    expect(not same_value(ctx.discovery.attribute(rt, name), name, value, stored),
           f"with failOnErrors=1, the PUT after the failed DELETE was performed anyway ({name} is now {show(stored)})")
    expect(not put_ok, f"with failOnErrors=1, the PUT after the failed DELETE is reported as "
                       f"{show(field(put_ok[0], 'status')) if put_ok else ''}")
    ctx.passed(f"stopped after the first error (POST /Bulk answered {reply.status}; the PUT was not performed)")


@check(
    "bulk.bulkid-reference",
    "A bulkId reference in a later operation becomes the id of the resource created",
    requirements=["7644-3.7.2-01"],
    level="MUST",
    per_resource_type=True,
    resource_types=[GROUP_URN],
    needs=("bulk",),
)
def bulkid_reference(ctx, rt):
    """One bulk request creates two Users and a Group whose members name them as "bulkId:<id>": the
    server replaces each reference with the new User's id, so a GET of the Group lists the two ids and no
    "bulkId:" string."""
    users = ctx.resource_types(USER_URN)
    if not users:
        raise NotApplicable("the target declares no User resource type to be a member")
    urt = users[0]
    _fits(ctx, 3)
    group_schema = ctx.discovery.schema_of(rt)
    if group_schema is not None and group_schema.attribute("members") is None:
        raise NotApplicable(f"the {rt.name} schema has no members attribute")
    user_bodies = [ctx.payload(urt), ctx.payload(urt)]
    group_body = {**ctx.payload(rt), "members": [{"value": "bulkId:sctu1"}, {"value": "bulkId:sctu2"}]}
    ops = [{"method": "POST", "path": f"/{urt.path}", "bulkId": f"sctu{i + 1}", "data": b}
           for i, b in enumerate(user_bodies)]
    ops.append({"method": "POST", "path": f"/{rt.path}", "bulkId": "sctg1", "data": group_body})
    reply = ctx.http.post("Bulk", _bulk(ops))
    body = reply.maybe_json() if reply.status == 200 else None
    results = _results(body)
    by_bulk = {field(r, "bulkId"): r for r in results if _method(r) == "POST"}
    naming_u, naming_g = naming_attribute(ctx.discovery, urt), naming_attribute(ctx.discovery, rt)
    user_ids = [_created_id(ctx, urt, by_bulk.get(f"sctu{i + 1}"), str(b.get(naming_u, "")))
                for i, b in enumerate(user_bodies)]
    group_id = _created_id(ctx, rt, by_bulk.get("sctg1"), str(group_body.get(naming_g, "")))
    try:
        if reply.status != 200:
            raise NotApplicable(f"precondition: POST /Bulk answered {reply.status}; see bulk.status-200")
        if not all(user_ids):
            raise NotApplicable("the Users were not created; see bulk.operations-applied")
        expect(group_id, f"creating a {rt.name} whose members are \"bulkId:\" references to Users created in "
                         f"the same request failed ({show(field(by_bulk.get('sctg1'), 'status'))})")
        got = ctx.http.get(f"{rt.path}/{group_id}")
        expect(got.status == 200, f"GET {rt.endpoint}/{group_id} answered {got.status}")
        members = field(got.json_object(), "members") or []
        values = [field(m, "value") for m in members if isinstance(m, dict)]
        expect(not any(isinstance(v, str) and v.startswith("bulkId:") for v in values),
               f"the {rt.name}'s members keep the references unresolved: {show(values)}")
        missing = [u for u in user_ids if u not in values]
        expect(not missing, f"the {rt.name}'s member values are {show(values)}; expected the new Users' ids "
                            f"{show(user_ids)}")
        ctx.passed(f"both \"bulkId:\" references became the Users' ids {', '.join(user_ids)}")
    finally:
        _delete(ctx, rt, group_id)
        for uid in user_ids:
            _delete(ctx, urt, uid)


def _bulk_created(ctx, rt: ResourceType, result: dict[str, Any] | None, name: str | None, value: str) -> str | None:
    """The id a bulk POST created (a 2xx result), else None; found by location or by its run-id name."""
    if result is not None and not _ok(result):
        return None
    return _created_id(ctx, rt, result, value) if name else _id_from(field(result, "location"))


def _unresolved(value: Any) -> list[str]:
    """Every string starting with "bulkId:" anywhere in ``value``."""
    if isinstance(value, str):
        return [value] if value.startswith("bulkId:") else []
    if isinstance(value, dict):
        return [s for v in value.values() for s in _unresolved(v)]
    if isinstance(value, list):
        return [s for v in value for s in _unresolved(v)]
    return []


@check(
    "bulk.circular-references",
    "Circular bulkId references are resolved, or the request gives up with 409",
    requirements=["7644-3.7.1-01"],
    level="MUST",
    per_resource_type=True,
    resource_types=[GROUP_URN],
    needs=("bulk",),
)
def circular_references(ctx, rt):
    """One bulk request creates two Groups, each naming the other as a member by "bulkId:". The server
    tries to resolve the cycle (RFC 7644 §3.7.1): either both Groups exist afterwards, each listing the
    other's id, or it gives up and answers 409 for the operations it could not complete. A Group stored
    with a "bulkId:" string in its members, or a server error, fails. A 4xx other than 409 for both
    operations means the server takes no Groups as members (nested groups are optional): skipped."""
    _fits(ctx, 2)
    schema = ctx.discovery.schema_of(rt)
    members = schema.attribute("members") if schema is not None else None
    if schema is not None and members is None:
        raise NotApplicable(f"the {rt.name} schema has no members attribute")
    with_type = members is None or members.sub("type") is not None
    name = naming_attribute(ctx.discovery, rt)
    bodies, ops = [], []
    for mine, other in (("sctca", "sctcb"), ("sctcb", "sctca")):
        body = ctx.payload(rt)
        member = {"value": f"bulkId:{other}", **({"type": "Group"} if with_type else {})}
        body["members"] = [member]
        bodies.append(body)
        ops.append({"method": "POST", "path": f"/{rt.path}", "bulkId": mine, "data": body})
    reply = ctx.http.post("Bulk", _bulk(ops))
    results = _results(reply.maybe_json()) if reply.status == 200 else []
    by_bulk = {field(r, "bulkId"): r for r in results if _method(r) == "POST"}
    ids = [_bulk_created(ctx, rt, by_bulk.get(op["bulkId"]), name, str(b.get(name, "")) if name else "")
           if reply.status == 200 else None for op, b in zip(ops, bodies, strict=True)]
    try:
        expect(reply.status < 500, f"POST /Bulk with two {rt.name}s naming each other answered {said(reply)}")
        if reply.status == 409:
            ctx.passed("the server gave up on the cycle with 409, as RFC 7644 §3.7.1 allows")
            return
        if reply.status != 200:
            raise NotApplicable(f"precondition: POST /Bulk answered {reply.status}; see bulk.status-200")
        codes = [_code(field(by_bulk.get(op["bulkId"]), "status")) for op in ops]
        expect(not any(c is not None and c >= 500 for c in codes),
               f"the operations of the cycle got statuses {show(codes)}: a server error")
        bad = []
        for rid, op in zip(ids, ops, strict=True):
            if rid is None:
                continue
            got = ctx.http.get(f"{rt.path}/{rid}")
            left = _unresolved(field(got.maybe_json(), "members")) if got.status == 200 else []
            if left:
                bad.append(f"{rt.name} {rid} (bulkId {op['bulkId']}) was stored with members {show(left)}")
        expect(not bad, "; ".join(bad) + ": a bulkId reference was kept as a string instead of resolved")
        if all(ids):
            values = []
            for rid in ids:
                got = ctx.http.get(f"{rt.path}/{rid}")
                values.append([field(m, "value") for m in field(got.maybe_json(), "members") or []
                               if isinstance(m, dict)])
            expect(ids[1] in values[0] and ids[0] in values[1],
                   f"both {rt.name}s were created, but their members are {show(values)}; each should list the "
                   f"other's id ({ids[1]}, {ids[0]})")
            ctx.passed(f"the cycle was resolved: {ids[0]} and {ids[1]} list each other")
            return
        failed = [c for c, rid in zip(codes, ids, strict=True) if rid is None]
        if any(c == 409 for c in failed):
            ctx.passed(f"the server gave up on the cycle with 409 (statuses {show(codes)}), as RFC 7644 §3.7.1 allows")
            return
        raise NotApplicable(f"the operations were refused with {show(codes)}: the server takes no {rt.name} as a "
                            "member (nested groups are optional)")
    finally:
        for rid in ids:
            _delete(ctx, rt, rid)


def _reference_in_extension(ctx, rt: ResourceType) -> tuple[str, str]:
    """(extension URN, attribute) of a complex extension attribute with a "value" sub-attribute that
    references another resource of ``rt`` (e.g. the enterprise extension's manager)."""
    for ext in rt.extensions:
        schema = ctx.discovery.schemas.get(ext.schema)
        for attr in schema.attributes if schema else []:
            value = attr.sub("value") if attr.type == "complex" and not attr.multi_valued else None
            if value is not None and attr.mutability == "readWrite" and value.mutability in ("readWrite", "immutable"):
                ref = attr.sub("$ref")
                if ref is None or not ref.reference_types or rt.name in ref.reference_types:
                    return ext.schema, attr.name
    raise NotApplicable(f"no schema extension of {rt.name} has a reference to another {rt.name} (like manager)")


@check(
    "bulk.bulkid-in-extension",
    "A bulkId reference inside an extension attribute is resolved like a core one",
    requirements=["7644-3.7.2-02", "7644-3.7.2-01"],
    level="MUST",
    per_resource_type=True,
    resource_types=[USER_URN],
    needs=("bulk",),
)
def bulkid_in_extension(ctx, rt):
    """One bulk request creates a User and a second User whose extension attribute (the enterprise
    extension's manager) names the first as "bulkId:<id>": the server resolves references inside
    extensions like those in core attributes, so a GET of the second User gives the first one's id."""
    _fits(ctx, 2)
    urn, attr = _reference_in_extension(ctx, rt)
    name = naming_attribute(ctx.discovery, rt)
    first, second = ctx.payload(rt), ctx.payload(rt)
    second[urn] = {**(second.get(urn) or {}), attr: {"value": "bulkId:sctm1"}}
    second["schemas"] = [*[s for s in second.get("schemas", []) if s != urn], urn]
    ops = [{"method": "POST", "path": f"/{rt.path}", "bulkId": "sctm1", "data": first},
           {"method": "POST", "path": f"/{rt.path}", "bulkId": "sctm2", "data": second}]
    reply = ctx.http.post("Bulk", _bulk(ops))
    results = _results(reply.maybe_json()) if reply.status == 200 else []
    by_bulk = {field(r, "bulkId"): r for r in results if _method(r) == "POST"}
    ids = [_bulk_created(ctx, rt, by_bulk.get(op["bulkId"]), name, str(op["data"].get(name, "")) if name else "")
           if reply.status == 200 else None for op in ops]
    try:
        if reply.status != 200:
            raise NotApplicable(f"precondition: POST /Bulk answered {reply.status}; see bulk.status-200")
        if not ids[0]:
            raise NotApplicable(f"the first {rt.name} was not created; see bulk.operations-applied")
        expect(ids[1], f"creating a {rt.name} whose {urn}:{attr}.value is a \"bulkId:\" reference to a {rt.name} "
                       f"of the same request failed ({show(field(by_bulk.get('sctm2'), 'status'))})")
        got = ctx.http.get(f"{rt.path}/{ids[1]}")
        expect(got.status == 200, f"GET {rt.endpoint}/{ids[1]} answered {got.status}")
        value = field(field(field(got.json_object(), urn), attr), "value")
        expect(value == ids[0], f"{urn}:{attr}.value is {show(value)}; expected the new {rt.name}'s id {ids[0]}"
               + (" — the reference was not resolved" if isinstance(value, str) and value.startswith("bulkId:")
                  else ""))
        ctx.passed(f"{attr}.value became {ids[0]}")
    finally:
        for rid in reversed(ids):
            _delete(ctx, rt, rid)


# -- limits (§3.7.4) ---------------------------------------------------------------------------------------


@dataclass
class Oversized:
    what: str
    limit: int
    reply: Reply
    exchanges: list[Any]


def _limit(ctx, name: str) -> int:
    value = field(field(ctx.discovery.spc, "bulk"), name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise NotApplicable(f"/ServiceProviderConfig gives bulk.{name} {show(value)}, not a positive integer; "
                            "see discovery.spc.bulk")
    return value


def _first_path(ctx) -> str:
    rts = ctx.discovery.resource_types
    if not rts:
        raise NotApplicable("the target declares no resource type")
    return rts[0].path


def _too_many(ctx) -> Oversized:
    limit = _limit(ctx, "maxOperations")
    if limit > MAX_OPERATIONS_SENT:
        raise NotApplicable(f"maxOperations is {limit}: the suite does not send more than "
                            f"{MAX_OPERATIONS_SENT + 1} operations")
    path = _first_path(ctx)
    ops = [{"method": "DELETE", "path": f"/{path}/{unknown_id()}"} for _ in range(limit + 1)]
    reply = ctx.http.post("Bulk", _bulk(ops))
    return Oversized("maxOperations", limit, reply, [reply.exchange])


def _too_large(ctx) -> Oversized:
    limit = _limit(ctx, "maxPayloadSize")
    if limit > MAX_PAYLOAD_SENT:
        raise NotApplicable(f"maxPayloadSize is {limit} bytes: the suite does not send bodies over "
                            f"{MAX_PAYLOAD_SENT} bytes")
    try:
        count = min(_limit(ctx, "maxOperations"), MAX_OPERATIONS_SENT)
    except NotApplicable:
        count = 1
    path = _first_path(ctx)
    pad = math.ceil((limit + 2048) / count)
    ops = [{"method": "DELETE", "path": f"/{path}/{unknown_id()}{'0' * pad}"} for _ in range(count)]
    body = _bulk(ops)
    assert len(json.dumps(body).encode()) > limit
    reply = ctx.http.post("Bulk", body)
    return Oversized("maxPayloadSize", limit, reply, [reply.exchange])


@check(
    "bulk.max-operations-413",
    "A bulk request with more operations than maxOperations answers 413",
    requirements=["7644-3.7.4-03", "7644-3.7.4-01"],
    level="MUST",
    needs=("bulk",),
)
def max_operations_413(ctx):
    """The limit the service provider defines (bulk.maxOperations) is the one it enforces: a bulk
    request of maxOperations + 1 operations (DELETEs of ids that do not exist, so nothing changes if it
    is processed anyway) answers 413 Payload Too Large."""
    sent = _once(ctx, "too-many", _too_many)
    expect(sent.reply.status == 413, f"POST /Bulk with {sent.limit + 1} operations (maxOperations {sent.limit}) "
                                     f"answered {sent.reply.status}; expected 413")
    ctx.passed(f"413 for {sent.limit + 1} operations")


@check(
    "bulk.max-payload-413",
    "A bulk request larger than maxPayloadSize answers 413",
    requirements=["7644-3.7.4-03", "7644-3.7.4-01"],
    level="MUST",
    needs=("bulk",),
)
def max_payload_413(ctx):
    """A bulk request a little over bulk.maxPayloadSize bytes (within maxOperations; DELETEs of ids
    that do not exist) answers 413 Payload Too Large."""
    sent = _once(ctx, "too-large", _too_large)
    expect(sent.reply.status == 413, f"POST /Bulk of more than {sent.limit} bytes (maxPayloadSize) answered "
                                     f"{sent.reply.status}; expected 413")
    ctx.passed(f"413 for a body over {sent.limit} bytes")


_NAMES = {"maxOperations": ("maxoperations", "operations"), "maxPayloadSize": ("maxpayloadsize", "payload", "size")}


@check(
    "bulk.limit-in-error",
    "The 413 for an oversized bulk request says which limit was exceeded",
    requirements=["7644-3.7.4-04"],
    level="MUST",
    needs=("bulk",),
)
def limit_in_error(ctx):
    """The error body of each 413 the limit checks provoked names the limit exceeded: its value (e.g.
    1000 or 1048576) or its name (maxOperations, payload size...)."""
    graded, bad = [], []
    for key, make in (("too-many", _too_many), ("too-large", _too_large)):
        try:
            sent = _once(ctx, key, make)
        except NotApplicable:
            continue
        if sent.reply.status != 413:
            continue
        text = sent.reply.text.lower()
        graded.append(sent.what)
        if str(sent.limit) not in text and not any(n in text for n in _NAMES[sent.what]):
            bad.append(f"the 413 for exceeding {sent.what} ({sent.limit}) says {sent.reply.text[:80]!r}")
    if not graded:
        raise NotApplicable("no oversized bulk request was answered 413; see bulk.max-operations-413")
    expect(not bad, "; ".join(bad) + ": the body is to name the limit exceeded")
    ctx.passed("the 413 names the limit: " + ", ".join(graded))
