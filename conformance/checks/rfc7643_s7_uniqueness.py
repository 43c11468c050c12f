"""RFC 7643 §7 (uniqueness) with §4.1.1 and RFC 7644 §3.12 — unique values kept unique by PUT and PATCH,
and by creates of any resource type whose schema declares an attribute unique.

Duplicates by POST of a userName are graded in rfc7644_s3_12_errors.py (errors.duplicate-username.*).
Here each check creates two resources of its own and tries to give the second the first one's value;
whatever a lenient target accepts is deleted when the check ends.
"""

from __future__ import annotations

from typing import Any

from ..discovery import PATCH_URN, USER_URN, Attribute, ResourceType
from ..engine import Created
from ..http import Reply
from ..registry import check
from ..support import field, said, show
from ..verdicts import NotApplicable, Violation, expect
from .rfc7644_s3_3_create import plain_string_attribute

UNIQUE = ("server", "global")




def _two_users(ctx, rt: ResourceType) -> tuple[Created, Created]:
    first, second = ctx.created_ok(rt), ctx.created_ok(rt)
    for user in (first, second):
        if not isinstance(user.sent.get("userName"), str):
            raise NotApplicable(f"the {rt.name} payload has no userName")
    return first, second


def _case_variant(value: str, run_id: str) -> str:
    """The value with the case of its letters swapped (the run id kept as is, for cleanup)."""
    if value.startswith(run_id):
        return run_id + value[len(run_id):].swapcase()
    return value.swapcase()


def _probe(ctx, rt: ResourceType, target: Created) -> tuple[str, str] | None:
    """Another attribute to change in the same PUT, to tell "refused" from "stored nothing at all"."""
    name = plain_string_attribute(ctx, rt, target.sent)
    return None if name == "userName" else (name, ctx.tag("probe"))


def _put_name(ctx, target: Created, name: str, probe: tuple[str, str] | None = None) -> Reply:
    body = {**target.sent, "userName": name}
    if probe:
        body[probe[0]] = probe[1]
    return ctx.http.put(target.path, body)


def _patch_name(ctx, target: Created, name: str) -> Reply:
    return ctx.http.patch(target.path, {"schemas": [PATCH_URN], "Operations": [
        {"op": "replace", "path": "userName", "value": name}]})


def _refused_and_kept(ctx, target: Created, how: str, taken: str, reply: Reply,
                      probe: tuple[str, str] | None = None) -> None:
    """The write giving ``target`` an existing userName must be refused, and its userName unchanged."""
    own = target.sent["userName"]
    after = ctx.http.get(target.path)
    stored_body = after.maybe_json() if after.status == 200 else None
    stored = field(stored_body, "userName")
    if not 200 <= reply.status < 300:
        expect(stored == own, f"{how} was refused ({reply.status}), but GET then shows userName {show(stored)}; "
                              f"it was {own!r}")
        return
    if isinstance(stored, str) and stored.lower() == taken.lower() and stored != own:
        raise Violation(f"{how} giving {target.id} the userName {taken!r} of another User was accepted "
                        f"({reply.status}) and stored: two Users now share it")
    if probe is not None and field(stored_body, probe[0]) != probe[1]:
        raise NotApplicable(f"{how} answered {reply.status} but stored none of its values; see replace.value-stored")
    raise Violation(f"{how} with the userName {taken!r} of another User answered {reply.status} and silently kept "
                    f"{show(stored)}; a duplicate is to be refused")


def _uniqueness_refusal(reply: Reply, how: str) -> None:
    if 200 <= reply.status < 300:
        raise NotApplicable(f"{how} was accepted ({reply.status}); see the matching -refused check")
    body = reply.maybe_json()
    scim_type = body.get("scimType") if isinstance(body, dict) else None
    expect(reply.status in (409, 400) and scim_type == "uniqueness",
           f"{how} was refused with {said(reply)}; expected 409 Conflict (or 400) with scimType \"uniqueness\"")


