"""RFC 7644 §3.5.2 — modifying with PATCH, checked against a model of what the resource must become.

Every check creates its own resource (deleted when the check ends), reads it with a GET, applies the
operations to that copy with the suite's PATCH model (conformance/patchmodel.py), sends the PATCH,
and compares a following GET with the model on every attribute returned by default. All need PATCH
advertised in /ServiceProviderConfig.

Where the RFC describes an outcome without a requirement keyword (a replace replaces, an add
appends), the check cites the optional PATCH function itself (7644-3.5.2-01) and so only warns; the
outcomes the RFC words with SHALL or MUST (removal leaves an attribute unassigned, a value filter
replaces every match or fails with noTarget, atomicity, primary, the answer) fail.
"""

from __future__ import annotations

import json
from typing import Any

from ..discovery import PATCH_URN, USER_URN, Attribute, ResourceType
from ..engine import Created
from ..http import Reply
from ..patchmodel import PatchError, ResourceSchema, Unsupported, apply, differences
from ..registry import check
from ..support import field, is_error, parse_datetime, said, show
from ..verdicts import NotApplicable, Violation, expect
from .rfc7644_s3_3_create import naming, read_back

SKIPPED = ("members", "groups")  # Group membership is checked by the groups checks


# -- helpers ---------------------------------------------------------------------------------------------




def _ops_text(ops: list[dict[str, Any]]) -> str:
    return show(ops, 160)


def _send(ctx, created: Created, ops: list[dict[str, Any]], params: dict[str, str] | None = None) -> Reply:
    return ctx.http.patch(created.path, {"schemas": [PATCH_URN], "Operations": ops}, params=params)


def _schema(ctx, rt: ResourceType) -> ResourceSchema:
    schema = ResourceSchema.from_discovery(ctx.discovery, rt)
    if not schema.schemas.get(rt.schema) or len(schema.schemas[rt.schema]) <= 1:
        raise NotApplicable(f"/Schemas does not describe {rt.schema}; the PATCH model needs the schema")
    return schema


def _model(before: dict[str, Any], ops: list[dict[str, Any]], schema: ResourceSchema) -> dict[str, Any]:
    try:
        return apply(before, ops, schema)
    except Unsupported as exc:
        raise NotApplicable(f"the RFC does not decide the outcome of {_ops_text(ops)} ({exc})") from None
    except PatchError as exc:
        raise NotApplicable(f"by the target's /Schemas, {_ops_text(ops)} must fail ({exc}); nothing to grade") from None


def _graded(ctx, rt: ResourceType, created: Created, ops: list[dict[str, Any]], what: str) -> dict[str, Any]:
    """PATCH ``ops``; it must succeed and a GET afterwards must equal the model. Returns the GET body."""
    schema = _schema(ctx, rt)
    before = read_back(ctx, created)
    model = _model(before, ops, schema)
    reply = _send(ctx, created, ops)
    expect(reply.status in (200, 204),
           f"PATCH {rt.endpoint}/{created.id} ({what}) with {_ops_text(ops)} answered {said(reply)}; "
           "expected 200 or 204")
    after = read_back(ctx, created)
    diffs = differences(model, after, schema)
    expect(not diffs, f"after PATCH {_ops_text(ops)} ({what}), GET differs from the RFC's outcome: "
                      + "; ".join(diffs[:3]))
    return after


def _refused(ctx, rt: ResourceType, created: Created, ops: list[dict[str, Any]], what: str) -> Reply:
    """PATCH ``ops``, which must fail: a 4xx with a SCIM error body, the resource unchanged."""
    schema = _schema(ctx, rt)
    before = read_back(ctx, created)
    reply = _send(ctx, created, ops)
    after = read_back(ctx, created)
    changed = differences(before, after, schema)
    expect(400 <= reply.status < 500,
           f"PATCH {rt.endpoint}/{created.id} with {_ops_text(ops)} ({what}) answered {said(reply)}; expected "
           "a 4xx error" + (f" — and it changed the resource: {changed[0]}" if changed else ""))
    expect(is_error(reply.maybe_json()),
           f"the {reply.status} refusing {what} has no SCIM Error body (schemas with the Error URN): "
           f"{reply.text[:80]!r}")
    expect(not changed, f"the refused PATCH ({what}) changed the resource anyway: {'; '.join(changed[:3])}")
    return reply


def _scim_type(ctx, rt: ResourceType, created: Created, ops: list[dict[str, Any]], what: str, wanted: str) -> None:
    reply = _send(ctx, created, ops)
    if not 400 <= reply.status < 500:
        raise NotApplicable(f"{what} was answered {reply.status}, not refused; see the .refused check")
    body = reply.maybe_json()
    got = field(body, "scimType") if isinstance(body, dict) else None
    expect(reply.status == 400 and got == wanted,
           f"{what} was refused with {said(reply)}; expected 400 with scimType \"{wanted}\"")
    ctx.passed(f"400 with scimType \"{wanted}\"")


def _attrs(ctx, rt: ResourceType) -> list[Attribute]:
    return _schema(ctx, rt).schemas[rt.schema]


def _simple(attr: Attribute) -> bool:
    return (attr.type == "string" and not attr.multi_valued and attr.mutability == "readWrite"
            and attr.uniqueness == "none" and not attr.canonical_values and attr.returned in ("default", "always")
            and attr.name.lower() not in ("id", "schemas"))


