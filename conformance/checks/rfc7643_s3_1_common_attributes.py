"""RFC 7643 §3.1 — common attributes: the id and meta every created resource is given by the server.

Graded on the run's shared sample as the create answered it (or, when the answer had no body, as a
GET shows it). The check that sends client-chosen meta values creates its own resource.
"""

from __future__ import annotations

from ..registry import check
from ..support import field, parse_datetime, show
from ..verdicts import NotApplicable, Violation, expect
from .rfc7644_s3_3_create import representation

META_PARTS = ("resourceType", "created", "lastModified", "location")


@check(
    "common.id-assigned",
    "A created resource has a non-empty id issued by the server",
    requirements=["7643-3.1-05", "7643-3.1-02"],
    level="MUST",
    per_resource_type=True,
)
def id_assigned(ctx, rt):
    """Once the server accepts a create, the resource it returns carries a non-empty string id."""
    label, body = representation(ctx, ctx.sample(rt))
    rid = field(body, "id")
    expect(isinstance(rid, str) and rid.strip(), f"{label}: id is {show(rid)}; expected a non-empty string")
    ctx.passed(f"id {rid!r}")


@check(
    "common.meta-assigned",
    "A created resource has meta with resourceType, created, lastModified and location",
    requirements=["7643-3.1-02", "7643-3.1-15"],
    level="MUST",
    per_resource_type=True,
)
def meta_assigned(ctx, rt):
    """The server fills in meta on create: resourceType, location, and created and lastModified as
    DateTime values (version only when the server does versioning)."""
    label, body = representation(ctx, ctx.sample(rt))
    meta = field(body, "meta")
    expect(isinstance(meta, dict), f"{label}: meta is {show(meta)}; the server must assign it")
    missing = [p for p in META_PARTS if field(meta, p) in (None, "")]
    expect(not missing, f"{label}: meta has no {', '.join(missing)} ({show(meta)})")
    bad = [f"{p} is {show(field(meta, p))}" for p in ("created", "lastModified")
           if parse_datetime(field(meta, p)) is None]
    expect(not bad, f"{label}: meta.{'; meta.'.join(bad)}; expected DateTime values")
    ctx.passed("meta holds " + ", ".join(META_PARTS))


@check(
    "common.meta.last-modified-equals-created",
    "A never-modified resource has meta.lastModified equal to meta.created",
    requirements=["7643-3.1-16"],
    level="MUST",
    per_resource_type=True,
)
def last_modified_equals_created(ctx, rt):
    """Right after the create, nothing has modified the resource, so lastModified is the same instant
    as created (compared as dates and times, not as strings)."""
    label, body = representation(ctx, ctx.sample(rt))
    meta = field(body, "meta")
    created, modified = field(meta, "created"), field(meta, "lastModified")
    a, b = parse_datetime(created), parse_datetime(modified)
    if a is None or b is None:
        raise NotApplicable(f"{label}: meta.created / lastModified are not both DateTimes; see common.meta-assigned")
    expect(a == b, f"{label}: meta.created is {created} but meta.lastModified is {modified}; "
                   "a resource never modified has lastModified equal to created")
    ctx.passed(f"created and lastModified are both {created}")


@check(
    "common.meta-from-client-ignored",
    "meta values sent by a client are ignored",
    requirements=["7643-3.1-14"],
    level="MUST",
    per_resource_type=True,
)
def meta_from_client_ignored(ctx, rt):
    """A create carrying its own meta (an old created date, a bogus resourceType and location) is
    answered with the server's meta: none of the client's values is taken over."""
    bogus = {
        "resourceType": "ClientChosenType",
        "created": "2001-02-03T04:05:06Z",
        "lastModified": "2001-02-03T04:05:06Z",
        "location": "https://client.invalid/chosen",
    }
    created = ctx.create(rt, {**ctx.payload(rt), "meta": bogus})
    status = created.reply.status
    expect(200 <= status < 300, f"POST {rt.endpoint} with a client-chosen meta answered {status}; "
                                "meta sent by a client is to be ignored, not refused")
    if not created.id:
        raise NotApplicable("the create answered no id; see common.id-assigned")
    label, body = representation(ctx, created)
    meta = field(body, "meta")
    if not isinstance(meta, dict):
        raise NotApplicable(f"{label} has no meta; see common.meta-assigned")
    taken = []
    for key, value in bogus.items():
        got = field(meta, key)
        same = parse_datetime(got) == parse_datetime(value) if key in ("created", "lastModified") else got == value
        if got is not None and same:
            taken.append(f"meta.{key} {show(got)}")
    if taken:
        raise Violation(f"{label}: the server took over the client's {', '.join(taken)}")
    ctx.passed("the server's own meta, not the client's")