# -- PUT ---------------------------------------------------------------------------------------------------


@check(
    "uniqueness.put-duplicate-username-refused",
    "A PUT giving a User the userName of another User is refused",
    requirements=["7643-4.1.1-02"],
    level="MUST",
    per_resource_type=True,
    resource_types=[USER_URN],
)
def put_duplicate_refused(ctx, rt):
    """Two Users are created; the second is replaced by PUT with the first one's userName. The PUT is
    refused and the second User keeps its own userName (userName is unique across all Users)."""
    first, second = _two_users(ctx, rt)
    taken = first.sent["userName"]
    probe = _probe(ctx, rt, second)
    reply = _put_name(ctx, second, taken, probe)
    _refused_and_kept(ctx, second, f"PUT {rt.endpoint}/{second.id}", taken, reply, probe)
    ctx.passed(f"refused with {reply.status}; userName unchanged")


@check(
    "uniqueness.put-duplicate-username-scimtype",
    'The refusal of a duplicate userName by PUT is 409 (or 400) with scimType "uniqueness"',
    requirements=["7644-3.12-05", "7643-7-24"],
    level="SHOULD",
    per_resource_type=True,
    resource_types=[USER_URN],
)
def put_duplicate_scimtype(ctx, rt):
    """The error answering a PUT that would duplicate a userName is 409 Conflict with scimType
    "uniqueness", as the error table of RFC 7644 §3.12 has it for PUT (RFC 7643 §7 also allows 400)."""
    first, second = _two_users(ctx, rt)
    reply = _put_name(ctx, second, first.sent["userName"])
    _uniqueness_refusal(reply, f"PUT {rt.endpoint}/{second.id} with a duplicate userName")
    ctx.passed(f"{reply.status} with scimType \"uniqueness\"")


@check(
    "uniqueness.put-duplicate-username-case-refused",
    "A PUT giving a User another User's userName in another case is refused",
    requirements=["7643-4.1.1-03", "7643-4.1.1-02"],
    level="MUST",
    per_resource_type=True,
    resource_types=[USER_URN],
)
def put_duplicate_case_refused(ctx, rt):
    """userName is case-insensitive and unique: a PUT giving the second User the first one's userName
    with the case of its letters swapped is refused, and the second User keeps its userName."""
    first, second = _two_users(ctx, rt)
    variant = _case_variant(first.sent["userName"], ctx.run.run_id)
    if variant == first.sent["userName"]:
        raise NotApplicable("the userName has no letter whose case could change")
    probe = _probe(ctx, rt, second)
    reply = _put_name(ctx, second, variant, probe)
    _refused_and_kept(ctx, second, f"PUT {rt.endpoint}/{second.id}", variant, reply, probe)
    ctx.passed(f"{variant!r} refused ({reply.status}) while {first.sent['userName']!r} exists")


# -- PATCH -------------------------------------------------------------------------------------------------


@check(
    "uniqueness.patch-duplicate-username-refused",
    "A PATCH replacing a User's userName with another User's is refused",
    requirements=["7643-4.1.1-02"],
    level="MUST",
    per_resource_type=True,
    resource_types=[USER_URN],
    needs=("patch",),
)
def patch_duplicate_refused(ctx, rt):
    """Two Users are created; a PATCH replace of the second one's userName with the first one's is
    refused, and the second User keeps its userName."""
    first, second = _two_users(ctx, rt)
    taken = first.sent["userName"]
    reply = _patch_name(ctx, second, taken)
    _refused_and_kept(ctx, second, f"PATCH {rt.endpoint}/{second.id}", taken, reply)
    ctx.passed(f"refused with {reply.status}; userName unchanged")