def _present_simple(ctx, rt: ResourceType, created: Created, *, removable: bool = False) -> Attribute:
    """A readWrite string attribute the new resource holds (not the naming one when possible)."""
    name = naming(ctx, rt)
    found = [a for a in _attrs(ctx, rt) if _simple(a) and isinstance(field(created.sent, a.name), str)
             and not (removable and a.required)]
    found.sort(key=lambda a: a.name == name)
    if not found:
        raise NotApplicable(f"the new {rt.name} holds no {'optional ' if removable else ''}readWrite string "
                            "attribute to change")
    return found[0]


def _absent_simple(ctx, rt: ResourceType, created: Created) -> Attribute:
    found = [a for a in _attrs(ctx, rt) if _simple(a) and field(created.sent, a.name) is None
             and not a.required and a.type == "string"]
    if not found:
        raise NotApplicable(f"the {rt.name} schema has no optional readWrite string attribute the new resource lacks")
    return found[0]


def _complex(ctx, rt: ResourceType, created: Created) -> tuple[Attribute, Attribute, Attribute | None]:
    """A single-valued complex attribute the new resource holds, a string sub-attribute of it that
    it holds, and another one it holds (to see that it is kept)."""
    for attr in _attrs(ctx, rt):
        value = field(created.sent, attr.name)
        if attr.type != "complex" or attr.multi_valued or attr.mutability != "readWrite" or not isinstance(value, dict):
            continue
        subs = [s for s in attr.sub_attributes if _simple(s) and isinstance(field(value, s.name), str)]
        subs.sort(key=lambda s: s.name.lower() == "formatted")  # formatted is often derived from the others
        if subs:
            return attr, subs[0], subs[1] if len(subs) > 1 else None
    raise NotApplicable(f"the new {rt.name} holds no single-valued complex attribute with string sub-attributes")


def _multi(ctx, rt: ResourceType, created: Created) -> Attribute:
    """A multi-valued complex attribute with a string "value" the new resource holds (not members)."""
    for attr in _attrs(ctx, rt):
        value = field(created.sent, attr.name)
        sub = attr.sub("value")
        if (attr.multi_valued and attr.type == "complex" and attr.mutability == "readWrite"
                and attr.name.lower() not in SKIPPED and sub is not None and sub.type == "string"
                and sub.mutability == "readWrite" and isinstance(value, list) and value):
            return attr
    raise NotApplicable(f"the new {rt.name} holds no multi-valued complex attribute with a string value")


def _new_item(ctx, attr: Attribute, kind: str = "other", primary: bool | None = None) -> dict[str, Any]:
    tag = ctx.tag(attr.name)
    value = f"{tag}@example.org" if attr.name.lower() == "emails" else tag
    item: dict[str, Any] = {"value": value}
    type_attr = attr.sub("type")
    if type_attr is not None:
        allowed = [str(v) for v in type_attr.canonical_values]
        item["type"] = kind if not allowed or kind in allowed else allowed[-1]
    if primary is not None and attr.sub("primary") is not None:
        item["primary"] = primary
    return item


def _extension_attribute(ctx, rt: ResourceType) -> tuple[str, Attribute]:
    schema = _schema(ctx, rt)
    for urn in schema.extensions:
        for attr in schema.schemas[urn]:
            if _simple(attr) and not attr.required:
                return urn, attr
    raise NotApplicable(f"{rt.name} has no schema extension with a readWrite string attribute")


def _work_user(ctx, rt: ResourceType) -> tuple[Created, list[dict[str, Any]]]:
    """A User with a work and a home email (needs emails with value and type in the schema)."""
    emails = ctx.discovery.attribute(rt, "emails")
    if emails is None or emails.sub("type") is None or emails.sub("value") is None:
        raise NotApplicable(f"the {rt.name} schema has no emails with value and type")
    body = ctx.payload(rt)
    tag = body.get("userName") or ctx.tag("user")
    items = [{"value": f"{tag}@example.com", "type": "work"}, {"value": f"{tag}@example.net", "type": "home"}]
    body["emails"] = items
    return ctx.created_ok(rt, body), items


# -- simple attributes -------------------------------------------------------------------------------


@check(
    "patch.replace.simple",
    "A replace sets a new value of a single-valued attribute",
    requirements=["7644-3.5.2-01", "7643-7-18"],
    level="MAY",
    per_resource_type=True,
    needs=("patch",),
)
def replace_simple(ctx, rt):
    """A replace with a path naming a readWrite string attribute the resource holds (displayName,
    externalId...) stores the new value; GET afterwards equals the model. The RFC states the outcome
    without a keyword, so a difference warns."""
    created = ctx.created_ok(rt)
    attr = _present_simple(ctx, rt, created)
    new = ctx.tag("replaced")
    _graded(ctx, rt, created, [{"op": "replace", "path": attr.name, "value": new}], f"replace {attr.name}")
    ctx.passed(f"{attr.name} replaced with {new!r}; GET equals the model")


@check(
    "patch.add.simple",
    "An add gives a value to a single-valued attribute that had none",
    requirements=["7644-3.5.2-01"],
    level="MAY",
    per_resource_type=True,
    needs=("patch",),
)
def add_simple(ctx, rt):
    """An add with a path naming an optional readWrite string attribute the resource lacks (nickName,
    externalId...) stores the value; GET afterwards equals the model."""
    created = ctx.created_ok(rt)
    attr = _absent_simple(ctx, rt, created)
    new = ctx.tag("added")
    _graded(ctx, rt, created, [{"op": "add", "path": attr.name, "value": new}], f"add {attr.name}")
    ctx.passed(f"{attr.name} added as {new!r}; GET equals the model")


