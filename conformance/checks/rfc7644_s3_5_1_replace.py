"""RFC 7644 §3.5.1 — replacing with PUT: identity kept, values stored, no create through PUT; immutable
and readOnly attributes, lastModified, omitted attributes, and deactivation (active=false).

Every check here writes, so each creates its own resource (deleted when the check ends). A value is
always read back with a GET: the PUT answer alone does not show what was stored.
"""

from __future__ import annotations

import json
import time
from typing import Any

from ..discovery import USER_URN, list_resources
from ..engine import Created
from ..payloads import naming_attribute
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
    requirements=["7644-3.5.1-04", "7644-3.5-01"],
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


# -- mutability on PUT (RFC 7644 §3.5.1), lastModified, omitted attributes, deactivation ---------------------


def _immutable_attribute(ctx, rt) -> tuple[str | None, str]:
    """(extension URN or None, name) of a single-valued string attribute the schemas declare immutable."""
    candidates = [(None, ctx.discovery.schema_of(rt))]
    candidates += [(ext.schema, ctx.discovery.schemas.get(ext.schema)) for ext in rt.extensions]
    for urn, schema in candidates:
        for attr in schema.attributes if schema else []:
            if (attr.mutability == "immutable" and attr.type == "string" and not attr.multi_valued
                    and not attr.canonical_values and attr.name.lower() not in ("id", "externalid")):
                return urn, attr.name
    raise NotApplicable(f"the schemas of {rt.name} declare no single-valued string attribute as immutable")


def _with_value(body: dict[str, Any], urn: str | None, name: str, value: Any) -> dict[str, Any]:
    out = {**body}
    if urn is None:
        out[name] = value
    else:
        out[urn] = {**(out.get(urn) or {}), name: value}
        if urn not in out.get("schemas", []):
            out["schemas"] = [*out.get("schemas", []), urn]
    return out


def _value_of(resource: dict[str, Any], urn: str | None, name: str) -> Any:
    return field(field(resource, urn) if urn else resource, name)


def _immutable_resource(ctx, rt) -> tuple[Created, str | None, str, str]:
    urn, name = _immutable_attribute(ctx, rt)
    value = ctx.tag("imm")
    created = ctx.created_ok(rt, _with_value(ctx.payload(rt), urn, name, value))
    return created, urn, name, value


def _label(urn: str | None, name: str) -> str:
    return f"{urn}:{name}" if urn else name


@check(
    "replace.immutable-kept",
    "A PUT with another value for an immutable attribute does not change it",
    requirements=["7644-3.5.1-09", "7643-7-20"],
    level="MUST",
    per_resource_type=True,
)
def immutable_kept(ctx, rt):
    """A resource is created with a value for an attribute its schema declares immutable; a PUT giving
    that attribute another value is refused (or at least not applied): a GET afterwards still shows
    the original value."""
    created, urn, name, value = _immutable_resource(ctx, rt)
    reply = ctx.http.put(created.path, _with_value(created.sent, urn, name, ctx.tag("imm2")))
    stored = _value_of(read_back(ctx, created), urn, name)
    expect(stored == value,
           f"{_label(urn, name)} is immutable, but after a PUT with another value (answered {reply.status}) GET "
           f"shows {show(stored)}; it was {value!r}")
    ctx.passed(f"{_label(urn, name)} kept (the PUT answered {reply.status})")


@check(
    "replace.immutable-mutability-error",
    'A PUT changing an immutable attribute is answered 400 with scimType "mutability"',
    requirements=["7644-3.5.1-09", "7644-3.12-05"],
    level="SHOULD",
    per_resource_type=True,
)
def immutable_mutability_error(ctx, rt):
    """The PUT that would change an immutable attribute's existing value is answered 400 Bad Request
    with scimType "mutability"."""
    created, urn, name, _ = _immutable_resource(ctx, rt)
    reply = ctx.http.put(created.path, _with_value(created.sent, urn, name, ctx.tag("imm2")))
    body = reply.maybe_json()
    scim_type = field(body, "scimType") if isinstance(body, dict) else None
    expect(reply.status == 400 and scim_type == "mutability",
           f"a PUT changing the immutable {_label(urn, name)} answered {reply.status}"
           + (f" with scimType {scim_type!r}" if scim_type else "") + "; expected 400 with scimType \"mutability\"")
    ctx.passed('400 with scimType "mutability"')


