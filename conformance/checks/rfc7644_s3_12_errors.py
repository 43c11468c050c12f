"""RFC 7644 §3.12 — errors: the status line, the SCIM Error body, and the status and scimType the
RFC asks for on the common refusals (a missing resource, a duplicate userName, a missing required
attribute, a value of the wrong type).

Errors are provoked safely: a GET of an id that does not exist, and creates the target must
refuse. Every body sent carries the run id in its naming attribute, and anything a lenient target
creates anyway is deleted when the check ends.
"""

from __future__ import annotations

import uuid
from typing import Any

from ..discovery import ERROR_URN, USER_URN, Attribute, ResourceType
from ..http import Reply
from ..payloads import NAMING_ATTRIBUTES, naming_attribute
from ..registry import check
from ..support import said
from ..verdicts import NotApplicable, Violation, expect

WRITABLE = ("readWrite", "immutable", "writeOnly")
RESERVED = ("id", "schemas", "meta")


def _body(reply: Reply) -> dict[str, Any] | None:
    body = reply.maybe_json()
    return body if isinstance(body, dict) else None




def _scim_type(reply: Reply) -> Any:
    body = _body(reply)
    return body.get("scimType") if body else None


def _is_refusal(reply: Reply) -> bool:
    return 400 <= reply.status < 500


def _not_found(ctx, rt: ResourceType) -> Reply:
    """GET a resource that does not exist: a fresh random UUID under the endpoint."""
    return ctx.http.get(f"{rt.path}/{uuid.uuid4()}")


def _error_reply(ctx, rt: ResourceType) -> Reply:
    reply = _not_found(ctx, rt)
    if reply.status < 400:
        raise NotApplicable(
            f"GET {rt.endpoint}/<unknown id> answered {reply.status}, not an error; "
            "see errors.status-line"
        )
    return reply


# -- the error message -------------------------------------------------------------------------------


@check(
    "errors.schema-urn",
    "An error answer carries a JSON body naming the SCIM Error schema",
    requirements=["7644-3.12-01"],
    level="MUST",
    per_resource_type=True,
)
def error_schema_urn(ctx, rt):
    """A GET of an id that does not exist is answered with an error whose body is a JSON object
    with urn:ietf:params:scim:api:messages:2.0:Error in its schemas."""
    reply = _error_reply(ctx, rt)
    body = _body(reply)
    expect(body is not None,
           f"the {reply.status} answer has no JSON object body ({reply.content_type or 'no Content-Type'}: "
           f"{reply.text[:80]!r}); errors are returned as a SCIM Error JSON body")
    schemas = body.get("schemas")
    expect(isinstance(schemas, list) and ERROR_URN in schemas,
           f"the {reply.status} body has schemas {schemas!r}; expected a list holding {ERROR_URN}")
    ctx.passed(f"{reply.status} with a SCIM Error body")


@check(
    "errors.status-is-string",
    "The status of an error body is the HTTP status code written as a string",
    requirements=["7644-3.12-02"],
    level="MUST",
    per_resource_type=True,
)
def error_status_is_string(ctx, rt):
    """The error body's "status" is present, is a JSON string (not a number), and equals the
    status code of the HTTP answer it came with."""
    reply = _error_reply(ctx, rt)
    body = _body(reply)
    if body is None:
        raise NotApplicable(f"the {reply.status} answer has no JSON body; see errors.schema-urn")
    expect("status" in body, f"the {reply.status} error body has no status attribute (REQUIRED)")
    status = body["status"]
    expect(isinstance(status, str),
           f"status is {status!r} ({type(status).__name__}); it is the HTTP code as a JSON string, "
           f"\"{reply.status}\"")
    expect(status.strip() == str(reply.status),
           f"status is {status!r} but the HTTP status line says {reply.status}")
    ctx.passed(f"status \"{status}\" matches the status line")


@check(
    "errors.status-line",
    "A missing resource is answered with 404 in the HTTP status line",
    requirements=["7644-3.2-05", "7644-3.12-05"],
    level="SHOULD",
    per_resource_type=True,
)
def error_status_line(ctx, rt):
    """Error codes travel in the HTTP status line: a GET of an id that does not exist answers
    404 Not Found (Table 8), not 200 with an error body nor another code."""
    reply = _not_found(ctx, rt)
    expect(reply.status == 404,
           f"GET {rt.endpoint}/<unknown id> answered {said(reply)}; expected 404 Not Found in the status line")
    ctx.passed("404 in the status line")


# -- duplicate userName -----------------------------------------------------------------------------


def _sample_user_name(ctx, rt: ResourceType) -> str:
    user_name = ctx.sample(rt).sent.get("userName")
    if not isinstance(user_name, str):
        raise NotApplicable(f"the sample {rt.name} was created without a userName")
    return user_name


def _duplicate(ctx, rt: ResourceType, user_name: str) -> Reply:
    body = ctx.payload(rt)
    body["userName"] = user_name
    return ctx.create(rt, body).reply


