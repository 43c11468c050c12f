"""Capability discovery: /ServiceProviderConfig, /ResourceTypes and /Schemas, read once per run.

The parsed form drives everything else: which resource types the resource checks run on, which
attributes a payload holds, which features (patch, bulk, filter, sort, etag, changePassword)
are advertised. The raw replies are kept, so that discovery checks can grade them without
asking the target again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .http import Reply, ScimHttp
from .verdicts import ExchangeError

SPC_URN = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RT_URN = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA_URN = "urn:ietf:params:scim:schemas:core:2.0:Schema"
LIST_URN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

FEATURES = ("patch", "bulk", "filter", "changePassword", "sort", "etag")


@dataclass
class Attribute:
    """One attribute definition of a schema (RFC 7643 §7), names kept as the target spells them."""

    name: str
    type: str = "string"
    multi_valued: bool = False
    required: bool = False
    case_exact: bool = False
    mutability: str = "readWrite"
    returned: str = "default"
    uniqueness: str = "none"
    canonical_values: list[Any] = field(default_factory=list)
    reference_types: list[str] = field(default_factory=list)
    sub_attributes: list[Attribute] = field(default_factory=list)

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Attribute:
        return cls(
            name=str(raw.get("name", "")),
            type=str(raw.get("type", "string")),
            multi_valued=bool(raw.get("multiValued", False)),
            required=bool(raw.get("required", False)),
            case_exact=bool(raw.get("caseExact", False)),
            mutability=str(raw.get("mutability", "readWrite")),
            returned=str(raw.get("returned", "default")),
            uniqueness=str(raw.get("uniqueness", "none")),
            canonical_values=list(raw.get("canonicalValues") or []),
            reference_types=list(raw.get("referenceTypes") or []),
            sub_attributes=[cls.parse(s) for s in raw.get("subAttributes") or [] if isinstance(s, dict)],
        )

    def sub(self, name: str) -> Attribute | None:
        return _find(self.sub_attributes, name)


@dataclass
class Schema:
    id: str
    name: str
    attributes: list[Attribute]

    def attribute(self, name: str) -> Attribute | None:
        return _find(self.attributes, name)


@dataclass
class Extension:
    schema: str
    required: bool


@dataclass
class ResourceType:
    id: str
    name: str
    endpoint: str
    schema: str
    extensions: list[Extension] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> str:
        """The endpoint relative to the base URL, without a leading slash."""
        return self.endpoint.strip("/")


def _find(attributes: list[Attribute], name: str) -> Attribute | None:
    lowered = name.lower()
    return next((a for a in attributes if a.name.lower() == lowered), None)


@dataclass
class Discovery:
    """What the target says about itself."""

    spc_reply: Reply | None = None
    rt_reply: Reply | None = None
    schemas_reply: Reply | None = None
    spc: dict[str, Any] = field(default_factory=dict)
    resource_types: list[ResourceType] = field(default_factory=list)
    schemas: dict[str, Schema] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def supports(self, feature: str) -> bool:
        value = self.spc.get(feature)
        return isinstance(value, dict) and value.get("supported") is True

    def resource_type(self, name: str) -> ResourceType | None:
        return next((rt for rt in self.resource_types if rt.name == name or rt.id == name), None)

    def schema_of(self, rt: ResourceType) -> Schema | None:
        return self.schemas.get(rt.schema)

    def attribute(self, rt: ResourceType, path: str) -> Attribute | None:
        """Find ``name`` or ``name.sub`` in the core schema of ``rt`` (extensions by full URN prefix)."""
        schema_id = rt.schema
        for ext in rt.extensions:
            if path.lower().startswith(ext.schema.lower() + ":"):
                schema_id, path = ext.schema, path[len(ext.schema) + 1 :]
        schema = self.schemas.get(schema_id)
        if schema is None:
            return None
        head, _, tail = path.partition(".")
        attr = schema.attribute(head)
        if attr is not None and tail:
            return attr.sub(tail)
        return attr

    def summary(self) -> dict[str, Any]:
        return {
            "features": {f: self.supports(f) for f in FEATURES},
            "resource_types": [
                {"name": rt.name, "endpoint": rt.endpoint, "schema": rt.schema,
                 "extensions": [e.schema for e in rt.extensions]}
                for rt in self.resource_types
            ],
            "schemas": sorted(self.schemas),
            "problems": list(self.problems),
        }


def list_resources(body: Any) -> list[dict[str, Any]]:
    """The ``Resources`` of a ListResponse (or of a plain JSON list some servers send)."""
    if isinstance(body, list):
        return [r for r in body if isinstance(r, dict)]
    if isinstance(body, dict):
        return [r for r in body.get("Resources") or [] if isinstance(r, dict)]
    return []


def discover(http: ScimHttp) -> Discovery:
    """Read the three discovery endpoints. Problems are noted, never raised: checks grade them."""
    found = Discovery()
    try:
        found.spc_reply = http.get("ServiceProviderConfig")
        body = found.spc_reply.maybe_json()
        if found.spc_reply.status == 200 and isinstance(body, dict):
            found.spc = body
        else:
            found.problems.append(f"/ServiceProviderConfig answered {found.spc_reply.status}")
    except ExchangeError as exc:
        found.problems.append(exc.message)

    try:
        found.schemas_reply = http.get("Schemas")
        if found.schemas_reply.status == 200:
            for raw in list_resources(found.schemas_reply.maybe_json()):
                if raw.get("id"):
                    found.schemas[str(raw["id"])] = Schema(
                        id=str(raw["id"]),
                        name=str(raw.get("name", "")),
                        attributes=[Attribute.parse(a) for a in raw.get("attributes") or [] if isinstance(a, dict)],
                    )
        else:
            found.problems.append(f"/Schemas answered {found.schemas_reply.status}")
    except ExchangeError as exc:
        found.problems.append(exc.message)

    try:
        found.rt_reply = http.get("ResourceTypes")
        if found.rt_reply.status == 200:
            for raw in list_resources(found.rt_reply.maybe_json()):
                if not raw.get("endpoint") or not raw.get("schema"):
                    continue
                found.resource_types.append(
                    ResourceType(
                        id=str(raw.get("id") or raw.get("name")),
                        name=str(raw.get("name") or raw.get("id")),
                        endpoint=str(raw["endpoint"]),
                        schema=str(raw["schema"]),
                        extensions=[
                            Extension(str(e.get("schema")), bool(e.get("required", False)))
                            for e in raw.get("schemaExtensions") or []
                            if isinstance(e, dict) and e.get("schema")
                        ],
                        raw=raw,
                    )
                )
        else:
            found.problems.append(f"/ResourceTypes answered {found.rt_reply.status}")
    except ExchangeError as exc:
        found.problems.append(exc.message)
    return found
