"""Resource payloads the suite creates, built from the target's own /Schemas.

Every payload carries the run id in its naming attribute (userName, displayName, ...), so that a
person or the ``cleanup`` command can tell the suite's data from anything else on the tenant.
Only attributes the target's schema declares are sent (for the RFC's core schemas a realistic
template is filtered by the schema; for any other schema the required attributes are generated).
"""

from __future__ import annotations

import secrets
from typing import Any

from .discovery import ENTERPRISE_URN, GROUP_URN, USER_URN, Attribute, Discovery, ResourceType

NAMING_ATTRIBUTES = ("userName", "displayName", "name")


def naming_attribute(discovery: Discovery, rt: ResourceType) -> str | None:
    """The attribute that names a resource of ``rt`` and so carries the run id."""
    schema = discovery.schema_of(rt)
    if rt.schema == USER_URN:
        return "userName"
    if rt.schema == GROUP_URN:
        return "displayName"
    if schema is None:
        return None
    for name in NAMING_ATTRIBUTES:
        attr = schema.attribute(name)
        if attr is not None and attr.type == "string" and not attr.multi_valued and _writable(attr):
            return attr.name
    for attr in schema.attributes:
        if attr.required and attr.type == "string" and not attr.multi_valued and _writable(attr):
            return attr.name
    return None


def _writable(attr: Attribute) -> bool:
    return attr.mutability in ("readWrite", "immutable", "writeOnly")


def _user_template(tag: str) -> dict[str, Any]:
    given, family = "Ada", f"Tester {tag[-6:]}"
    return {
        "userName": tag,
        "externalId": f"{tag}-ext",
        "name": {"givenName": given, "familyName": family, "formatted": f"{given} {family}"},
        "displayName": f"{given} {family}",
        "active": True,
        "emails": [{"value": f"{tag}@example.com", "type": "work", "primary": True}],
        "password": "Sc1m-" + secrets.token_urlsafe(12),
    }


def _group_template(tag: str) -> dict[str, Any]:
    return {"displayName": tag, "externalId": f"{tag}-ext"}


def _enterprise_template(tag: str) -> dict[str, Any]:
    return {"employeeNumber": tag[-6:], "department": "Conformance"}


def _generated(attr: Attribute, tag: str) -> Any:
    """A value of the attribute's declared type, for schemas the suite has no template for."""
    if attr.type == "complex":
        value: Any = {
            s.name: _generated(s, tag)
            for s in attr.sub_attributes
            if s.required and _writable(s)
        }
    elif attr.type == "boolean":
        value = True
    elif attr.type == "integer":
        value = 1
    elif attr.type == "decimal":
        value = 1.5
    elif attr.type == "dateTime":
        value = "2020-01-01T00:00:00Z"
    elif attr.type == "reference":
        value = "https://example.com/" + tag
    elif attr.type == "binary":
        value = "c2NpbQ=="
    elif attr.canonical_values:
        value = attr.canonical_values[0]
    else:
        value = tag
    return [value] if attr.multi_valued else value


def _filtered(template: dict[str, Any], discovery: Discovery, schema_id: str) -> dict[str, Any]:
    schema = discovery.schemas.get(schema_id)
    if schema is None:
        return template
    out: dict[str, Any] = {}
    for key, value in template.items():
        attr = schema.attribute(key)
        if attr is None or not _writable(attr):
            continue
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if attr.sub(k) is not None} or None
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            value = [{k: v for k, v in item.items() if attr.sub(k) is not None} for item in value]
        if value not in (None, [], {}):
            out[attr.name] = value
    return out


def build(discovery: Discovery, rt: ResourceType, tag: str, *, with_password: bool = False) -> dict[str, Any]:
    """A new resource of ``rt`` named ``tag``; secrets (password) only when asked for."""
    schema = discovery.schema_of(rt)
    if rt.schema == USER_URN:
        template = _user_template(tag)
        if not with_password:
            template.pop("password")
        body = _filtered(template, discovery, rt.schema)
    elif rt.schema == GROUP_URN:
        body = _filtered(_group_template(tag), discovery, rt.schema)
    else:
        body = {}
        naming = naming_attribute(discovery, rt)
        if naming:
            body[naming] = tag
        for attr in schema.attributes if schema else []:
            if attr.required and _writable(attr) and attr.name not in body and attr.name.lower() != "id":
                body[attr.name] = _generated(attr, tag)
    schemas = [rt.schema]
    for ext in rt.extensions:
        if ext.schema == ENTERPRISE_URN:
            ext_body = _filtered(_enterprise_template(tag), discovery, ext.schema)
        elif ext.required:
            ext_schema = discovery.schemas.get(ext.schema)
            ext_body = {
                a.name: _generated(a, tag)
                for a in (ext_schema.attributes if ext_schema else [])
                if a.required and _writable(a)
            }
        else:
            continue
        if ext_body or ext.required:
            body[ext.schema] = ext_body
            schemas.append(ext.schema)
    return {"schemas": schemas, **body}