def _case_variant(user_name: str, run_id: str) -> str:
    """The same userName with the case of its letters swapped (the run id itself is kept as is)."""
    if user_name.startswith(run_id):
        return run_id + user_name[len(run_id):].swapcase()
    return user_name.swapcase()


@check(
    "errors.duplicate-username.status-409",
    "Creating a User with a userName already in use answers 409 Conflict",
    requirements=["7644-3.3-10"],
    level="MUST",
    per_resource_type=True,
    resource_types=[USER_URN],
)
def duplicate_username_409(ctx, rt):
    """A second User is POSTed with the userName of the run's sample User (everything else
    fresh); the target refuses it with 409 Conflict."""
    user_name = _sample_user_name(ctx, rt)
    reply = _duplicate(ctx, rt, user_name)
    if 200 <= reply.status < 300:
        raise Violation(f"the duplicate userName {user_name!r} was accepted ({reply.status}); expected 409")
    expect(reply.status == 409,
           f"the duplicate userName was refused with {said(reply)}; expected 409 Conflict (RFC 7643 §7 lets a "
           "uniqueness refusal be a 400 in general, but RFC 7644 §3.3 asks 409 of a create)")
    ctx.passed("409 for a duplicate userName")


@check(
    "errors.duplicate-username.scimtype",
    'The refusal of a duplicate userName says scimType "uniqueness"',
    requirements=["7644-3.3-10"],
    level="MUST",
    per_resource_type=True,
    resource_types=[USER_URN],
)
def duplicate_username_scimtype(ctx, rt):
    """The error answering a POST with an existing userName carries scimType "uniqueness"."""
    user_name = _sample_user_name(ctx, rt)
    reply = _duplicate(ctx, rt, user_name)
    if not _is_refusal(reply):
        raise NotApplicable(f"the duplicate was answered {reply.status}, not refused; see the status-409 check")
    expect(_scim_type(reply) == "uniqueness",
           f"the duplicate userName was refused with {said(reply)}; expected scimType \"uniqueness\"")
    ctx.passed('scimType "uniqueness"')


@check(
    "errors.duplicate-username.case-insensitive",
    "A userName differing only in case is refused as a duplicate",
    requirements=["7643-4.1.1-03", "7643-4.1.1-02", "7644-3.3-10"],
    level="MUST",
    per_resource_type=True,
    resource_types=[USER_URN],
)
def duplicate_username_case(ctx, rt):
    """userName is case-insensitive and unique: a User POSTed with the sample's userName in
    another case is refused as a conflict (409, or an error with scimType "uniqueness")."""
    original = _sample_user_name(ctx, rt)
    variant = _case_variant(original, ctx.run.run_id)
    if variant == original:
        raise NotApplicable(f"the sample's userName {original!r} has no letter whose case could change")
    reply = _duplicate(ctx, rt, variant)
    if 200 <= reply.status < 300:
        raise Violation(
            f"{variant!r} was accepted ({reply.status}) while {original!r} exists; "
            "userName is case-insensitive, so this is a duplicate"
        )
    expect(reply.status == 409 or _scim_type(reply) == "uniqueness",
           f"{variant!r} was refused with {said(reply)}, not as a conflict with {original!r}; expected 409 "
           "with scimType \"uniqueness\"")
    ctx.passed(f"{variant!r} refused as a duplicate of {original!r} ({reply.status})")


# -- a required attribute missing ------------------------------------------------------------------


def _writable(attr: Attribute) -> bool:
    return attr.mutability in WRITABLE


def _without_required(ctx, rt: ResourceType) -> tuple[str, dict[str, Any]]:
    """A create body of ``rt`` lacking one required attribute; the run id stays in a naming attribute."""
    schema = ctx.discovery.schema_of(rt)
    if schema is None:
        raise NotApplicable(f"/Schemas does not describe {rt.schema}; its required attributes are unknown")
    naming = naming_attribute(ctx.discovery, rt)
    required = [a for a in schema.attributes if a.required and _writable(a) and a.name.lower() not in RESERVED]
    if not required:
        raise NotApplicable(f"the {rt.name} schema declares no required attribute a client writes")
    body = ctx.payload(rt)
    tag = body.get(naming) if naming else None
    others = [a for a in required if naming is None or a.name.lower() != naming.lower()]
    if others:
        dropped = others[0].name
    else:
        # Only the naming attribute is required: the run id must move to another naming attribute,
        # so that the suite's data stays recognisable should the target create the resource anyway.
        carrier = next(
            (schema.attribute(n) for n in NAMING_ATTRIBUTES
             if n.lower() != str(naming).lower() and schema.attribute(n) is not None),
            None,
        )
        if carrier is None or carrier.type != "string" or carrier.multi_valued or not _writable(carrier):
            raise NotApplicable(
                f"the only required attribute of {rt.name} is {naming}, which carries the run id, and no other "
                "naming attribute can carry it; the suite does not create data it could not recognise"
            )
        dropped = str(naming)
        body[carrier.name] = tag
    body = {k: v for k, v in body.items() if k.lower() != dropped.lower()}
    return dropped, body


