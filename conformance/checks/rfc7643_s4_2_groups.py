"""RFC 7643 §4.2 (and §4.1.2 groups) — Group membership: members stored and changed through the Group
(POST, PUT, PATCH by value list and by value filter), member $ref, User.groups, and what deleting a user
or a group does to memberships.

Every check here writes: it creates its own users and group (ctx.created_ok, deleted when the check
ends) and only ever names those in members. Memberships are always read back with a GET.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from ..discovery import GROUP_URN, PATCH_URN, USER_URN, ResourceType
from ..engine import Created
from ..http import Reply
from ..registry import check
from ..support import field, is_error, show
from ..verdicts import NotApplicable, Violation, expect
from .rfc7644_s3_3_create import plain_string_attribute

# -- helpers ---------------------------------------------------------------------------------------------


def user_type(ctx) -> ResourceType:
    """The User resource type: group members are the suite's own users."""
    rts = ctx.resource_types(USER_URN)
    if not rts:
        raise NotApplicable("the target declares no User resource type to make group members of")
    return rts[0]


def _members_declared(ctx, rt: ResourceType) -> None:
    attr = ctx.discovery.attribute(rt, "members")
    if ctx.discovery.schema_of(rt) is not None and attr is None:
        raise NotApplicable(f"the {rt.name} schema declares no members attribute")
    if attr is not None and attr.mutability in ("readOnly", "immutable"):
        raise NotApplicable(f"{rt.name}.members is {attr.mutability}: clients cannot set members")


def users(ctx, count: int) -> list[Created]:
    urt = user_type(ctx)
    return [ctx.created_ok(urt) for _ in range(count)]


def member_list(created: list[Created]) -> list[dict[str, Any]]:
    return [{"value": u.id} for u in created]


def group_with(ctx, rt: ResourceType, members: list[Created]) -> Created:
    """A new group of ``rt`` whose members are ``members``; the create must succeed."""
    _members_declared(ctx, rt)
    body = ctx.payload(rt)
    if members:
        body["members"] = member_list(members)
    return ctx.created_ok(rt, body)


def member_values(resource: Any) -> list[Any]:
    members = field(resource, "members")
    if isinstance(members, dict):
        members = [members]
    if not isinstance(members, list):
        return []
    return [field(m, "value") for m in members if isinstance(m, dict)]


def read(ctx, created: Created) -> dict[str, Any]:
    reply = ctx.http.get(created.path)
    expect(reply.status == 200, f"GET {created.rt.endpoint}/{created.id} answered {reply.status}, expected 200")
    return reply.json_object()


def members_now(ctx, group: Created) -> list[Any]:
    return member_values(read(ctx, group))


def expect_members(ctx, group: Created, wanted: list[Created], after: str) -> list[Any]:
    """GET the group; its members' values must be exactly the ids of ``wanted``."""
    got = members_now(ctx, group)
    want = sorted(u.id for u in wanted)
    have = sorted(str(v) for v in got)
    expect(have == want,
           f"after {after}, GET {group.rt.endpoint}/{group.id} shows members {show(got, 160)}; "
           f"expected exactly {show(want, 160)}")
    return got


def patch(ctx, created: Created, operations: list[dict[str, Any]]) -> Reply:
    return ctx.http.patch(created.path, {"schemas": [PATCH_URN], "Operations": operations})


def expect_patch_ok(reply: Reply, created: Created, what: str) -> None:
    expect(reply.status in (200, 204),
           f"PATCH {created.rt.endpoint}/{created.id} ({what}) answered {reply.status}; expected 200 or 204")


def user_groups_declared(ctx) -> ResourceType:
    urt = user_type(ctx)
    if ctx.discovery.schema_of(urt) is not None and ctx.discovery.attribute(urt, "groups") is None:
        raise NotApplicable(f"the {urt.name} schema declares no groups attribute")
    return urt


def _group_entries(user: dict[str, Any]) -> list[dict[str, Any]]:
    groups = field(user, "groups")
    if isinstance(groups, dict):
        groups = [groups]
    return [g for g in groups if isinstance(g, dict)] if isinstance(groups, list) else []


# -- members stored and changed through the Group ---------------------------------------------------------