@check(
    "patch.replace.absent-is-add",
    "A replace of an attribute that has no value adds it",
    requirements=["7644-3.5.2.3-02"],
    level="MUST",
    per_resource_type=True,
    needs=("patch",),
)
def replace_absent_is_add(ctx, rt):
    """A replace whose path names an attribute the resource has no value for is treated as an add:
    the value is stored."""
    created = ctx.created_ok(rt)
    attr = _absent_simple(ctx, rt, created)
    new = ctx.tag("added")
    _graded(ctx, rt, created, [{"op": "replace", "path": attr.name, "value": new}], f"replace absent {attr.name}")
    ctx.passed(f"replace of the absent {attr.name} stored {new!r}")


@check(
    "patch.remove.simple",
    "A remove of a single-valued attribute leaves it unassigned",
    requirements=["7644-3.5.2.2-01"],
    level="MUST",
    per_resource_type=True,
    needs=("patch",),
)
def remove_simple(ctx, rt):
    """A remove with a path naming an optional single-valued attribute the resource holds removes
    it: GET afterwards shows no value."""
    created = ctx.created_ok(rt)
    attr = _present_simple(ctx, rt, created, removable=True)
    _graded(ctx, rt, created, [{"op": "remove", "path": attr.name}], f"remove {attr.name}")
    ctx.passed(f"{attr.name} removed; GET shows no value")


# -- complex attributes ---------------------------------------------------------------------------------


@check(
    "patch.replace.complex",
    "A replace of a complex attribute with some sub-attributes changes those and keeps the others",
    requirements=["7644-3.5.2.3-03"],
    level="MUST",
    per_resource_type=True,
    needs=("patch",),
)
def replace_complex(ctx, rt):
    """A replace with path "name" (or another single-valued complex attribute) and a value holding
    one sub-attribute replaces that sub-attribute; the sub-attributes not given are left as they
    were."""
    created = ctx.created_ok(rt)
    attr, sub, kept = _complex(ctx, rt, created)
    new = ctx.tag("sub")
    _graded(ctx, rt, created, [{"op": "replace", "path": attr.name, "value": {sub.name: new}}],
            f"replace {attr.name} with {{{sub.name}}}")
    ctx.passed(f"{attr.name}.{sub.name} replaced" + (f", {attr.name}.{kept.name} kept" if kept else ""))


@check(
    "patch.replace.sub-attribute",
    "A replace with a sub-attribute path (name.givenName) changes that sub-attribute only",
    requirements=["7644-3.5.2-01"],
    level="MAY",
    per_resource_type=True,
    needs=("patch",),
)
def replace_sub_attribute(ctx, rt):
    """A replace with path "name.givenName" (attribute.sub-attribute) stores the new value of the
    sub-attribute and leaves the others as they were."""
    created = ctx.created_ok(rt)
    attr, sub, _ = _complex(ctx, rt, created)
    new = ctx.tag("sub")
    _graded(ctx, rt, created, [{"op": "replace", "path": f"{attr.name}.{sub.name}", "value": new}],
            f"replace {attr.name}.{sub.name}")
    ctx.passed(f"{attr.name}.{sub.name} replaced with {new!r}")


@check(
    "patch.remove.sub-attribute",
    "A remove of a sub-attribute (name.givenName) leaves it unassigned and keeps the others",
    requirements=["7644-3.5.2.2-01"],
    level="MUST",
    per_resource_type=True,
    needs=("patch",),
)
def remove_sub_attribute(ctx, rt):
    """A remove with path "name.givenName" removes that sub-attribute's value; the other
    sub-attributes stay."""
    created = ctx.created_ok(rt)
    attr, sub, _ = _complex(ctx, rt, created)
    if sub.required:
        raise NotApplicable(f"{attr.name}.{sub.name} is required")
    _graded(ctx, rt, created, [{"op": "remove", "path": f"{attr.name}.{sub.name}"}], f"remove {attr.name}.{sub.name}")
    ctx.passed(f"{attr.name}.{sub.name} removed, the rest of {attr.name} kept")


# -- multi-valued attributes -------------------------------------------------------------------------------


@check(
    "patch.add.multi-valued-appends",
    "An add to a multi-valued attribute appends the new value and keeps the existing ones",
    requirements=["7644-3.5.2-01"],
    level="MAY",
    per_resource_type=True,
    needs=("patch",),
)
def add_multi_valued_appends(ctx, rt):
    """An add with path "emails" (or another multi-valued complex attribute) and a one-value list
    adds that value: GET afterwards holds the existing values and the new one."""
    created = ctx.created_ok(rt)
    attr = _multi(ctx, rt, created)
    item = _new_item(ctx, attr, "other")
    _graded(ctx, rt, created, [{"op": "add", "path": attr.name, "value": [item]}], f"add to {attr.name}")
    ctx.passed(f"{attr.name} holds the old values and {item['value']!r}")


@check(
    "patch.replace.multi-valued-replaces",
    "A replace of a multi-valued attribute replaces all its values",
    requirements=["7644-3.5.2-01"],
    level="MAY",
    per_resource_type=True,
    needs=("patch",),
)
def replace_multi_valued(ctx, rt):
    """A replace with path "emails" (no filter) and a one-value list leaves exactly that value."""
    created = ctx.created_ok(rt)
    attr = _multi(ctx, rt, created)
    item = _new_item(ctx, attr, "work")
    _graded(ctx, rt, created, [{"op": "replace", "path": attr.name, "value": [item]}], f"replace {attr.name}")
    ctx.passed(f"{attr.name} holds only {item['value']!r}")


