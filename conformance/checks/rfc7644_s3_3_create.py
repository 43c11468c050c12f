"""RFC 7644 §3.3 — creating resources: the 201, the Location, the body, meta.resourceType, a client id.

The read-only checks grade the POST reply of the run's shared sample of each resource type (no extra
request); the check that sends something unusual (a client-chosen id) creates its own resource.
The resource helpers at the top are shared by the other lifecycle modules (§3.4.1, §3.5.1, §3.6, §3.8,
RFC 7643 §3.1 and §4.1); the generic ones live in conformance/support.py.
"""

from __future__ import annotations

from typing import Any

from ..discovery import Attribute, Discovery, ResourceType
from ..engine import Created
from ..payloads import naming_attribute
from ..registry import check
from ..support import SHOWN, field, is_error, parse_datetime, resolve, show
from ..verdicts import NotApplicable, Violation, expect

# -- helpers shared by the lifecycle modules -------------------------------------------------------


def representation(ctx, created: Created) -> tuple[str, dict[str, Any]]:
    """The resource as the create answered it or, when the answer had no body, as a GET shows it."""
    if isinstance(created.body, dict) and created.body and not is_error(created.body):
        return f"the POST {created.rt.endpoint} answer", created.body
    reply = ctx.http.get(created.path)
    body = reply.maybe_json()
    if reply.status != 200 or not isinstance(body, dict):
        raise NotApplicable(
            f"precondition: the create answered no resource and GET {created.rt.endpoint}/{created.id} "
            f"answered {reply.status}; see create.returns-resource and retrieve.same-id"
        )
    return f"GET {created.rt.endpoint}/{created.id}", body


def read_back(ctx, created: Created) -> dict[str, Any]:
    """GET the resource the check created; anything but 200 with a JSON object is a violation."""
    reply = ctx.http.get(created.path)
    expect(reply.status == 200, f"GET {created.rt.endpoint}/{created.id} answered {reply.status}, expected 200")
    return reply.json_object()


def naming(ctx, rt: ResourceType) -> str:
    """The naming attribute of ``rt`` (userName, displayName...), or skip."""
    name = naming_attribute(ctx.discovery, rt)
    if not name:
        raise NotApplicable(f"the schema of {rt.name} has no naming attribute the suite can set")
    return name


def plain_string_attribute(ctx, rt: ResourceType, body: dict[str, Any]) -> str:
    """A top-level attribute of ``body`` to change freely: a readWrite string with no uniqueness
    other than the naming attribute (e.g. a User's displayName), else the naming attribute."""
    name = naming(ctx, rt)
    schema = ctx.discovery.schema_of(rt)
    for key, value in body.items():
        attr = schema.attribute(key) if schema else None
        if (key != name and isinstance(value, str) and attr is not None and attr.type == "string"
                and not attr.multi_valued and attr.mutability == "readWrite" and attr.uniqueness == "none"
                and not attr.canonical_values):
            return key
    return name


def _case_exact(attr: Attribute | None, name: str) -> bool:
    if attr is not None:
        return attr.case_exact
    return name.lower() in ("id", "externalid")  # common attributes (RFC 7643 §3.1)


def _scalar(value: Any) -> Any:
    """A boolean or number sent back as a string ("true", "7") read as what it says: the JSON
    types are graded by the attribute checks, the lifecycle checks compare values."""
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        try:
            return float(text)
        except ValueError:
            return value
    return value


def same_value(attr: Attribute | None, name: str, sent: Any, got: Any) -> bool:
    """Do two simple values match, by the attribute's type and caseExact?"""
    if isinstance(sent, bool):
        return _scalar(got) is sent
    if isinstance(sent, int | float):
        got = _scalar(got)
        return isinstance(got, int | float) and not isinstance(got, bool) and float(sent) == float(got)
    if isinstance(sent, str) and isinstance(got, str):
        if attr is not None and attr.type == "dateTime":
            a, b = parse_datetime(sent), parse_datetime(got)
            if a is not None and b is not None:
                return a == b
        if _case_exact(attr, name):
            return sent == got
        return sent.casefold() == got.casefold()
    return sent == got