@check(
    "groups.members-stored",
    "A group created with members holds exactly those users' ids as member values",
    requirements=["7643-4.2-02"],
    level="MAY",
    per_resource_type=True,
    resource_types=[GROUP_URN],
)
def members_stored(ctx, rt):
    """A group POSTed with two of the suite's users as members ({"value": <user id>}) is read back with
    a GET: members lists those two ids as values, nothing else. Membership is the server's to define,
    so a target that does not keep members only warns."""
    members = users(ctx, 2)
    group = group_with(ctx, rt, members)
    expect_members(ctx, group, members, f"POST {rt.endpoint} with 2 members")
    ctx.passed("both members read back with their user ids as values")


@check(
    "groups.member-ref-resolves",
    "A member's $ref, when returned, is the URI of that member",
    requirements=["7643-2.3.7-02", "7643-2.3.7-05"],
    level="MUST",
    per_resource_type=True,
    resource_types=[GROUP_URN],
)
def member_ref_resolves(ctx, rt):
    """When a group returns a $ref for a member, a GET of that URI (relative ones resolved against the
    base URI) answers the user whose id is the member's value. A $ref is optional: none returned passes."""
    members = users(ctx, 1)
    group = group_with(ctx, rt, members)
    body = read(ctx, group)
    entries = [m for m in field(body, "members") or [] if isinstance(m, dict)]
    refs = [(field(m, "value"), field(m, "$ref")) for m in entries if field(m, "$ref") is not None]
    if not refs:
        ctx.passed("no member $ref returned ($ref is optional)")
        return
    base = ctx.http.base_url + "/"  # relative references are relative to the base URI (RFC 7643 §2.3.7)
    for value, ref in refs:
        expect(isinstance(ref, str) and ref, f"member {show(value)} has $ref {show(ref)}; expected a URI")
        url = urljoin(base, ref)
        reply = ctx.http.get(url)
        expect(reply.status == 200, f"GET of member {show(value)}'s $ref {ref} answered {reply.status}; expected "
                                    "the member resource")
        target = reply.maybe_json()
        expect(isinstance(target, dict) and field(target, "id") == value,
               f"GET {ref} (member {show(value)}'s $ref) answered a resource with id "
               f"{show(field(target, 'id'))}; expected {show(value)}")
    ctx.passed(f"{len(refs)} member $ref resolved to the member")


@check(
    "groups.patch-add-members",
    "PATCH add on members with a value list adds the users and keeps the existing members",
    requirements=["7643-4.2-02"],
    level="MAY",
    per_resource_type=True,
    resource_types=[GROUP_URN],
    needs=("patch",),
)
def patch_add_members(ctx, rt):
    """A group with one member gets a second through {"op": "add", "path": "members", "value":
    [{"value": <id>}]}; a GET then shows both members (add appends to a multi-valued attribute)."""
    members = users(ctx, 2)
    group = group_with(ctx, rt, members[:1])
    reply = patch(ctx, group, [{"op": "add", "path": "members", "value": member_list(members[1:])}])
    expect_patch_ok(reply, group, "add a member")
    expect_members(ctx, group, members, "PATCH add of a second member")
    ctx.passed("the member was added and the first one kept")


@check(
    "groups.patch-remove-member-by-filter",
    'PATCH remove with a members[value eq "..."] path removes that member only',
    requirements=["7643-4.2-02"],
    level="MAY",
    per_resource_type=True,
    resource_types=[GROUP_URN],
    needs=("patch",),
)
def patch_remove_member_by_filter(ctx, rt):
    """A group with two members loses one through {"op": "remove", "path": "members[value eq \\"<id>\\"]"};
    a GET then shows the other member only."""
    members = users(ctx, 2)
    group = group_with(ctx, rt, members)
    path = f'members[value eq "{members[0].id}"]'
    reply = patch(ctx, group, [{"op": "remove", "path": path}])
    expect_patch_ok(reply, group, f"remove {path}")
    expect_members(ctx, group, members[1:], f"PATCH remove {path}")
    ctx.passed("the filtered member was removed, the other kept")