def _post_without_required(ctx, rt: ResourceType) -> tuple[str, Reply]:
    dropped, body = _without_required(ctx, rt)
    return dropped, ctx.create(rt, body).reply


@check(
    "errors.missing-required.refused",
    "Creating a User without userName is refused",
    requirements=["7643-4.1.1-01"],
    level="MUST",
    per_resource_type=True,
    resource_types=[USER_URN],
)
def missing_required_refused(ctx, rt):
    """Every User has a non-empty userName: a POST without one (the run id moved to displayName)
    is refused with an error, not created."""
    dropped, reply = _post_without_required(ctx, rt)
    expect(not (200 <= reply.status < 300),
           f"a {rt.name} without {dropped} was created ({reply.status}); {dropped} is required")
    expect(reply.status >= 400, f"a {rt.name} without {dropped} was answered {reply.status}, not an error")
    ctx.passed(f"refused with {reply.status}")


@check(
    "errors.missing-required.status-400",
    "Creating a resource without a required attribute answers 400",
    requirements=["7644-3.12-05"],
    level="SHOULD",
    per_resource_type=True,
)
def missing_required_400(ctx, rt):
    """A create that lacks an attribute the resource type's schema declares required violates the
    schema: Table 8 of RFC 7644 answers that with 400 Bad Request."""
    dropped, reply = _post_without_required(ctx, rt)
    expect(reply.status == 400,
           f"a {rt.name} without the required {dropped} was answered {said(reply)}; expected 400 Bad Request")
    ctx.passed(f"400 without {dropped}")


@check(
    "errors.missing-required.scimtype",
    'The 400 for a missing required attribute says scimType "invalidValue"',
    requirements=["7644-3.12-03"],
    level="MAY",
    per_resource_type=True,
)
def missing_required_scimtype(ctx, rt):
    """scimType is optional, but Table 9 names "invalidValue" for a required value that is
    missing; a 400 that gives a scimType should give that one."""
    dropped, reply = _post_without_required(ctx, rt)
    if reply.status != 400:
        raise NotApplicable(f"answered {reply.status}, not 400; see errors.missing-required.status-400")
    scim_type = _scim_type(reply)
    expect(scim_type == "invalidValue",
           f"the 400 for a {rt.name} without {dropped} has "
           + (f"scimType {scim_type!r}" if scim_type is not None else "no scimType")
           + '; Table 9 names "invalidValue" for a missing required value')
    ctx.passed('scimType "invalidValue"')


# -- a value of the wrong type ---------------------------------------------------------------------


def _wrong_type_body(ctx, rt: ResourceType) -> tuple[str, dict[str, Any]]:
    """A create body of ``rt`` in which one attribute holds a value of the wrong JSON type."""
    schema = ctx.discovery.schema_of(rt)
    if schema is None:
        raise NotApplicable(f"/Schemas does not describe {rt.schema}")
    naming = (naming_attribute(ctx.discovery, rt) or "").lower()
    usable = [a for a in schema.attributes
              if _writable(a) and a.name.lower() not in RESERVED and a.name.lower() != naming]
    choices = (
        (lambda a: a.type == "boolean" and not a.multi_valued, "yes-please"),
        (lambda a: a.type == "complex" and a.multi_valued, "not-a-list"),
        (lambda a: a.type == "complex", "not-an-object"),
        (lambda a: a.type == "integer" and not a.multi_valued, "not-a-number"),
    )
    for matches, bad in choices:
        attr = next((a for a in usable if matches(a)), None)
        if attr is not None:
            body = {k: v for k, v in ctx.payload(rt).items() if k.lower() != attr.name.lower()}
            body[attr.name] = bad
            return f"{attr.name}={bad!r} ({'multi-valued ' if attr.multi_valued else ''}{attr.type})", body
    raise NotApplicable(f"the {rt.name} schema has no writable boolean, complex or integer attribute to misuse")


@check(
    "errors.wrong-type.status-400",
    "A create with a value of the wrong type answers 400",
    requirements=["7644-3.12-05"],
    level="SHOULD",
    per_resource_type=True,
)
def wrong_type_400(ctx, rt):
    """A create in which a boolean attribute holds a string (a User's active: "yes-please"), or a
    multi-valued complex attribute holds a string (a Group's members), violates the schema and is
    answered 400 Bad Request rather than coerced or silently dropped."""
    what, body = _wrong_type_body(ctx, rt)
    reply = ctx.create(rt, body).reply
    expect(reply.status == 400, f"a {rt.name} with {what} was answered {said(reply)}; expected 400 Bad Request")
    ctx.passed(f"400 for {what}")