@check(
    "replace.immutable-same-value",
    "A PUT repeating an immutable attribute's value is accepted",
    requirements=["7644-3.5.1-09"],
    level="MUST",
    per_resource_type=True,
)
def immutable_same_value(ctx, rt):
    """Clients may send every attribute in a PUT: one carrying the immutable attribute with the value
    it already has (and a new value for a readWrite attribute) succeeds."""
    created, urn, name, value = _immutable_resource(ctx, rt)
    other = plain_string_attribute(ctx, rt, created.sent)
    body = _with_value(created.sent, urn, name, value)
    if other != name:
        body[other] = ctx.tag("renamed") if other != naming_attribute(ctx.discovery, rt) else body[other]
    reply = ctx.http.put(created.path, body)
    expect(200 <= reply.status < 300,
           f"a PUT repeating the immutable {_label(urn, name)} with its own value {value!r} answered {reply.status}; "
           "matching values are accepted")
    ctx.passed(f"accepted ({reply.status})")


@check(
    "replace.immutable-set-when-unset",
    "A PUT sets an immutable attribute that has no value yet",
    requirements=["7644-3.5.1-10", "7643-7-19"],
    level="MUST",
    per_resource_type=True,
)
def immutable_set_when_unset(ctx, rt):
    """Immutable means unchangeable once set, not unsettable: a resource is created without a value for
    an attribute its schema declares immutable (a single-valued string, or else the immutable member
    references of a Group), and a PUT supplying one applies it — a GET afterwards shows it."""
    try:
        urn, name = _immutable_attribute(ctx, rt)
    except NotApplicable:
        urn, name = None, None
    if name is not None:
        body = ctx.payload(rt)
        if urn is None:
            body.pop(name, None)
        elif isinstance(body.get(urn), dict):
            body[urn] = {k: v for k, v in body[urn].items() if k != name}
        created = ctx.created_ok(rt, body)
        if _value_of(read_back(ctx, created), urn, name) not in (None, "", [], {}):
            raise NotApplicable(f"the server gave {_label(urn, name)} a value of its own at creation")
        value = ctx.tag("imm")
        reply = ctx.http.put(created.path, _with_value(created.sent, urn, name, value))
        expect(200 <= reply.status < 300, f"a PUT giving the unset immutable {_label(urn, name)} a value answered "
                                          f"{reply.status}; an immutable attribute with no value takes the new one")
        stored = _value_of(read_back(ctx, created), urn, name)
        expect(stored == value, f"after a PUT setting the unset immutable {_label(urn, name)} to {value!r} "
                                f"(answered {reply.status}), GET shows {show(stored)}")
        ctx.passed(f"{_label(urn, name)} set to {value!r}")
        return
    schema = ctx.discovery.schema_of(rt)
    members = schema.attribute("members") if schema else None
    value_attr = members.sub("value") if members is not None else None
    if members is None or value_attr is None or value_attr.mutability != "immutable":
        raise NotApplicable(f"the schemas of {rt.name} declare no immutable attribute the suite can set")
    users = ctx.resource_types(USER_URN)
    if not users:
        raise NotApplicable("the target declares no User resource type to be a member")
    user = ctx.created_ok(users[0])  # its own member: a server may delete members with the group
    body = {k: v for k, v in ctx.payload(rt).items() if k != "members"}
    created = ctx.created_ok(rt, body)
    if field(read_back(ctx, created), "members"):
        raise NotApplicable(f"the new {rt.name} has members of its own")
    reply = ctx.http.put(created.path, {**created.sent, "id": created.id, "members": [{"value": user.id}]})
    expect(200 <= reply.status < 300, f"a PUT giving the {rt.name} its first member (members.value is immutable, "
                                      f"but unset) answered {reply.status}")
    got = [field(m, "value") for m in field(read_back(ctx, created), "members") or [] if isinstance(m, dict)]
    expect(user.id in got, f"after a PUT with members [{{value: {user.id}}}] (answered {reply.status}), GET shows "
                           f"member values {show(got)}: the unset immutable members.value was not applied")
    ctx.passed(f"members.value set to {user.id}")