@check(
    "patch.remove.multi-valued-all",
    "A remove of a multi-valued attribute without a filter removes every value",
    requirements=["7644-3.5.2.2-02"],
    level="MUST",
    per_resource_type=True,
    needs=("patch",),
)
def remove_multi_valued_all(ctx, rt):
    """A remove with path "emails" (no filter) removes all the values: the attribute is unassigned."""
    created = ctx.created_ok(rt)
    attr = _multi(ctx, rt, created)
    if attr.required:
        raise NotApplicable(f"{attr.name} is required")
    _graded(ctx, rt, created, [{"op": "remove", "path": attr.name}], f"remove {attr.name}")
    ctx.passed(f"{attr.name} unassigned")


@check(
    "patch.primary-exclusive",
    "Setting primary true on one value sets it false on the others",
    requirements=["7644-3.5.2-13"],
    level="MUST",
    per_resource_type=True,
    needs=("patch",),
)
def primary_exclusive(ctx, rt):
    """The new resource has a value with primary true; an add of another value with primary true
    leaves that one primary and the earlier one not (primary false or absent)."""
    created = ctx.created_ok(rt)
    attr = _multi(ctx, rt, created)
    if attr.sub("primary") is None:
        raise NotApplicable(f"{attr.name} has no primary sub-attribute")
    if not any(isinstance(v, dict) and v.get("primary") is True for v in field(created.sent, attr.name)):
        raise NotApplicable(f"the new {rt.name} has no primary {attr.name} value")
    item = _new_item(ctx, attr, "other", primary=True)
    after = _graded(ctx, rt, created, [{"op": "add", "path": attr.name, "value": [item]}],
                    f"add a primary value to {attr.name}")
    primaries = [v for v in field(after, attr.name) or [] if isinstance(v, dict) and field(v, "primary") is True]
    expect(len(primaries) == 1, f"after the add, {len(primaries)} {attr.name} values are primary: {show(primaries)}")
    ctx.passed(f"only the new {attr.name} value is primary")


# -- value filters (User emails) ----------------------------------------------------------------------------


@check(
    "patch.replace.value-filter",
    'A replace with a value filter path (emails[type eq "work"].value) changes the matching value only',
    requirements=["7644-3.5.2.3-04"],
    level="MUST",
    per_resource_type=True,
    resource_types=[USER_URN],
    needs=("patch",),
)
def replace_value_filter(ctx, rt):
    """A User with a work and a home email; a replace with path emails[type eq "work"].value sets
    the work email's value and leaves the home email as it was."""
    created, items = _work_user(ctx, rt)
    new = f"{ctx.tag('work')}@example.org"
    _graded(ctx, rt, created, [{"op": "replace", "path": 'emails[type eq "work"].value', "value": new}],
            "replace the work email's value")
    ctx.passed(f"the work email became {new!r}, the home email kept")


@check(
    "patch.remove.value-filter",
    'A remove with a value filter path (emails[type eq "work"]) removes the matching values only',
    requirements=["7644-3.5.2.2-04"],
    level="MUST",
    per_resource_type=True,
    resource_types=[USER_URN],
    needs=("patch",),
)
def remove_value_filter(ctx, rt):
    """A User with a work and a home email; a remove with path emails[type eq "work"] removes the
    work email and keeps the home one."""
    created, _ = _work_user(ctx, rt)
    _graded(ctx, rt, created, [{"op": "remove", "path": 'emails[type eq "work"]'}], "remove the work email")
    ctx.passed("the work email removed, the home email kept")


@check(
    "patch.remove.value-filter-last-unassigned",
    "A value-filter remove that takes the last value leaves the attribute unassigned",
    requirements=["7644-3.5.2.2-05", "7644-3.5.2.2-03"],
    level="MUST",
    per_resource_type=True,
    resource_types=[USER_URN],
    needs=("patch",),
)
def remove_value_filter_last(ctx, rt):
    """A User with a single (work) email; a remove with path emails[type eq "work"] leaves no email
    at all: emails is unassigned."""
    emails = ctx.discovery.attribute(rt, "emails")
    if emails is None or emails.sub("type") is None or emails.required:
        raise NotApplicable(f"the {rt.name} schema has no optional emails with a type")
    body = ctx.payload(rt)
    body["emails"] = [{"value": f"{body.get('userName') or ctx.tag('user')}@example.com", "type": "work"}]
    created = ctx.created_ok(rt, body)
    _graded(ctx, rt, created, [{"op": "remove", "path": 'emails[type eq "work"]'}], "remove the only email")
    ctx.passed("emails unassigned")


@check(
    "patch.replace.value-filter-no-match",
    "A replace whose value filter matches nothing fails with 400 noTarget",
    requirements=["7644-3.5.2.3-05"],
    level="MUST",
    per_resource_type=True,
    resource_types=[USER_URN],
    needs=("patch",),
)
def replace_value_filter_no_match(ctx, rt):
    """A User with a work and a home email; a replace with path emails[type eq "<no such type>"].value
    is refused with 400 and scimType "noTarget", and the User is unchanged."""
    created, _ = _work_user(ctx, rt)
    ops = [{"op": "replace", "path": 'emails[type eq "sctnomatch"].value', "value": "x@example.org"}]
    reply = _refused(ctx, rt, created, ops, "a value filter matching no email")
    got = field(reply.maybe_json(), "scimType")
    expect(reply.status == 400 and got == "noTarget",
           f"the value filter matching nothing was refused with {said(reply)}; expected 400 with scimType "
           "\"noTarget\"")
    ctx.passed('400 noTarget, the User unchanged')