@check(
    "groups.patch-remove-last-member-unassigned",
    "Removing the last member by value filter leaves members unassigned",
    requirements=["7644-3.5.2.2-03"],
    level="MUST",
    per_resource_type=True,
    resource_types=[GROUP_URN],
    needs=("patch",),
)
def patch_remove_last_member(ctx, rt):
    """A group with one member loses it through a members[value eq "<id>"] remove; with no value left,
    members is unassigned: a GET shows no members (absent, null or an empty list)."""
    members = users(ctx, 1)
    group = group_with(ctx, rt, members)
    path = f'members[value eq "{members[0].id}"]'
    reply = patch(ctx, group, [{"op": "remove", "path": path}])
    expect_patch_ok(reply, group, f"remove {path}")
    body = read(ctx, group)
    left = field(body, "members")
    expect(left in (None, []), f"after removing the only member, GET shows members {show(left, 160)}; expected "
                               "the attribute unassigned")
    ctx.passed("members unassigned after the last member was removed")


@check(
    "groups.put-replaces-members",
    "A PUT with another members list replaces the members",
    requirements=["7644-3.5.1-04"],
    level="MUST",
    per_resource_type=True,
    resource_types=[GROUP_URN],
)
def put_replaces_members(ctx, rt):
    """A group with members A and B is replaced by PUT with members B and C; a GET then shows exactly
    B and C (the values provided replace the existing ones)."""
    members = users(ctx, 3)
    group = group_with(ctx, rt, members[:2])
    name = plain_string_attribute(ctx, rt, group.sent)
    renamed = ctx.tag("renamed")
    body = {**group.sent, name: renamed, "members": member_list(members[1:])}
    reply = ctx.http.put(group.path, body)
    expect(200 <= reply.status < 300,
           f"PUT {rt.endpoint}/{group.id} with a new members list answered {reply.status}; expected 200")
    if field(read(ctx, group), name) != renamed:
        raise NotApplicable(f"the PUT answered {reply.status} but did not store the new {name} either; "
                            "see replace.value-stored")
    expect_members(ctx, group, members[1:], "the PUT")
    ctx.passed("members replaced by the PUT")


# -- User.groups -----------------------------------------------------------------------------------------------


@check(
    "groups.user-groups-reflect-membership",
    "A member user's groups attribute lists the group",
    requirements=["7643-4.1.2-19", "7643-4.1.2-21"],
    level="SHOULD",
    per_resource_type=True,
    resource_types=[GROUP_URN],
)
def user_groups_reflect_membership(ctx, rt):
    """After a user is made a member through the Group resource, a GET of the user shows the group in
    its groups attribute (the value being the group's id). The RFC describes groups as the user's
    memberships but does not make filling it a MUST: a target that leaves it empty only warns."""
    urt = user_groups_declared(ctx)
    members = users(ctx, 1)
    group = group_with(ctx, rt, members)
    user = read(ctx, members[0])
    values = [field(g, "value") for g in _group_entries(user)]
    expect(group.id in values,
           f"{members[0].id} is a member of {rt.name} {group.id}, but GET {urt.endpoint}/{members[0].id} shows "
           + (f"groups {show(field(user, 'groups'), 120)}" if field(user, "groups") is not None else "no groups"))
    ctx.passed("the user's groups lists the group")


@check(
    "groups.user-groups-values",
    "Entries of User.groups give the group's id as value and its URI as $ref",
    requirements=["7643-4.1.2-21"],
    level="MUST",
    per_resource_type=True,
    resource_types=[GROUP_URN],
)
def user_groups_values(ctx, rt):
    """When a user's groups attribute is filled, an entry for a group the suite made it a member of has
    the group's id as value and, when $ref is given, the group's URI. A target that does not fill
    groups skips (see groups.user-groups-reflect-membership)."""
    urt = user_groups_declared(ctx)
    members = users(ctx, 1)
    group = group_with(ctx, rt, members)
    user = read(ctx, members[0])
    entries = _group_entries(user)
    if not entries:
        raise NotApplicable(f"GET {urt.endpoint}/{members[0].id} shows no groups; see "
                            "groups.user-groups-reflect-membership")
    mine = [g for g in entries if field(g, "value") == group.id]
    expect(mine, f"GET {urt.endpoint}/{members[0].id} shows groups {show(entries, 160)}, none with the value "
                 f"{group.id} (the id of the group it is a member of)")
    location = group.location or field(field(group.body, "meta"), "location")
    for entry in mine:
        ref = field(entry, "$ref")
        if ref is None:
            continue
        expect(isinstance(ref, str) and ref.rstrip("/").endswith(f"{rt.endpoint.rstrip('/')}/{group.id}"),
               f"the groups entry for {group.id} has $ref {show(ref)}; expected the group's URI"
               + (f" ({location})" if location else ""))
    ctx.passed("the groups entry carries the group's id (and URI)")