def _read_only_values(ctx, rt) -> dict[str, Any]:
    """Values for the top-level readOnly attributes of ``rt`` (meta and id aside) the suite can make up."""
    schema = ctx.discovery.schema_of(rt)
    out: dict[str, Any] = {}
    for attr in schema.attributes if schema else []:
        if attr.mutability != "readOnly" or attr.name.lower() in ("id", "meta", "schemas"):
            continue
        if attr.type == "complex":
            sub = {s.name: unknown_id() if s.name == "value" else ctx.tag("ro")
                   for s in attr.sub_attributes if s.type == "string" and not s.canonical_values}
            value: Any = sub or None
        elif attr.type == "string" and not attr.canonical_values:
            value = ctx.tag("ro")
        else:
            value = None
        if value is not None:
            out[attr.name] = [value] if attr.multi_valued else value
    return out


@check(
    "replace.read-only-ignored",
    "readOnly values sent in a PUT are ignored",
    requirements=["7644-3.5.1-11", "7643-3.1-14", "7643-7-17"],
    level="MUST",
    per_resource_type=True,
)
def read_only_ignored(ctx, rt):
    """A PUT carries, besides the resource's values, made-up values for its readOnly attributes: meta
    (created in 2001, another resourceType) and every readOnly attribute the schema declares (e.g. a
    User's groups). The PUT succeeds as if they were absent, and a GET shows none of them."""
    created = ctx.created_ok(rt)
    _, before = representation(ctx, created)
    fake_meta = {"created": "2001-01-01T00:00:00Z", "lastModified": "2001-01-01T00:00:00Z",
                 "resourceType": "Sct" + rt.name}
    extra = _read_only_values(ctx, rt)
    reply = ctx.http.put(created.path, {**created.sent, "id": created.id, "meta": fake_meta, **extra})
    expect(200 <= reply.status < 300,
           f"a PUT carrying readOnly values ({', '.join(['meta', *extra])}) answered {reply.status}; readOnly values "
           "are to be ignored, not refused")
    after = read_back(ctx, created)
    meta0, meta1 = field(before, "meta"), field(after, "meta")
    if parse_datetime(field(meta0, "created")):
        expect(parse_datetime(field(meta1, "created")) == parse_datetime(field(meta0, "created")),
               f"after the PUT, meta.created is {show(field(meta1, 'created'))}; it was "
               f"{show(field(meta0, 'created'))} (the client sent 2001-01-01T00:00:00Z)")
    got_type = field(meta1, "resourceType")
    expect(got_type != fake_meta["resourceType"], f"after the PUT, meta.resourceType is the client's {got_type!r}")
    for name, value in extra.items():
        stored = json.dumps(field(after, name))
        sent_values = [v for item in (value if isinstance(value, list) else [value])
                       for v in (item.values() if isinstance(item, dict) else [item])]
        taken = [v for v in sent_values if json.dumps(v) in stored]
        expect(not taken, f"after the PUT, {name} holds the client's value(s) {show(taken)}; {name} is readOnly")
    ctx.passed("the PUT succeeded and no readOnly value was taken: " + ", ".join(["meta", *extra]))


@check(
    "replace.last-modified-advances",
    "meta.lastModified moves forward when a PUT changes the resource",
    requirements=["7644-3.5.1-04", "7643-3.1-16"],
    level="MUST",
    per_resource_type=True,
)
def last_modified_advances(ctx, rt):
    """A PUT that changes a value makes meta.lastModified (compared as dateTimes) later than before. If
    the two are equal (a clock that counts whole seconds, say), a second change is made a little over a
    second later; only if that leaves lastModified unchanged too is it a violation."""
    created = ctx.created_ok(rt)
    _, body0 = representation(ctx, created)
    before = parse_datetime(field(field(body0, "meta"), "lastModified"))
    if before is None:
        raise NotApplicable("the resource has no meta.lastModified dateTime; see common.meta-assigned")
    name = plain_string_attribute(ctx, rt, created.sent)
    after = None
    for attempt in range(2):
        if attempt:
            time.sleep(1.1)
        sent = ctx.tag("renamed")
        reply = ctx.http.put(created.path, {**created.sent, name: sent})
        if not 200 <= reply.status < 300:
            raise NotApplicable(f"PUT {rt.endpoint}/{created.id} answered {reply.status}; see replace.value-stored")
        now = read_back(ctx, created)
        if not same_value(ctx.discovery.attribute(rt, name), name, sent, field(now, name)):
            raise NotApplicable(f"the PUT answered {reply.status} but did not store the new {name}; "
                                "see replace.value-stored")
        raw = field(field(now, "meta"), "lastModified")
        after = parse_datetime(raw)
        expect(after is not None, f"after the PUT, meta.lastModified is {show(raw)}, not a dateTime")
        if after > before:
            ctx.passed(f"lastModified moved from {before.isoformat()} to {after.isoformat()}")
            return
        expect(after == before, f"after the PUT, meta.lastModified went back from {before} to {after}")
    raise Violation(f"{name} was changed twice by PUT, a second apart, but meta.lastModified stayed {before}")