# -- extension attributes and path-less maps ----------------------------------------------------------------


@check(
    "patch.replace.extension-urn-path",
    "A replace whose path is an extension attribute's full URN path stores the value in the extension",
    requirements=["7644-3.5.2-01"],
    level="MAY",
    per_resource_type=True,
    needs=("patch",),
)
def replace_extension_urn_path(ctx, rt):
    """A replace with path "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"
    (an extension attribute by its fully qualified name) stores the value inside the extension's
    object."""
    urn, attr = _extension_attribute(ctx, rt)
    created = ctx.created_ok(rt)
    new = ctx.tag("ext")
    _graded(ctx, rt, created, [{"op": "replace", "path": f"{urn}:{attr.name}", "value": new}],
            f"replace {attr.name} of {urn}")
    ctx.passed(f"{urn}:{attr.name} = {new!r}")


@check(
    "patch.no-path.replace-map",
    "A replace without a path applies a map of attribute names to values",
    requirements=["7644-3.5.2-01"],
    level="MAY",
    per_resource_type=True,
    needs=("patch",),
)
def no_path_replace_map(ctx, rt):
    """A replace with no path and a value object {attribute: value} replaces each attribute named
    (the form of the RFC's own example)."""
    created = ctx.created_ok(rt)
    attr = _present_simple(ctx, rt, created)
    value = {attr.name: ctx.tag("map")}
    _graded(ctx, rt, created, [{"op": "replace", "value": value}], "a path-less replace")
    ctx.passed(f"the path-less replace set {attr.name}")


@check(
    "patch.no-path.dotted-and-urn-keys",
    'A path-less add or replace accepts keys like "name.givenName" and URN-qualified names',
    requirements=["7644-3.5.2-01"],
    level="MAY",
    per_resource_type=True,
    needs=("patch",),
)
def no_path_dotted_and_urn_keys(ctx, rt):
    """Microsoft Entra ID sends path-less replaces whose value keys are sub-attribute paths
    ("name.givenName") and extension attributes by full URN. Each key is applied as the path it
    names."""
    created = ctx.created_ok(rt)
    value: dict[str, Any] = {}
    try:
        attr, sub, _ = _complex(ctx, rt, created)
        value[f"{attr.name}.{sub.name}"] = ctx.tag("dotted")
    except NotApplicable:
        pass
    try:
        urn, ext = _extension_attribute(ctx, rt)
        value[f"{urn}:{ext.name}"] = ctx.tag("urn")
    except NotApplicable:
        pass
    if not value:
        raise NotApplicable(f"{rt.name} has neither a complex attribute nor an extension to name that way")
    _graded(ctx, rt, created, [{"op": "replace", "value": value}], "a path-less replace with dotted/URN keys")
    ctx.passed("keys applied: " + ", ".join(value))


@check(
    "patch.op-name-any-case",
    'Operation names in another case ("Replace", "ADD") are accepted',
    requirements=["7644-3.5.2-01"],
    level="MAY",
    per_resource_type=True,
    needs=("patch",),
)
def op_name_any_case(ctx, rt):
    """The RFC spells op values in lower case, but identity providers (Microsoft Entra ID among them)
    send "Replace" and "Add". Accepting them is interoperability, not an RFC requirement, so this
    only warns: a "Replace" and an "ADD" are each applied as their lower-case op."""
    created = ctx.created_ok(rt)
    attr = _present_simple(ctx, rt, created)
    _graded(ctx, rt, created, [{"op": "Replace", "path": attr.name, "value": ctx.tag("cased")}], '"op": "Replace"')
    try:
        absent = _absent_simple(ctx, rt, created)
        _graded(ctx, rt, created, [{"op": "ADD", "path": absent.name, "value": ctx.tag("cased")}], '"op": "ADD"')
    except NotApplicable:
        _graded(ctx, rt, created, [{"op": "ADD", "path": attr.name, "value": ctx.tag("cased")}], '"op": "ADD"')
    ctx.passed('"Replace" and "ADD" applied')


# -- the resource's "schemas" during a PATCH (RFC 7644 §3.5.2) ------------------------------------------


def _schemas_of(resource: dict[str, Any]) -> set[str]:
    value = field(resource, "schemas")
    return {s.lower() for s in value if isinstance(s, str)} if isinstance(value, list) else set()


@check(
    "patch.schemas-assumed",
    'Operations are applied against the resource\'s own "schemas", which the PATCH does not restate',
    requirements=["7644-3.5.2-10"],
    level="MUST",
    per_resource_type=True,
    needs=("patch",),
)
def schemas_assumed(ctx, rt):
    """A resource is created with a schema extension; a PATCH whose body names only the PatchOp URN
    changes a core attribute and an extension attribute (by its URN path). The server takes the
    resource's own "schemas" as the context of the operations: both values are applied, and the
    resource's "schemas" is unchanged afterwards (the extension is neither dropped nor required again)."""
    urn, attr = _extension_attribute(ctx, rt)
    body = ctx.payload(rt)
    body[urn] = {**(body.get(urn) or {}), attr.name: ctx.tag("extv")}
    body["schemas"] = [*[s for s in body.get("schemas", []) if s != urn], urn]
    created = ctx.created_ok(rt, body)
    before = _schemas_of(read_back(ctx, created))
    if urn.lower() not in before:
        raise NotApplicable(f"the {rt.name} was created with {urn} values but its schemas do not list it; "
                            "see resource.schemas-extension")
    core = _present_simple(ctx, rt, created)
    ops = [{"op": "replace", "path": core.name, "value": ctx.tag("core")},
           {"op": "replace", "path": f"{urn}:{attr.name}", "value": ctx.tag("ext")}]
    after = _graded(ctx, rt, created, ops, "a core and an extension attribute, schemas not restated")
    now = _schemas_of(after)
    expect(now == before, f"after the PATCH, schemas is {show(field(after, 'schemas'))}; it was "
                          f"{sorted(before)} and no operation changed it")
    ctx.passed(f"{core.name} and {urn}:{attr.name} applied; schemas unchanged")


