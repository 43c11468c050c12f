"""RFC 7643 §6 — the ResourceType resources served at /ResourceTypes: their required attributes,
the schemas they name, and a resource type read on its own.

The list is the one discovery read (``ctx.discovery.rt_reply``). Discovery keeps only entries with
an endpoint and a schema, so the check on required attributes reads the raw list itself.
"""

from __future__ import annotations

from typing import Any

from ..discovery import LIST_URN, ResourceType
from ..registry import check
from ..support import describe, discovery_entries, discovery_object, get_ci
from ..verdicts import NotApplicable, Violation, expect


def _label(entry: dict[str, Any], i: int) -> str:
    name = get_ci(entry, "name")[1] or get_ci(entry, "id")[1] or get_ci(entry, "endpoint")[1]
    return f"resource type {name!r}" if name else f"resource type #{i + 1}"


def _listed(ctx, rt: ResourceType) -> dict[str, Any]:
    """The raw /ResourceTypes entry of ``rt`` (attached as evidence); none: the check does not apply."""
    if not rt.raw:
        raise NotApplicable(f"{rt.name} is not declared by /ResourceTypes (the run falls back to /Users, /Groups)")
    discovery_object(ctx, ctx.discovery.rt_reply, "/ResourceTypes")
    return rt.raw


def _schema_ids(ctx) -> list[str]:
    ids = [e["id"] for e in discovery_entries(ctx, ctx.discovery.schemas_reply, "/Schemas")
           if isinstance(e.get("id"), str)]
    if not ids:
        raise NotApplicable("precondition: /Schemas lists no schema with an id; see discovery.schemas.id")
    return ids


def _schema_match(uri: Any, ids: list[str]) -> str | None:
    """The listed schema id equal to ``uri`` (exactly, else ignoring case), or None."""
    if not isinstance(uri, str):
        return None
    if uri in ids:
        return uri
    return next((i for i in ids if i.lower() == uri.lower()), None)


def _extensions(ctx, rt: ResourceType) -> list[Any]:
    raw = _listed(ctx, rt)
    present, exts = get_ci(raw, "schemaExtensions")
    if not present or exts in (None, []):
        raise NotApplicable(f"the {rt.name} resource type declares no schema extension")
    if not isinstance(exts, list):
        raise Violation(f"schemaExtensions is {describe(exts)}; expected a list of objects")
    return exts


@check(
    "discovery.resource-types.required-attributes",
    "Every resource type gives its name, endpoint and schema",
    requirements=["7643-6-04", "7643-6-07", "7643-6-09"],
    level="MUST",
)
def rt_required_attributes(ctx):
    """Each entry of /ResourceTypes carries ``name``, ``endpoint`` and ``schema`` as non-empty
    strings (``id`` and ``description`` are optional)."""
    entries = discovery_entries(ctx, ctx.discovery.rt_reply, "/ResourceTypes")
    expect(entries, "/ResourceTypes lists no resource type")
    problems = []
    for i, entry in enumerate(entries):
        for attr in ("name", "endpoint", "schema"):
            has, value = get_ci(entry, attr)
            if not has:
                problems.append(f"{_label(entry, i)} has no {attr}")
            elif not isinstance(value, str) or not value.strip():
                problems.append(f"{_label(entry, i)}: {attr} is {describe(value)}; expected a non-empty string")
    if problems:
        raise Violation("; ".join(problems))
    ctx.passed(f"{len(entries)} resource type(s), each with name, endpoint and schema")


@check(
    "discovery.resource-types.schema-known",
    "The resource type's schema is a schema listed at /Schemas",
    requirements=["7643-6-08"],
    level="MUST",
    per_resource_type=True,
)
def rt_schema_known(ctx, rt):
    """The ``schema`` of the resource type equals the ``id`` of one of the schemas /Schemas lists,
    so that a client can learn the resource's attributes."""
    _listed(ctx, rt)
    ids = _schema_ids(ctx)
    match = _schema_match(rt.schema, ids)
    expect(match, f"schema {rt.schema!r} is not the id of any schema at /Schemas (listed: {', '.join(ids)})")
    ctx.passed(f"{rt.schema} is listed at /Schemas" + ("" if match == rt.schema else f" (as {match})"))