def _skipped(attr: Attribute | None, name: str) -> bool:
    """Attributes not to compare: secrets, server-assigned ones, those returned only on request."""
    if name.lower() in ("password", "id", "meta", "schemas"):
        return True
    return attr is not None and (
        attr.mutability in ("readOnly", "writeOnly") or attr.returned in ("never", "request")
    )


def _compare(attr: Attribute | None, path: str, sent: Any, got: Any) -> list[str]:
    name = path.rsplit(".", 1)[-1].rsplit(":", 1)[-1]
    if sent is None or _skipped(attr, name):
        return []
    if got is None:
        return [f"{path}: sent {show(sent)}, not returned"]
    if isinstance(sent, list):
        if isinstance(got, dict | str | int | float):
            got = [got]  # a lone value where a list was expected: the shape is graded elsewhere
        if not isinstance(got, list):
            return [f"{path}: sent a list, got {show(got)}"]
        out = []
        for item in sent:
            if isinstance(item, dict):
                found = any(isinstance(g, dict) and not _compare(attr, path, item, g) for g in got)
            else:
                found = any(same_value(attr, name, item, g) for g in got)
            if not found:
                out.append(f"{path}: sent {show(item)}, not among {show(got)}")
        return out
    if isinstance(sent, dict):
        if not isinstance(got, dict):
            return [f"{path}: sent an object, got {show(got)}"]
        out = []
        for key, value in sent.items():
            sub = attr.sub(key) if attr is not None else None
            out.extend(_compare(sub, f"{path}.{key}", value, field(got, key)))
        return out
    if not same_value(attr, name, sent, got):
        return [f"{path}: sent {show(sent)}, got {show(got)}"]
    return []


def mismatches(discovery: Discovery, rt: ResourceType, sent: dict[str, Any], got: dict[str, Any]) -> list[str]:
    """Where ``got`` does not hold the values of ``sent`` (compared as the target's /Schemas say)."""
    extensions = {e.schema.lower(): e.schema for e in rt.extensions}
    core = discovery.schema_of(rt)
    out: list[str] = []
    for key, value in sent.items():
        if key.lower() in extensions:
            ext = discovery.schemas.get(extensions[key.lower()])
            returned = field(got, key)
            if not isinstance(value, dict) or not value:
                continue
            if not isinstance(returned, dict):
                out.append(f"{key}: sent {show(value)}, not returned")
                continue
            for sub_key, sub_value in value.items():
                attr = ext.attribute(sub_key) if ext is not None else None
                out.extend(_compare(attr, f"{key}:{sub_key}", sub_value, field(returned, sub_key)))
            continue
        attr = core.attribute(key) if core is not None else None
        out.extend(_compare(attr, key, value, field(got, key)))
    return out


def problems_text(problems: list[str]) -> str:
    more = f" (and {len(problems) - SHOWN} more)" if len(problems) > SHOWN else ""
    return "; ".join(problems[:SHOWN]) + more


# -- the checks ------------------------------------------------------------------------------------------


@check(
    "create.status-201",
    "A successful create answers 201 Created",
    requirements=["7644-3.3-07"],
    level="MUST",
    per_resource_type=True,
)
def status_201(ctx, rt):
    """POSTing a new resource to its endpoint answers 201 Created (not 200 or another 2xx)."""
    created = ctx.sample(rt)
    expect(created.reply.status == 201,
           f"POST {rt.endpoint} created the resource but answered {created.reply.status}; expected 201 Created")
    ctx.passed("201 Created")