@check(
    "patch.schemas-change-seen",
    'An operation after one that changes "schemas" sees the changed value',
    requirements=["7644-3.5.2-11"],
    level="MUST",
    per_resource_type=True,
    needs=("patch",),
)
def schemas_change_seen(ctx, rt):
    """A resource is created without its schema extension. One PATCH adds the extension's URN to
    "schemas" and then sets an attribute of that extension: the second operation is evaluated against
    the schemas the first one produced, so the request succeeds and a GET shows the extension's value
    and URN. When the server refuses even a PATCH that only adds the URN, the check is skipped (the
    RFC does not make "schemas" writable by PATCH)."""
    urn, attr = _extension_attribute(ctx, rt)
    required = next((e.required for e in rt.extensions if e.schema == urn), False)
    if required:
        raise NotApplicable(f"{urn} is required for {rt.name}: a resource without it cannot be created")

    def bare():
        body = ctx.payload(rt)
        body.pop(urn, None)
        body["schemas"] = [s for s in body.get("schemas", []) if s != urn]
        return ctx.created_ok(rt, body)

    created = bare()
    value = ctx.tag("extv")
    ops = [{"op": "add", "path": "schemas", "value": [urn]},
           {"op": "add", "path": f"{urn}:{attr.name}", "value": value}]
    reply = _send(ctx, created, ops)
    if 400 <= reply.status < 500:
        other = bare()
        alone = _send(ctx, other, ops[:1])
        if not 200 <= alone.status < 300:
            raise NotApplicable(f"the server refuses a PATCH that adds {urn} to schemas ({said(alone)}); "
                                "the RFC does not require schemas to be writable")
        raise Violation(f"adding {urn} to schemas alone is accepted ({alone.status}), but followed by an add of "
                        f"{urn}:{attr.name} in the same request it was refused with {said(reply)}: the second "
                        "operation did not see the changed schemas")
    expect(reply.status in (200, 204), f"PATCH {_ops_text(ops)} answered {said(reply)}; expected 200 or 204")
    after = read_back(ctx, created)
    got = field(field(after, urn), attr.name)
    expect(got == value, f"after the PATCH, {urn}:{attr.name} is {show(got)}; {value!r} was added")
    expect(urn.lower() in _schemas_of(after), f"after the PATCH, schemas is {show(field(after, 'schemas'))}; "
                                              f"it lacks {urn}, which the first operation added")
    ctx.passed(f"{urn} added to schemas and {attr.name} = {value!r} in one request")


# -- refusals ---------------------------------------------------------------------------------------------


def _remove_without_path() -> list[dict[str, Any]]:
    return [{"op": "remove"}]


@check(
    "patch.remove-without-path.refused",
    "A remove without a path is refused and changes nothing",
    requirements=["7644-3.5.2-09", "7644-3.5.2-16"],
    level="MUST",
    per_resource_type=True,
    needs=("patch",),
)
def remove_without_path_refused(ctx, rt):
    """path is required for remove; a remove without one fails with an error response (a SCIM Error
    body) and the resource stays as it was."""
    created = ctx.created_ok(rt)
    reply = _refused(ctx, rt, created, _remove_without_path(), "remove without a path")
    ctx.passed(f"refused with {reply.status}")


@check(
    "patch.remove-without-path.notarget",
    'A remove without a path answers 400 with scimType "noTarget"',
    requirements=["7644-3.5.2-16", "7644-3.12-05"],
    level="SHOULD",
    per_resource_type=True,
    needs=("patch",),
)
def remove_without_path_notarget(ctx, rt):
    """§3.5.2.2 gives the code for a remove without a path: 400 with scimType "noTarget"."""
    created = ctx.created_ok(rt)
    _scim_type(ctx, rt, created, _remove_without_path(), "remove without a path", "noTarget")


def _bad_path(ctx, rt: ResourceType) -> list[dict[str, Any]]:
    return [{"op": "replace", "path": f'{naming(ctx, rt)}[value eq "x"', "value": ctx.tag("badpath")}]


@check(
    "patch.invalid-path.refused",
    "A PATCH with a malformed path is refused and changes nothing",
    requirements=["7644-3.5.2-09", "7644-3.5.2-16"],
    level="MUST",
    per_resource_type=True,
    needs=("patch",),
)
def invalid_path_refused(ctx, rt):
    """A replace whose path does not follow the PATH rule (an unclosed value filter) fails with an
    error response and the resource stays as it was."""
    created = ctx.created_ok(rt)
    reply = _refused(ctx, rt, created, _bad_path(ctx, rt), "a malformed path")
    ctx.passed(f"refused with {reply.status}")


