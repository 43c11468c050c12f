"""RFC 7643 §7 — the Schema resources served at /Schemas: their ids, the characteristics of every
attribute definition, and a schema read on its own by its URI.

The list is the one discovery read (``ctx.discovery.schemas_reply``), graded as served (discovery
keeps only the parsed form).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..discovery import LIST_URN
from ..registry import check
from ..support import describe, discovery_entries, get_ci
from ..verdicts import NotApplicable, Violation, expect

URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
MUTABILITY = ("readOnly", "readWrite", "immutable", "writeOnly")
RETURNED = ("always", "never", "default", "request")
UNIQUENESS = ("none", "server", "global")
# Characteristics every attribute definition carries (the RFC's own §8.7 definitions always show them).
ALWAYS = ("name", "type", "multiValued", "required", "mutability", "returned")
# ...and those it shows for string and reference attributes, the ones they mean something for.
FOR_STRINGS = ("caseExact", "uniqueness")
SHOWN = 6  # problems quoted in a message


def _schemas(ctx) -> list[dict[str, Any]]:
    entries = discovery_entries(ctx, ctx.discovery.schemas_reply, "/Schemas")
    if not entries:
        raise NotApplicable("precondition: /Schemas lists no schema; see discovery.schemas.list-response")
    return entries


def _schema_label(entry: dict[str, Any], i: int) -> str:
    sid = get_ci(entry, "id")[1]
    return str(sid) if isinstance(sid, str) and sid else f"schema #{i + 1}"


def _walk(attributes: Any, parent: str, top: bool) -> Iterator[tuple[str, Any]]:
    """Every attribute definition, sub-attributes included, with a path for messages
    (``urn:...:User:emails.value``)."""
    if not isinstance(attributes, list):
        return
    for i, attr in enumerate(attributes):
        name = get_ci(attr, "name")[1] if isinstance(attr, dict) else None
        path = f"{parent}{':' if top else '.'}{name or f'[{i}]'}"
        yield path, attr
        if isinstance(attr, dict):
            yield from _walk(get_ci(attr, "subAttributes")[1], path, False)


def _all_attributes(ctx) -> Iterator[tuple[str, Any]]:
    for i, entry in enumerate(_schemas(ctx)):
        yield from _walk(get_ci(entry, "attributes")[1], _schema_label(entry, i), True)


def _raise_some(problems: list[str], what: str) -> None:
    if problems:
        more = f" (and {len(problems) - SHOWN} more)" if len(problems) > SHOWN else ""
        raise Violation(f"{len(problems)} {what}: " + "; ".join(problems[:SHOWN]) + more)


@check(
    "discovery.schemas.id",
    "Every schema at /Schemas has its URI as id",
    requirements=["7643-7-03", "7643-7-02"],
    level="MUST",
)
def schemas_id(ctx):
    """Each entry of /Schemas carries an ``id`` that is the schema's URI (for example
    urn:ietf:params:scim:schemas:core:2.0:User), the value resources list in ``schemas``."""
    problems = []
    entries = _schemas(ctx)
    for i, entry in enumerate(entries):
        has, sid = get_ci(entry, "id")
        name = get_ci(entry, "name")[1]
        label = f"schema {name!r}" if name else f"schema #{i + 1}"
        if not has:
            problems.append(f"{label} has no id")
        elif not isinstance(sid, str) or not URI.match(sid):
            problems.append(f"{label}: id is {describe(sid)}; expected the schema URI")
    _raise_some(problems, "schema(s) without a URI id")
    ctx.passed(f"{len(entries)} schema(s), each identified by its URI")


@check(
    "discovery.schemas.attribute-characteristics",
    "Every attribute definition at /Schemas states its characteristics",
    requirements=["7643-7-01"],
    level="MUST",
)
def schemas_attribute_characteristics(ctx):
    """Every attribute and sub-attribute definition gives name, type, multiValued, required,
    mutability and returned (string and reference ones also caseExact and uniqueness), with
    booleans as JSON booleans and keywords from the RFC's lists."""
    problems: list[str] = []
    for i, entry in enumerate(_schemas(ctx)):
        attributes = get_ci(entry, "attributes")[1]
        if not isinstance(attributes, list):
            problems.append(f"{_schema_label(entry, i)}: attributes is {describe(attributes)}; expected a list")
    count = 0
    for path, attr in _all_attributes(ctx):
        count += 1
        if not isinstance(attr, dict):
            problems.append(f"{path} is {describe(attr)}, not an attribute definition")
            continue
        kind = get_ci(attr, "type")[1]
        wanted = ALWAYS + (FOR_STRINGS if isinstance(kind, str) and kind.lower() in ("string", "reference") else ())
        missing = [c for c in wanted if not get_ci(attr, c)[0]]
        if missing:
            problems.append(f"{path} lacks {', '.join(missing)}")
        for flag in ("multiValued", "required", "caseExact"):
            has, value = get_ci(attr, flag)
            if has and not isinstance(value, bool):
                problems.append(f"{path}.{flag} is {describe(value)}; expected true or false")
        for key, allowed in (("mutability", MUTABILITY), ("returned", RETURNED), ("uniqueness", UNIQUENESS)):
            has, value = get_ci(attr, key)
            if has and value not in allowed:
                problems.append(f"{path}.{key} is {value!r}; expected one of {', '.join(allowed)}")
    _raise_some(problems, "attribute definition problem(s)")
    ctx.passed(f"{count} attribute definitions, each with its characteristics")