@check(
    "discovery.resource-types.extension-schema-known",
    "Each schema extension of the resource type names a schema listed at /Schemas",
    requirements=["7643-6-11", "7643-6-12"],
    level="MUST",
    per_resource_type=True,
)
def rt_extension_schema_known(ctx, rt):
    """Every ``schemaExtensions`` entry gives a ``schema`` URI equal to the ``id`` of a schema that
    /Schemas lists."""
    exts = _extensions(ctx, rt)
    ids = _schema_ids(ctx)
    problems = []
    for i, ext in enumerate(exts):
        has, uri = get_ci(ext, "schema") if isinstance(ext, dict) else (False, None)
        if not has:
            problems.append(f"schemaExtensions[{i}] gives no schema")
        elif not _schema_match(uri, ids):
            problems.append(f"schemaExtensions[{i}].schema {uri!r} is not the id of any schema at /Schemas")
    if problems:
        raise Violation("; ".join(problems) + f" (listed: {', '.join(ids)})")
    ctx.passed(f"{len(exts)} extension(s), each listed at /Schemas")


@check(
    "discovery.resource-types.extension-required-flag",
    "Each schema extension of the resource type says whether it is required",
    requirements=["7643-6-15"],
    level="MUST",
    per_resource_type=True,
)
def rt_extension_required_flag(ctx, rt):
    """Every ``schemaExtensions`` entry carries ``required`` as a JSON boolean."""
    exts = _extensions(ctx, rt)
    problems = []
    for i, ext in enumerate(exts):
        has, flag = get_ci(ext, "required") if isinstance(ext, dict) else (False, None)
        if not has:
            problems.append(f"schemaExtensions[{i}] has no required flag")
        elif not isinstance(flag, bool):
            problems.append(f"schemaExtensions[{i}].required is {describe(flag)}; expected true or false")
    if problems:
        raise Violation("; ".join(problems))
    ctx.passed(", ".join(f"{get_ci(e, 'schema')[1]} required={get_ci(e, 'required')[1]}" for e in exts))


@check(
    "discovery.resource-types.single",
    "GET /ResourceTypes/{id} returns that resource type on its own",
    requirements=["7643-6-01"],
    level="MUST",
    per_resource_type=True,
)
def rt_single(ctx, rt):
    """The resource type read by its ``id`` comes back as a single ResourceType object (not a
    ListResponse) with the same name, endpoint and schema as in the /ResourceTypes list."""
    raw = _listed(ctx, rt)
    rid = get_ci(raw, "id")[1]
    if not isinstance(rid, str) or not rid:
        raise NotApplicable(f"the {rt.name} resource type has no id (optional), so it cannot be read on its own")
    reply = ctx.http.get(f"ResourceTypes/{rid}")
    expect(reply.status == 200, f"GET /ResourceTypes/{rid} answered {reply.status}, expected 200 with the "
                                "resource type that /ResourceTypes lists under that id")
    body = reply.json_object()
    expect(LIST_URN not in (body.get("schemas") or []) and "Resources" not in body,
           f"GET /ResourceTypes/{rid} answered a ListResponse; a single resource type is returned as one object")
    problems = []
    for attr in ("name", "endpoint", "schema"):
        has, listed = get_ci(raw, attr)
        got = get_ci(body, attr)[1]
        if has and got != listed:
            problems.append(f"{attr} is {got!r}, the list says {listed!r}")
    if problems:
        raise Violation(f"GET /ResourceTypes/{rid}: " + "; ".join(problems))
    ctx.passed(f"/ResourceTypes/{rid} returns {rt.name} ({rt.endpoint}, {rt.schema})")