@check(
    "patch.invalid-path.scimtype",
    'A malformed path answers 400 with scimType "invalidPath"',
    requirements=["7644-3.5.2-16", "7644-3.12-05"],
    level="SHOULD",
    per_resource_type=True,
    needs=("patch",),
)
def invalid_path_scimtype(ctx, rt):
    """Table 9 names the code for a path that is invalid or malformed: 400 with scimType "invalidPath"."""
    created = ctx.created_ok(rt)
    _scim_type(ctx, rt, created, _bad_path(ctx, rt), "a malformed path", "invalidPath")


def _readonly(ctx, rt: ResourceType) -> list[dict[str, Any]]:
    return [{"op": "replace", "path": "id", "value": ctx.tag("newid")}]


@check(
    "patch.readonly-target.refused",
    "A PATCH replacing the readOnly id is refused and changes nothing",
    requirements=["7644-3.5.2-09", "7644-3.5.2-16"],
    level="MUST",
    per_resource_type=True,
    needs=("patch",),
)
def readonly_target_refused(ctx, rt):
    """id is readOnly (RFC 7643 §3.1): a replace with path "id" is incompatible with its mutability,
    fails with an error response, and the id stays."""
    created = ctx.created_ok(rt)
    reply = _refused(ctx, rt, created, _readonly(ctx, rt), "a replace of id")
    ctx.passed(f"refused with {reply.status}")


@check(
    "patch.readonly-target.scimtype",
    'A PATCH of a readOnly attribute answers 400 with scimType "mutability"',
    requirements=["7644-3.5.2-09", "7644-3.12-05"],
    level="SHOULD",
    per_resource_type=True,
    needs=("patch",),
)
def readonly_target_scimtype(ctx, rt):
    """Table 9 names the code for a change incompatible with mutability: 400 with scimType "mutability"."""
    created = ctx.created_ok(rt)
    _scim_type(ctx, rt, created, _readonly(ctx, rt), "a replace of id", "mutability")


def _wrong_type(ctx, rt: ResourceType) -> list[dict[str, Any]]:
    for attr in _attrs(ctx, rt):
        if attr.mutability == "readWrite" and not attr.multi_valued and attr.type in ("boolean", "integer"):
            return [{"op": "replace", "path": attr.name, "value": "sct-not-a-" + attr.type}]
    for attr in _attrs(ctx, rt):
        if _simple(attr):
            return [{"op": "replace", "path": attr.name, "value": {"sct": ["not", "a", "string"]}}]
    raise NotApplicable(f"the {rt.name} schema has no single-valued readWrite attribute to send a wrong type to")


@check(
    "patch.wrong-type.refused",
    "A PATCH giving a value of the wrong type is refused and changes nothing",
    requirements=["7644-3.5.2-09", "7644-3.5.2-16"],
    level="MUST",
    per_resource_type=True,
    needs=("patch",),
)
def wrong_type_refused(ctx, rt):
    """A replace giving a string to a boolean (active) or an object to a string attribute is
    incompatible with the schema: it fails with an error response and nothing changes."""
    created = ctx.created_ok(rt)
    reply = _refused(ctx, rt, created, _wrong_type(ctx, rt), "a value of the wrong type")
    ctx.passed(f"refused with {reply.status}")


@check(
    "patch.wrong-type.scimtype",
    'A PATCH value of the wrong type answers 400 with scimType "invalidValue"',
    requirements=["7644-3.5.2-09", "7644-3.12-05"],
    level="SHOULD",
    per_resource_type=True,
    needs=("patch",),
)
def wrong_type_scimtype(ctx, rt):
    """Table 9 names the code for a value incompatible with the attribute type: 400 with scimType
    "invalidValue"."""
    created = ctx.created_ok(rt)
    _scim_type(ctx, rt, created, _wrong_type(ctx, rt), "a value of the wrong type", "invalidValue")


@check(
    "patch.remove-required.mutability",
    'Removing a required attribute is refused with scimType "mutability"',
    requirements=["7644-3.5.2.2-06"],
    level="MUST",
    per_resource_type=True,
    needs=("patch",),
)
def remove_required(ctx, rt):
    """A remove with a path naming a required attribute (userName, a Group's displayName) fails with
    an error whose scimType is "mutability", and the attribute keeps its value."""
    required = [a for a in _attrs(ctx, rt) if a.required and a.mutability == "readWrite"
                and field(ctx.payload(rt), a.name) is not None]
    if not required:
        raise NotApplicable(f"the {rt.name} schema has no required readWrite attribute")
    created = ctx.created_ok(rt)
    name = required[0].name
    reply = _refused(ctx, rt, created, [{"op": "remove", "path": name}], f"remove the required {name}")
    got = field(reply.maybe_json(), "scimType")
    expect(got == "mutability", f"removing the required {name} was refused with {said(reply)}; expected "
                                "scimType \"mutability\"")
    ctx.passed(f"{reply.status} mutability; {name} kept")


# -- atomicity and the answer -----------------------------------------------------------------------------


@check(
    "patch.atomic",
    "A PATCH whose second operation fails leaves the resource as it was",
    requirements=["7644-3.5.2-14", "7644-3.5.2-15"],
    level="MUST",
    per_resource_type=True,
    needs=("patch",),
)
def atomic(ctx, rt):
    """Two operations: a valid replace of a string attribute, then a remove without a path. The
    request fails and the first operation's change is not kept."""
    created = ctx.created_ok(rt)
    attr = _present_simple(ctx, rt, created)
    ops = [{"op": "replace", "path": attr.name, "value": ctx.tag("atomic")}, {"op": "remove"}]
    schema = _schema(ctx, rt)
    before = read_back(ctx, created)
    reply = _send(ctx, created, ops)
    after = read_back(ctx, created)
    if 200 <= reply.status < 300:
        raise NotApplicable(f"the second operation (remove without a path) was accepted ({reply.status}); "
                            "see patch.remove-without-path.refused")
    changed = differences(before, after, schema)
    expect(not changed, f"the PATCH failed ({said(reply)}) but its first operation was kept: "
                        + "; ".join(changed[:3]))
    ctx.passed(f"failed with {reply.status}; the resource unchanged")


