"""RFC 7644 §3.5.1 — replacing with PUT: identity kept, values stored, no create through PUT.

Every check here writes, so each creates its own resource (deleted when the check ends). A value is
always read back with a GET: the PUT answer alone does not show what was stored.
"""

from __future__ import annotations

from typing import Any

from ..discovery import USER_URN
from ..engine import Created
from ..registry import check
from ..support import field, is_error, parse_datetime, show, unknown_id
from ..verdicts import NotApplicable, Violation, expect
from .rfc7644_s3_3_create import plain_string_attribute, read_back, representation, same_value


def _put_answer(ctx, created: Created, reply) -> tuple[str, dict[str, Any]]:
    """The resource after a PUT: the PUT answer's body or, without one, a GET."""
    body = reply.maybe_json()
    if isinstance(body, dict) and body and not is_error(body):
        return f"the PUT {created.rt.endpoint}/{created.id} answer", body
    return f"GET {created.rt.endpoint}/{created.id} after the PUT", read_back(ctx, created)


@check(
    "replace.keeps-id-and-created",
    "A PUT keeps the resource's id and meta.created; lastModified does not go back",
    requirements=["7643-3.1-07", "7644-3.5.1-11"],
    level="MUST",
    per_resource_type=True,
)
def keeps_id_and_created(ctx, rt):
    """Replacing a resource with PUT (the same values, its id included as a client would send it)
    leaves the server-assigned id and meta.created unchanged, and meta.lastModified is not earlier
    than it was before."""
    created = ctx.created_ok(rt)
    _, before = representation(ctx, created)
    reply = ctx.http.put(created.path, {**created.sent, "id": created.id})
    if not 200 <= reply.status < 300:
        raise NotApplicable(f"PUT {rt.endpoint}/{created.id} answered {reply.status}; see replace.value-stored")
    label, after = _put_answer(ctx, created, reply)
    rid = field(after, "id")
    expect(rid == created.id, f"{label}: id is {show(rid)}; it was {show(created.id)} before the PUT")
    meta0, meta1 = field(before, "meta"), field(after, "meta")
    created0, created1 = field(meta0, "created"), field(meta1, "created")
    if parse_datetime(created0) and parse_datetime(created1):
        expect(parse_datetime(created0) == parse_datetime(created1),
               f"{label}: meta.created is {created1}; it was {created0} before the PUT")
    modified0, modified1 = field(meta0, "lastModified"), field(meta1, "lastModified")
    if parse_datetime(modified0) and parse_datetime(modified1):
        expect(parse_datetime(modified1) >= parse_datetime(modified0),
               f"{label}: meta.lastModified went back from {modified0} to {modified1}")
    ctx.passed(f"id {created.id} and meta.created kept; lastModified {modified1}")


@check(
    "replace.value-stored",
    "A value given in a PUT replaces the stored one",
    requirements=["7644-3.5.1-04"],
    level="MUST",
    per_resource_type=True,
)
def value_stored(ctx, rt):
    """A PUT carrying the resource with a new value for a plain string attribute (a User's
    displayName, a Group's displayName...) succeeds, and a GET afterwards shows the new value."""
    created = ctx.created_ok(rt)
    name = plain_string_attribute(ctx, rt, created.sent)
    attr = ctx.discovery.attribute(rt, name)
    if attr is not None and attr.mutability != "readWrite":
        raise NotApplicable(f"{rt.name}.{name} is {attr.mutability}, not readWrite")
    new = ctx.tag("renamed")
    reply = ctx.http.put(created.path, {**created.sent, name: new})
    expect(200 <= reply.status < 300,
           f"PUT {rt.endpoint}/{created.id} with a new {name} answered {reply.status}; expected 200")
    body = reply.maybe_json()
    if isinstance(body, dict) and field(body, name) is not None:
        expect(same_value(attr, name, new, field(body, name)),
               f"the PUT answer shows {name} {show(field(body, name))}; {show(new)} was sent")
    stored = field(read_back(ctx, created), name)
    expect(same_value(attr, name, new, stored),
           f"after the PUT, GET shows {name} {show(stored)}; {show(new)} was sent")
    ctx.passed(f"{name} replaced and read back as {new!r}")


@check(
    "replace.unknown-id-not-created",
    "A PUT to an id that does not exist creates nothing",
    requirements=["7644-3.5.1-02", "7644-3.2-04"],
    level="MUST",
    per_resource_type=True,
)
def unknown_id_not_created(ctx, rt):
    """PUT replaces; it never creates. A PUT of a full resource to /{endpoint}/{random id} is refused
    (404 Not Found is the code for it) and no resource exists under that id afterwards."""
    rid = unknown_id()
    body = {**ctx.payload(rt), "id": rid}
    path = f"{rt.path}/{rid}"
    reply = ctx.http.put(path, body)
    after = ctx.http.get(path)
    answered = reply.maybe_json()
    made = [rid] if after.status == 200 else []
    other = field(answered, "id") if 200 <= reply.status < 300 else None
    if isinstance(other, str) and other and other not in made:
        made.append(other)
    for found in made:  # whatever a lenient target created is removed again
        ctx.run.delete_quietly(Created(rt=rt, sent=body, reply=reply, body=None, id=found, location=None))
    if 200 <= reply.status < 300:
        raise Violation(f"PUT {rt.endpoint}/<unknown id> answered {reply.status}; PUT must not create a resource")
    if after.status == 200:
        raise Violation(f"PUT {rt.endpoint}/<unknown id> answered {reply.status}, but a GET then finds "
                        "a resource under that id: PUT must not create")
    note = "" if reply.status == 404 else f" (404 is the usual code; answered {reply.status})"
    ctx.passed(f"refused with {reply.status}, nothing created{note}")


@check(
    "replace.user-deactivate-reactivate",
    "A User is deactivated and reactivated by PUT with active false, then true",
    requirements=["7644-3.5.1-04"],
    level="MUST",
    per_resource_type=True,
    resource_types=[USER_URN],
)
def user_deactivate_reactivate(ctx, rt):
    """Replacing a User with active=false (how many provisioning clients disable an account) stores
    false, and a second PUT with active=true stores true again; each is read back with a GET."""
    attr = ctx.discovery.attribute(rt, "active")
    if attr is None or attr.type != "boolean" or attr.mutability != "readWrite":
        raise NotApplicable(f"the {rt.name} schema declares no readWrite boolean active attribute")
    created = ctx.created_ok(rt)
    for value, what in ((False, "deactivate"), (True, "reactivate")):
        reply = ctx.http.put(created.path, {**created.sent, "active": value})
        expect(200 <= reply.status < 300,
               f"PUT {rt.endpoint}/{created.id} with active={str(value).lower()} ({what}) answered {reply.status}")
        stored = field(read_back(ctx, created), "active")
        expect(same_value(attr, "active", value, stored),
               f"after the PUT with active={str(value).lower()} ({what}), GET shows active {show(stored)}")
    ctx.passed("active=false then active=true, each read back")
