"""RFC 7643 §3 — resources: the "schemas" attribute, extension containers, and the core resources'
JSON Schemas (schemas/user.schema.json, group.schema.json, enterprise-user.schema.json).

Like the §2 attribute checks, these grade the run's shared sample as the POST answered it and as a
GET answers now; what is allowed comes from the target's own /ResourceTypes and /Schemas.
"""

from __future__ import annotations

from typing import Any

from .. import jsonschemas
from ..discovery import ENTERPRISE_URN, GROUP_URN, USER_URN, ResourceType
from ..registry import check
from ..support import SHOWN, show
from ..verdicts import NotApplicable, Violation
from .rfc7643_s2_attributes import COMMON_LOWER, representations


def _schemas_of(label: str, body: dict[str, Any]) -> list[Any]:
    value = body.get("schemas")
    if not isinstance(value, list):
        raise Violation(f"{label}: schemas is {show(value)}; a resource carries a schemas array")
    return value


def _allowed(rt: ResourceType) -> dict[str, str]:
    return {u.lower(): u for u in [rt.schema, *(e.schema for e in rt.extensions)]}


@check(
    "resources.schemas-core-urn",
    "The schemas of a resource name its resource type's core schema",
    requirements=["7643-3.3-02", "7643-3-02"],
    level="MUST",
    per_resource_type=True,
)
def schemas_core_urn(ctx, rt):
    """The returned sample carries a schemas array that includes the base schema URN the
    resource type declares in /ResourceTypes (e.g. urn:ietf:params:scim:schemas:core:2.0:User)."""
    for label, body in representations(ctx, rt):
        schemas = _schemas_of(label, body)
        if not any(isinstance(s, str) and s.lower() == rt.schema.lower() for s in schemas):
            raise Violation(f"{label}: schemas is {show(schemas)}; it must include {rt.schema}")
    ctx.passed(f"schemas includes {rt.schema}")


@check(
    "resources.schemas-declared-only",
    "The schemas of a resource hold only its type's schema and declared extensions",
    requirements=["7643-3-04"],
    level="MUST",
    per_resource_type=True,
)
def schemas_declared_only(ctx, rt):
    """Every URN in the returned sample's schemas array is the resource type's schema or one of
    the schemaExtensions /ResourceTypes declares for it."""
    allowed = _allowed(rt)
    for label, body in representations(ctx, rt):
        strays = [s for s in _schemas_of(label, body) if not (isinstance(s, str) and s.lower() in allowed)]
        if strays:
            raise Violation(
                f"{label}: schemas holds {show(strays)}, which /ResourceTypes does not declare for {rt.name} "
                f"(allowed: {', '.join(allowed.values())})"
            )
    ctx.passed("schemas holds only declared URNs")


@check(
    "resources.schemas-no-duplicates",
    "The schemas of a resource hold no URN twice",
    requirements=["7643-3-05"],
    level="MUST",
    per_resource_type=True,
)
def schemas_no_duplicates(ctx, rt):
    """No URN appears twice in the returned sample's schemas array (compared case-insensitively)."""
    for label, body in representations(ctx, rt):
        seen: set[str] = set()
        for urn in _schemas_of(label, body):
            key = urn.lower() if isinstance(urn, str) else repr(urn)
            if key in seen:
                raise Violation(f"{label}: schemas lists {urn} more than once: {show(body['schemas'])}")
            seen.add(key)
    ctx.passed("no duplicate in schemas")


@check(
    "resources.extension-container",
    "Extension attributes sit in a container named by the extension URN",
    requirements=["7643-3.3-05"],
    level="MUST",
    per_resource_type=True,
)
def extension_container(ctx, rt):
    """The sample is created with the extension data the suite sends (the enterprise extension
    for a User); the returned resource holds it in a JSON object keyed by the extension URN, and
    no attribute that only an extension schema defines appears at the top level."""
    if not rt.extensions:
        raise NotApplicable(f"/ResourceTypes declares no schema extension for {rt.name}")
    sample = ctx.sample(rt)
    core = ctx.discovery.schema_of(rt)
    sent = {k: v for k, v in sample.sent.items() if k.lower() in _allowed(rt) and k.lower() != rt.schema.lower()}
    ext_only: dict[str, str] = {}
    for ext in rt.extensions:
        schema = ctx.discovery.schemas.get(ext.schema)
        for attr in schema.attributes if schema else []:
            if (core is None or core.attribute(attr.name) is None) and attr.name.lower() not in COMMON_LOWER:
                ext_only.setdefault(attr.name.lower(), ext.schema)
    graded = 0
    for label, body in representations(ctx, rt):
        flat = [k for k in body if k.lower() in ext_only]
        if flat:
            raise Violation(
                f"{label}: {', '.join(flat)} sit at the top level; they belong to "
                f"{ext_only[flat[0].lower()]} and go inside a container named by that URN"
            )
        for urn in sent:
            returned = next((v for k, v in body.items() if k.lower() == urn.lower()), None)
            if returned is None:
                continue
            if not isinstance(returned, dict):
                raise Violation(f"{label}: {urn} is {show(returned)}; an extension container is a JSON object")
            graded += 1
    if not sent:
        raise NotApplicable(f"the suite sent no extension data for {rt.name}; only the top level was checked")
    if not graded:
        raise NotApplicable(
            f"the target returned none of the extension data sent ({', '.join(sent)}); nothing to grade"
        )
    ctx.passed(f"extension data returned under {', '.join(sent)}; no extension attribute at the top level")


def _json_schema(ctx, rt: ResourceType, names: list[str]) -> int:
    problems: list[str] = []
    views = representations(ctx, rt)
    for label, body in views:
        for name in names:
            problems.extend(f"{label}: {p}" for p in jsonschemas.problems(name, body))
    if problems:
        more = f" (and {len(problems) - SHOWN} more)" if len(problems) > SHOWN else ""
        raise Violation("; ".join(problems[:SHOWN]) + more)
    return len(views)


@check(
    "resources.core-json-schema",
    "Returned Users and Groups match the RFC 7643 core schema",
    requirements=["7643-3-02", "7643-3.3-02", "7643-4.1.1-01", "7643-4.2-01", "7643-2.4-03"],
    level="MUST",
    per_resource_type=True,
    resource_types=[USER_URN, GROUP_URN],
)
def core_json_schema(ctx, rt):
    """The returned sample validates against the suite's JSON Schema for the core resource
    (schemas/user.schema.json or group.schema.json): schemas, a non-empty id, the required naming
    attribute, and the JSON types of the core attributes."""
    name = "user" if rt.schema == USER_URN else "group"
    count = _json_schema(ctx, rt, [name])
    ctx.passed(f"{count} representations valid against {name}.schema.json")


@check(
    "resources.enterprise-json-schema",
    "The enterprise extension container of a returned User matches RFC 7643 §4.3",
    requirements=["7643-3.3-05"],
    level="MUST",
    per_resource_type=True,
    resource_types=[USER_URN],
)
def enterprise_json_schema(ctx, rt):
    """When the User resource type declares the enterprise extension, the returned sample's
    enterprise container validates against schemas/enterprise-user.schema.json (an object whose
    attributes have the types of RFC 7643 §4.3)."""
    if not any(e.schema == ENTERPRISE_URN for e in rt.extensions):
        raise NotApplicable(f"/ResourceTypes declares no enterprise extension for {rt.name}")
    count = _json_schema(ctx, rt, ["enterprise-user"])
    ctx.passed(f"{count} representations valid against enterprise-user.schema.json")