@check(
    "patch.response",
    "A successful PATCH answers 200 with the resource as a GET shows it, or 204",
    requirements=["7644-3.5.2-17"],
    level="MUST",
    per_resource_type=True,
    needs=("patch",),
)
def response(ctx, rt):
    """Both are allowed: 204 No Content, or 200 with the entire resource — which must then be the
    resource after the change, equal to a following GET on the attributes returned by default."""
    created = ctx.created_ok(rt)
    attr = _present_simple(ctx, rt, created)
    ops = [{"op": "replace", "path": attr.name, "value": ctx.tag("resp")}]
    schema = _schema(ctx, rt)
    reply = _send(ctx, created, ops)
    expect(reply.status in (200, 204), f"the PATCH answered {said(reply)}; expected 200 with the resource or 204")
    if reply.status == 204:
        ctx.passed("204 No Content")
        return
    body = reply.maybe_json()
    expect(isinstance(body, dict) and not is_error(body),
           f"the 200 carries no resource: {reply.text[:80]!r}")
    after = read_back(ctx, created)
    diffs = differences(after, body, schema)
    expect(field(body, "id") == created.id, f"the 200 answer's id is {show(field(body, 'id'))}, not {created.id}")
    expect(not diffs, "the 200 answer is not the resource a following GET shows: "
                      + "; ".join(d.replace("the server has", "the answer has") for d in diffs[:3]))
    ctx.passed("200 with the resource, equal to a following GET")


@check(
    "patch.response.attributes-200",
    "A PATCH with ?attributes= answers 200 with the attributes asked for",
    requirements=["7644-3.5.2-18"],
    level="MUST",
    per_resource_type=True,
    needs=("patch",),
)
def response_attributes(ctx, rt):
    """With the attributes query parameter, a successful PATCH must answer 200 (not 204), and the
    body holds the attribute asked for with its new value."""
    created = ctx.created_ok(rt)
    attr = _present_simple(ctx, rt, created)
    new = ctx.tag("attrs")
    reply = _send(ctx, created, [{"op": "replace", "path": attr.name, "value": new}], params={"attributes": attr.name})
    expect(reply.status == 200, f"PATCH ...?attributes={attr.name} answered {said(reply)}; expected 200")
    body = reply.maybe_json()
    got = field(body, attr.name) if isinstance(body, dict) else None
    expect(isinstance(got, str) and got.casefold() == new.casefold(),
           f"the 200 answer shows {attr.name} {show(got)}; {new!r} was set")
    ctx.passed(f"200 with {attr.name}")


def _add_existing(ctx, rt: ResourceType) -> tuple[Created, list[dict[str, Any]], dict[str, Any]]:
    created = ctx.created_ok(rt)
    attr = _multi(ctx, rt, created)
    before = read_back(ctx, created)
    current = field(before, attr.name)
    if not isinstance(current, list) or not current or not isinstance(current[0], dict):
        raise NotApplicable(f"GET shows no {attr.name} value to add again")
    return created, [{"op": "add", "path": attr.name, "value": [json.loads(json.dumps(current[0]))]}], before


@check(
    "patch.add.existing-value-no-change",
    "An add of a value the attribute already holds succeeds and changes nothing",
    requirements=["7644-3.5.2.1-04"],
    level="SHOULD",
    per_resource_type=True,
    needs=("patch",),
)
def add_existing_no_change(ctx, rt):
    """Adding to "emails" a value equal to one it holds (as GET showed it) succeeds and leaves the
    values as they were: no duplicate."""
    created, ops, _ = _add_existing(ctx, rt)
    _graded(ctx, rt, created, ops, "add a value already there")
    ctx.passed("success, no duplicate")


@check(
    "patch.add.existing-value-keeps-last-modified",
    "An add of a value already there does not change meta.lastModified",
    requirements=["7644-3.5.2.1-05"],
    level="MUST",
    per_resource_type=True,
    needs=("patch",),
)
def add_existing_keeps_last_modified(ctx, rt):
    """When the add changes nothing, the modify timestamp (meta.lastModified) stays what it was."""
    created, ops, before = _add_existing(ctx, rt)
    modified0 = field(field(before, "meta"), "lastModified")
    if parse_datetime(modified0) is None:
        raise NotApplicable("the resource has no meta.lastModified")
    reply = _send(ctx, created, ops)
    if reply.status not in (200, 204):
        raise NotApplicable(f"the add answered {reply.status}; see patch.add.existing-value-no-change")
    after = read_back(ctx, created)
    modified1 = field(field(after, "meta"), "lastModified")
    if differences(before, after, _schema(ctx, rt)):
        raise NotApplicable("the add changed the resource; see patch.add.existing-value-no-change")
    if parse_datetime(modified1) != parse_datetime(modified0):
        raise Violation(f"adding a value already there moved meta.lastModified from {modified0} to {modified1}")
    ctx.passed(f"lastModified stays {modified0}")