@check(
    "replace.omitted-attributes",
    "A PUT omitting optional attributes succeeds and leaves a valid resource",
    requirements=["7644-3.5.1-06"],
    level="MAY",
    per_resource_type=True,
)
def omitted_attributes(ctx, rt):
    """A resource is replaced by a PUT holding only its required attributes (and schemas). The server
    may clear or default what was omitted, as it chooses: the check only asks that the PUT succeeds and
    that a GET then shows the resource with its required attributes."""
    created = ctx.created_ok(rt)
    schema = ctx.discovery.schema_of(rt)
    if schema is None:
        raise NotApplicable(f"/Schemas does not describe {rt.schema}")
    required = {a.name.lower() for a in schema.attributes if a.required}
    naming = naming_attribute(ctx.discovery, rt)
    keep = {k: v for k, v in created.sent.items()
            if k == "schemas" or k.lower() in required or k == naming
            or any(k.lower() == e.schema.lower() and e.required for e in rt.extensions)}
    dropped = [k for k in created.sent if k not in keep]
    keep["schemas"] = [s for s in created.sent.get("schemas", [rt.schema]) if s == rt.schema or s in keep]
    if not dropped:
        raise NotApplicable(f"the {rt.name} payload holds no optional attribute to omit")
    reply = ctx.http.put(created.path, keep)
    expect(200 <= reply.status < 300,
           f"a PUT omitting {', '.join(dropped)} answered {reply.status}; omitted attributes may be cleared or "
           "defaulted, the PUT itself is to succeed")
    after = read_back(ctx, created)
    missing = [k for k in keep if k != "schemas" and field(after, k) in (None, "", [])]
    expect(not missing, f"after the PUT, the required {', '.join(missing)} is gone")
    cleared = [k for k in dropped if field(after, k) is None]
    ctx.passed(f"omitted {', '.join(dropped)}; cleared: {', '.join(cleared) or 'none'}")


@check(
    "replace.deactivated-user-found-by-filter",
    "A User deactivated by PUT (active=false) is still found by a filter",
    requirements=["7644-3.5.1-04", "7644-3.4.2.2-04"],
    level="MUST",
    per_resource_type=True,
    resource_types=[USER_URN],
    needs=("filter",),
)
def deactivated_user_found(ctx, rt):
    """Deactivation is not deletion: after a PUT with active=false, a filter on the User's userName
    still returns it (with active false). replace.user-deactivate-reactivate reads it back by GET."""
    attr = ctx.discovery.attribute(rt, "active")
    if attr is None or attr.type != "boolean" or attr.mutability != "readWrite":
        raise NotApplicable(f"the {rt.name} schema declares no readWrite boolean active attribute")
    created = ctx.created_ok(rt)
    user_name = created.sent.get("userName")
    if not isinstance(user_name, str):
        raise NotApplicable(f"the {rt.name} payload has no userName")
    query = {"filter": f'userName eq "{user_name}"'}
    control = ctx.http.get(rt.path, params=query)
    if control.status != 200 or created.id not in [field(r, "id") for r in list_resources(control.maybe_json())]:
        raise NotApplicable(f"even before the deactivation, the filter userName eq ... answered {control.status} "
                            "without the User; filtering is graded elsewhere")
    reply = ctx.http.put(created.path, {**created.sent, "active": False})
    if not 200 <= reply.status < 300:
        raise NotApplicable(f"the PUT with active=false answered {reply.status}; "
                            "see replace.user-deactivate-reactivate")
    found = ctx.http.get(rt.path, params=query)
    expect(found.status == 200, f"GET {rt.endpoint}?filter=userName eq \"...\" answered {found.status}")
    ids = [field(r, "id") for r in list_resources(found.json())]
    expect(created.id in ids, f"after active=false, the filter userName eq {user_name!r} returns ids {show(ids)}; "
                              f"expected the deactivated User {created.id}")
    ctx.passed("the deactivated User is found by a filter on its userName")