def _not_member(ctx, group: Created, user: Created, how: str) -> None:
    got = [str(v) for v in members_now(ctx, group)]
    expect(user.id not in got,
           f"after {how}, GET {group.rt.endpoint}/{group.id} lists user {user.id} as a member: membership "
           "changes are made through the Group resource, User.groups is read-only")


@check(
    "groups.user-groups-put-no-membership",
    "A PUT of a User with groups does not change group membership",
    requirements=["7643-4.1.2-22", "7644-3.5.1-11"],
    level="MUST",
    per_resource_type=True,
    resource_types=[GROUP_URN],
)
def user_groups_put_no_membership(ctx, rt):
    """A user is replaced by PUT with groups naming a group it is not a member of; the server ignores
    (or refuses) it, and the group's members still do not include the user."""
    urt = user_groups_declared(ctx)
    others = users(ctx, 1)
    group = group_with(ctx, rt, others)
    user = ctx.created_ok(urt)
    reply = ctx.http.put(user.path, {**user.sent, "groups": [{"value": group.id}]})
    _not_member(ctx, group, user, f"PUT {urt.endpoint}/{user.id} with groups [{group.id}] (answered {reply.status})")
    ctx.passed(f"membership unchanged (the PUT answered {reply.status})")


@check(
    "groups.user-groups-patch-no-membership",
    "A PATCH adding to a User's groups does not change group membership",
    requirements=["7643-4.1.2-22"],
    level="MUST",
    per_resource_type=True,
    resource_types=[GROUP_URN],
    needs=("patch",),
)
def user_groups_patch_no_membership(ctx, rt):
    """A PATCH add of {"value": <group id>} to a user's groups is refused or ignored: the group's
    members still do not include the user."""
    urt = user_groups_declared(ctx)
    others = users(ctx, 1)
    group = group_with(ctx, rt, others)
    user = ctx.created_ok(urt)
    reply = patch(ctx, user, [{"op": "add", "path": "groups", "value": [{"value": group.id}]}])
    _not_member(ctx, group, user, f"PATCH add groups [{group.id}] on the user (answered {reply.status})")
    ctx.passed(f"membership unchanged (the PATCH answered {reply.status})")


# -- deleting users and groups ------------------------------------------------------------------------------


@check(
    "groups.deleted-user-leaves-group",
    "Deleting a member user removes it from the group's members",
    requirements=["7643-2.3.7-06"],
    level="MAY",
    per_resource_type=True,
    resource_types=[GROUP_URN],
)
def deleted_user_leaves_group(ctx, rt):
    """A group has two members; one user is deleted. A GET of the group should no longer list the
    deleted user. Keeping references intact is left to the server (referential integrity MAY be
    enforced), so a stale member only warns."""
    members = users(ctx, 2)
    group = group_with(ctx, rt, members)
    reply = ctx.http.delete(members[0].path)
    if reply.status not in (200, 204):
        raise NotApplicable(f"DELETE of the member user answered {reply.status}; see delete.status-204")
    got = [str(v) for v in members_now(ctx, group)]
    expect(members[0].id not in got,
           f"user {members[0].id} was deleted, but GET {rt.endpoint}/{group.id} still lists it in members "
           f"{show(got, 160)}")
    ctx.passed("the deleted user is no longer a member")


@check(
    "groups.delete-keeps-users",
    "Deleting a group leaves its member users in place",
    requirements=["7643-2.3.7-06"],
    level="MAY",
    per_resource_type=True,
    resource_types=[GROUP_URN],
)
def delete_keeps_users(ctx, rt):
    """A group with a member is deleted; the member user is still readable by GET afterwards (deleting
    a group removes the membership, not the users it references)."""
    members = users(ctx, 1)
    group = group_with(ctx, rt, members)
    reply = ctx.http.delete(group.path)
    if reply.status not in (200, 204):
        raise NotApplicable(f"DELETE {rt.endpoint}/{group.id} answered {reply.status}; see delete.status-204")
    after = ctx.http.get(members[0].path)
    if after.status != 200 or is_error(after.maybe_json()):
        raise Violation(f"after DELETE {rt.endpoint}/{group.id}, GET of its member {members[0].path} answered "
                        f"{after.status}; the user should remain")
    ctx.passed("the member user remains after the group is deleted")