@check(
    "discovery.schemas.names-and-descriptions",
    "Schemas and attribute definitions at /Schemas carry a name and a description",
    requirements=["7643-7-04", "7643-7-06", "7643-7-09", "7643-7-05", "7643-7-07"],
    level="MAY",
)
def schemas_names_and_descriptions(ctx):
    """Each schema gives its human-readable name (User, Group...) and a description, and each
    attribute definition a description. The RFC asks for them "wherever applicable" and in the same
    breath lets a schema leave name and description out, so a missing one only warns; one given as
    something other than a string is reported the same way."""
    problems: list[str] = []
    count = 0
    for i, entry in enumerate(_schemas(ctx)):
        for key in ("name", "description"):
            has, value = get_ci(entry, key)
            if not has or not isinstance(value, str) or not value.strip():
                problems.append(f"{_schema_label(entry, i)} has {key} {describe(value) if has else 'missing'}")
    for path, attr in _all_attributes(ctx):
        if not isinstance(attr, dict):
            continue
        count += 1
        has, value = get_ci(attr, "description")
        if not has or not isinstance(value, str) or not value.strip():
            problems.append(f"{path} has description {describe(value) if has else 'missing'}")
    _raise_some(problems, "schema(s) or attribute definition(s) without a name or description")
    ctx.passed(f"every schema has a name and a description; so do its {count} attribute definitions")


@check(
    "discovery.schemas.complex-sub-attributes",
    "Complex attributes at /Schemas list their sub-attributes",
    requirements=["7643-7-08"],
    level="SHOULD",
)
def schemas_complex_sub_attributes(ctx):
    """An attribute of type complex should come with a non-empty ``subAttributes`` list, so that a
    client knows what the complex value holds."""
    problems = []
    count = 0
    for path, attr in _all_attributes(ctx):
        if not isinstance(attr, dict) or str(get_ci(attr, "type")[1]).lower() != "complex":
            continue
        count += 1
        subs = get_ci(attr, "subAttributes")[1]
        if not isinstance(subs, list) or not subs:
            problems.append(f"{path} is complex but lists no subAttributes (has {describe(subs)})")
    if not count:
        raise NotApplicable("/Schemas defines no complex attribute")
    _raise_some(problems, "complex attribute(s) without sub-attributes")
    ctx.passed(f"{count} complex attribute(s), each listing its sub-attributes")


@check(
    "discovery.schemas.single",
    "GET /Schemas/{schema URI} returns that schema on its own",
    requirements=["7643-7-02"],
    level="MUST",
    per_resource_type=True,
)
def schemas_single(ctx, rt):
    """The core schema of the resource type, read by appending its URI to /Schemas, comes back as a
    single Schema object (not a ListResponse) whose ``id`` is that URI."""
    listed = {e["id"] for e in _schemas(ctx) if isinstance(e.get("id"), str)}
    reply = ctx.http.get(f"Schemas/{rt.schema}")
    if reply.status == 404 and rt.schema not in listed:
        raise NotApplicable(f"{rt.schema} is not listed at /Schemas either; see discovery.resource-types.schema-known")
    expect(reply.status == 200, f"GET /Schemas/{rt.schema} answered {reply.status}, expected 200 with the schema "
                                "that /Schemas lists under that id")
    body = reply.json_object()
    expect(LIST_URN not in (body.get("schemas") or []) and "Resources" not in body,
           f"GET /Schemas/{rt.schema} answered a ListResponse; a single schema is returned as one object")
    sid = get_ci(body, "id")[1]
    expect(sid == rt.schema, f"GET /Schemas/{rt.schema} returned a schema whose id is {sid!r}")
    attrs = get_ci(body, "attributes")[1]
    expect(isinstance(attrs, list) and attrs, f"GET /Schemas/{rt.schema} returned no attribute definitions")
    ctx.passed(f"/Schemas/{rt.schema} returns that schema ({len(attrs)} attributes)")