@check(
    "create.location-header",
    "The create answer gives the new resource's URI in Location and in meta.location",
    requirements=["7644-3.3-09"],
    level="MUST",
    per_resource_type=True,
)
def location_header(ctx, rt):
    """The 201 carries a Location header with the new resource's URI, and the body's meta.location
    names the same URI (a relative Location is resolved against the request URL)."""
    created = ctx.sample(rt)
    header = created.reply.headers.get("location")
    expect(header, f"POST {rt.endpoint} answered {created.reply.status} without a Location header")
    if not isinstance(created.body, dict) or not created.body:
        ctx.passed(f"Location: {header} (the answer has no body to compare meta.location with)")
        return
    meta = field(created.body, "meta")
    location = field(meta, "location")
    expect(isinstance(location, str) and location,
           f"the create answer has Location {header} but no meta.location in its body")
    expect(resolve(created.reply, header) == resolve(created.reply, location),
           f"Location header is {header} but meta.location is {location}; both name the new resource")
    ctx.passed(f"Location and meta.location are both {header}")


@check(
    "create.returns-resource",
    "The create answer's body is the new resource",
    requirements=["7644-3.3-08"],
    level="SHOULD",
    per_resource_type=True,
)
def returns_resource(ctx, rt):
    """The 201 should carry the service provider's representation of the new resource: a JSON
    object with its id (not an empty body, nor a bare acknowledgement)."""
    created = ctx.sample(rt)
    body = created.reply.maybe_json()
    expect(isinstance(body, dict) and body,
           f"POST {rt.endpoint} answered {created.reply.status} with "
           + ("an empty body" if not created.reply.text.strip() else f"{show(body)}")
           + "; the new resource is recommended in the body")
    expect(not is_error(body), f"POST {rt.endpoint} answered {created.reply.status} with an Error message body")
    rid = field(body, "id")
    expect(isinstance(rid, str) and rid,
           f"the create answer's body has no id ({show(body)}); it should be the new resource")
    ctx.passed(f"the body is the new {rt.name} (id {rid})")


@check(
    "create.echoes-values",
    "The create answer holds the values that were sent",
    requirements=["7644-3.3-08"],
    level="SHOULD",
    per_resource_type=True,
)
def echoes_values(ctx, rt):
    """Each attribute value the suite sent (secrets and read-only attributes aside) comes back in the
    create answer: exactly for caseExact attributes, ignoring case for the others, as the target's
    /Schemas define them. A server may alter what it stores, hence only a warning."""
    created = ctx.sample(rt)
    if not isinstance(created.body, dict) or not created.body:
        raise NotApplicable("the create answer has no body; see create.returns-resource")
    problems = mismatches(ctx.discovery, rt, created.sent, created.body)
    if problems:
        raise Violation(f"the create answer differs from what was sent: {problems_text(problems)}")
    ctx.passed("every value sent is in the create answer")


@check(
    "create.meta.resource-type",
    "meta.resourceType of a created resource is the endpoint's resource type",
    requirements=["7644-3.3.1-01"],
    level="MUST",
    per_resource_type=True,
)
def meta_resource_type(ctx, rt):
    """A POST to a resource type's endpoint sets meta.resourceType to that type's name as
    /ResourceTypes declares it (e.g. "User" for /Users)."""
    label, body = representation(ctx, ctx.sample(rt))
    value = field(field(body, "meta"), "resourceType")
    expect(value == rt.name, f"{label}: meta.resourceType is {show(value)}; expected {show(rt.name)}")
    ctx.passed(f"meta.resourceType is {rt.name!r}")


@check(
    "create.client-id-ignored",
    "An id sent by the client on create is ignored; the server issues its own",
    requirements=["7644-3.3-02", "7643-3.1-08"],
    level="MUST",
    per_resource_type=True,
)
def client_id_ignored(ctx, rt):
    """id is read-only and always issued by the service provider: a create whose body carries an
    "id" succeeds as if it were absent, and the new resource gets an id of the server's choosing."""
    client_id = ctx.tag("clientid")
    body = {**ctx.payload(rt), "id": client_id}
    created = ctx.create(rt, body)
    status = created.reply.status
    expect(200 <= status < 300,
           f"POST {rt.endpoint} with \"id\": {show(client_id)} in the body answered {status}; "
           "a read-only attribute sent on create is to be ignored, not refused")
    if not created.id:
        raise NotApplicable("the create answered no id; see common.id-assigned")
    expect(created.id != client_id, f"the server adopted the id the client sent ({client_id})")
    ctx.passed(f"the server issued its own id ({created.id})")