@check(
    "uniqueness.patch-duplicate-username-scimtype",
    'The refusal of a duplicate userName by PATCH is 409 (or 400) with scimType "uniqueness"',
    requirements=["7644-3.12-05", "7643-7-24"],
    level="SHOULD",
    per_resource_type=True,
    resource_types=[USER_URN],
    needs=("patch",),
)
def patch_duplicate_scimtype(ctx, rt):
    """The error answering a PATCH that would duplicate a userName is 409 Conflict with scimType
    "uniqueness" (RFC 7644 §3.12's table lists PATCH; RFC 7643 §7 also allows 400)."""
    first, second = _two_users(ctx, rt)
    reply = _patch_name(ctx, second, first.sent["userName"])
    _uniqueness_refusal(reply, f"PATCH {rt.endpoint}/{second.id} with a duplicate userName")
    ctx.passed(f"{reply.status} with scimType \"uniqueness\"")


@check(
    "uniqueness.patch-duplicate-username-case-refused",
    "A PATCH replacing a User's userName with another User's in another case is refused",
    requirements=["7643-4.1.1-03", "7643-4.1.1-02"],
    level="MUST",
    per_resource_type=True,
    resource_types=[USER_URN],
    needs=("patch",),
)
def patch_duplicate_case_refused(ctx, rt):
    """A PATCH replace giving the second User the first one's userName with its letters' case swapped
    is refused, and the second User keeps its userName."""
    first, second = _two_users(ctx, rt)
    variant = _case_variant(first.sent["userName"], ctx.run.run_id)
    if variant == first.sent["userName"]:
        raise NotApplicable("the userName has no letter whose case could change")
    reply = _patch_name(ctx, second, variant)
    _refused_and_kept(ctx, second, f"PATCH {rt.endpoint}/{second.id}", variant, reply)
    ctx.passed(f"{variant!r} refused ({reply.status}) while {first.sent['userName']!r} exists")


# -- attributes the schema declares unique ----------------------------------------------------------------


def _declared_unique(ctx, rt: ResourceType) -> list[Attribute]:
    """Top-level single-valued string attributes the schema of ``rt`` declares unique (server or global)
    that a client writes; User.userName is left to the errors.duplicate-username checks."""
    schema = ctx.discovery.schema_of(rt)
    if schema is None:
        raise NotApplicable(f"/Schemas does not describe {rt.schema}")
    out = []
    for attr in schema.attributes:
        if attr.uniqueness not in UNIQUE or attr.type != "string" or attr.multi_valued:
            continue
        if attr.mutability not in ("readWrite", "immutable") or attr.name.lower() in ("id", "externalid"):
            continue
        if rt.schema == USER_URN and attr.name.lower() == "username":
            continue
        out.append(attr)
    return out


@check(
    "uniqueness.declared-unique-create-refused",
    "Creating a resource with the value of an attribute its schema declares unique is refused",
    requirements=["7643-7-26", "7643-7-27"],
    level="SHOULD",
    per_resource_type=True,
)
def declared_unique_create_refused(ctx, rt):
    """For each writable string attribute the target's schema declares uniqueness "server" or "global"
    (User.userName aside: see errors.duplicate-username.*), a second resource created with the first
    one's value is refused. Nothing is assumed unique that the schema does not declare so."""
    attrs = _declared_unique(ctx, rt)
    if not attrs:
        raise NotApplicable(f"the {rt.name} schema declares no other writable unique string attribute")
    for attr in attrs:
        value = ctx.tag(attr.name)
        body: dict[str, Any] = {**ctx.payload(rt), attr.name: value}
        ctx.created_ok(rt, body)
        dup = {**ctx.payload(rt), attr.name: value}
        created = ctx.create(rt, dup)
        status = created.reply.status
        expect(not 200 <= status < 300,
               f"a second {rt.name} with {attr.name} {value!r} (declared uniqueness \"{attr.uniqueness}\") was "
               f"accepted ({status})")
    ctx.passed("duplicates refused for " + ", ".join(a.name for a in attrs))
