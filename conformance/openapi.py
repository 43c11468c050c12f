"""An OpenAPI 3.1 document derived from what a SCIM server says about itself (/ResourceTypes, /Schemas).

SCIM servers publish no OpenAPI document, so API fuzzers cannot reach them; but RFC 7643 §6-7 make a
server describe its endpoints and the attributes of its resources. This module turns that description
into OpenAPI, for schemathesis (conformance/fuzz.py) and for anyone who wants to point another tool at
the target (``scim-conformance fuzz --openapi FILE`` writes it).

Per resource type it declares every method of RFC 7644 §3: GET and POST on the collection, POST on
``/.search``, GET, PUT, PATCH and DELETE on ``/{id}``. Request bodies come from the schema's writable
attributes (with the required ones required); response bodies from every attribute, typed but lenient
(null allowed, unknown attributes allowed), because RFC 7643 §2.5 lets a server leave attributes out and
treats null as unassigned. Every operation declares the statuses RFC 7644 §3.12 (Table 8) allows for it,
plus 415 (an unsupported media type), 429/503 (overload) and the redirects, each with the SCIM Error body,
so that an allowed answer is never a finding.
"""

from __future__ import annotations

from typing import Any

from .discovery import ERROR_URN, LIST_URN, PATCH_URN, Attribute, Discovery, ResourceType

SEARCH_URN = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
SCIM_JSON = "application/scim+json"
JSON_TYPES = {
    "string": "string",
    "boolean": "boolean",
    "integer": "integer",
    "decimal": "number",
    "dateTime": "string",
    "reference": "string",
    "binary": "string",
}
# RFC 7644 §3.12 Table 8, per kind of operation (what the RFC allows each to answer besides success).
COMMON_ERRORS = ("307", "308", "400", "401", "403", "413", "415", "429", "500", "501", "503")
OPERATION_ERRORS = {
    "list": ("404",),
    "create": ("409",),
    "search": ("404", "405"),
    "get": ("304", "404"),
    "replace": ("404", "409", "412"),
    "patch": ("404", "409", "412"),
    "delete": ("404", "409", "412"),
}
WRITABLE = ("readWrite", "immutable", "writeOnly")


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    t = schema.get("type")
    if isinstance(t, str):
        return {**schema, "type": [t, "null"]}
    return schema


def attribute_schema(attr: Attribute, *, request: bool) -> dict[str, Any]:
    """The JSON Schema of one SCIM attribute, as a request sends it or a response returns it."""
    if attr.type == "complex":
        subs = [s for s in attr.sub_attributes if not request or s.mutability in WRITABLE]
        item: dict[str, Any] = {
            "type": "object",
            "properties": {s.name: attribute_schema(s, request=request) for s in subs},
        }
        if request:
            item["additionalProperties"] = False
            req = [s.name for s in subs if s.required]
            if req:
                item["required"] = req
    else:
        item = {"type": JSON_TYPES.get(attr.type, "string")}
        if request and attr.type == "dateTime":
            item["format"] = "date-time"
        if request and attr.canonical_values and attr.type == "string":
            item["enum"] = [str(v) for v in attr.canonical_values]
    if not request:
        item = _nullable(item)
    if attr.multi_valued:
        arr: dict[str, Any] = {"type": "array", "items": item}
        if request:
            arr["maxItems"] = 3
        return arr if request else _nullable(arr)
    return item


def resource_schema(discovery: Discovery, rt: ResourceType, *, request: bool) -> dict[str, Any]:
    """The JSON Schema of a resource of ``rt``: core attributes plus one object per schema extension."""
    core = discovery.schemas.get(rt.schema)
    props: dict[str, Any] = {}
    required: list[str] = ["schemas"]
    urns = [rt.schema] + [e.schema for e in rt.extensions]
    if request:
        props["schemas"] = {
            "type": "array",
            "items": {"enum": urns},
            "minItems": 1,
            "uniqueItems": True,
            "contains": {"const": rt.schema},
        }
    else:
        props["schemas"] = {"type": "array", "items": {"type": "string"}, "minItems": 1}
        props["id"] = {"type": "string"}
        props["meta"] = {"type": ["object", "null"]}
        required.append("id")
    for attr in core.attributes if core else []:
        if attr.name.lower() in ("id", "schemas", "meta"):
            continue
        if request and attr.mutability not in WRITABLE:
            continue
        props[attr.name] = attribute_schema(attr, request=request)
        if request and attr.required:
            required.append(attr.name)
    for ext in rt.extensions:
        ext_schema = discovery.schemas.get(ext.schema)
        attrs = [a for a in (ext_schema.attributes if ext_schema else []) if not request or a.mutability in WRITABLE]
        body: dict[str, Any] = {
            "type": "object",
            "properties": {a.name: attribute_schema(a, request=request) for a in attrs},
        }
        if request:
            body["additionalProperties"] = False
            if ext.required:
                required.append(ext.schema)
        else:
            body = _nullable(body)
        props[ext.schema] = body
    out: dict[str, Any] = {"type": "object", "properties": props, "required": required}
    if request:
        out["additionalProperties"] = False
    return out


def error_schema() -> dict[str, Any]:
    """RFC 7644 §3.12: the SCIM Error body (status is a string)."""
    return {
        "type": "object",
        "required": ["schemas", "status"],
        "properties": {
            "schemas": {"type": "array", "items": {"type": "string"}, "contains": {"const": ERROR_URN}},
            "status": {"type": "string"},
            "scimType": {"type": ["string", "null"]},
            "detail": {"type": ["string", "null"]},
        },
    }


def list_schema(resource_ref: str) -> dict[str, Any]:
    """RFC 7644 §3.4.2: a ListResponse of resources."""
    return {
        "type": "object",
        "required": ["schemas", "totalResults"],
        "properties": {
            "schemas": {"type": "array", "items": {"type": "string"}, "contains": {"const": LIST_URN}},
            "totalResults": {"type": "integer", "minimum": 0},
            "startIndex": {"type": "integer"},
            "itemsPerPage": {"type": "integer", "minimum": 0},
            "Resources": {"type": "array", "items": {"$ref": resource_ref}},
        },
    }


def patch_schema() -> dict[str, Any]:
    """RFC 7644 §3.5.2: a PatchOp request."""
    return {
        "type": "object",
        "required": ["schemas", "Operations"],
        "additionalProperties": False,
        "properties": {
            "schemas": {"type": "array", "items": {"const": PATCH_URN}, "minItems": 1, "maxItems": 1},
            "Operations": {
                "type": "array",
                "minItems": 1,
                "maxItems": 3,
                "items": {
                    "type": "object",
                    "required": ["op"],
                    "additionalProperties": False,
                    "properties": {
                        "op": {"enum": ["add", "replace", "remove"]},
                        "path": {"type": "string"},
                        "value": {},
                    },
                },
            },
        },
    }


def search_schema() -> dict[str, Any]:
    """RFC 7644 §3.4.3: a SearchRequest (the fuzzer replaces ``filter`` by one bounded to its own data)."""
    return {
        "type": "object",
        "required": ["schemas"],
        "additionalProperties": False,
        "properties": {
            "schemas": {"type": "array", "items": {"const": SEARCH_URN}, "minItems": 1, "maxItems": 1},
            "filter": {"type": "string"},
            "attributes": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
            "excludedAttributes": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
            "sortBy": {"type": "string"},
            "sortOrder": {"enum": ["ascending", "descending"]},
            "startIndex": {"type": "integer", "minimum": 1},
            "count": {"type": "integer", "minimum": 0, "maximum": 50},
        },
    }


LIST_PARAMETERS = [
    ("filter", {"type": "string"}),
    ("startIndex", {"type": "integer", "minimum": 1}),
    ("count", {"type": "integer", "minimum": 0, "maximum": 50}),
    ("sortBy", {"type": "string"}),
    ("sortOrder", {"enum": ["ascending", "descending"]}),
    ("attributes", {"type": "string"}),
    ("excludedAttributes", {"type": "string"}),
]
PROJECTION_PARAMETERS = LIST_PARAMETERS[-2:]


def _responses(kind: str, success: dict[str, dict[str, Any] | None]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for status, schema in success.items():
        if schema is None:
            out[status] = {"description": "no body"}
        else:
            out[status] = {
                "description": "success",
                "content": {SCIM_JSON: {"schema": schema}, "application/json": {"schema": schema}},
            }
    err = {"$ref": "#/components/schemas/Error"}
    for status in sorted({*COMMON_ERRORS, *OPERATION_ERRORS[kind]}):
        if status == "304":
            out[status] = {"description": "not modified"}
            continue
        out[status] = {
            "description": "error (RFC 7644 §3.12)",
            "content": {SCIM_JSON: {"schema": err}, "application/json": {"schema": err}},
        }
    return out


def _query(params: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [{"name": n, "in": "query", "required": False, "schema": s} for n, s in params]


def _body(ref: str) -> dict[str, Any]:
    return {"required": True, "content": {SCIM_JSON: {"schema": {"$ref": ref}}}}


def derive(discovery: Discovery, base_url: str = "/") -> dict[str, Any]:
    """The OpenAPI 3.1 document of the target's resource endpoints (and its discovery endpoints)."""
    components: dict[str, Any] = {"Error": error_schema(), "PatchOp": patch_schema(), "SearchRequest": search_schema()}
    paths: dict[str, Any] = {}
    id_param = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}]
    for rt in discovery.resource_types:
        name = "".join(c for c in rt.name if c.isalnum()) or "Resource"
        components[name] = resource_schema(discovery, rt, request=False)
        components[f"{name}Request"] = resource_schema(discovery, rt, request=True)
        components[f"{name}List"] = list_schema(f"#/components/schemas/{name}")
        ref, req_ref, list_ref = (f"#/components/schemas/{n}" for n in (name, f"{name}Request", f"{name}List"))
        base = "/" + rt.path
        paths[base] = {
            "get": {
                "operationId": f"list{name}",
                "parameters": _query(LIST_PARAMETERS),
                "responses": _responses("list", {"200": {"$ref": list_ref}}),
            },
            "post": {
                "operationId": f"create{name}",
                "requestBody": _body(req_ref),
                "parameters": _query(PROJECTION_PARAMETERS),
                "responses": _responses("create", {"201": {"$ref": ref}}),
            },
        }
        paths[base + "/.search"] = {
            "post": {
                "operationId": f"search{name}",
                "requestBody": _body("#/components/schemas/SearchRequest"),
                "responses": _responses("search", {"200": {"$ref": list_ref}}),
            },
        }
        paths[base + "/{id}"] = {
            "parameters": id_param,
            "get": {
                "operationId": f"get{name}",
                "parameters": _query(PROJECTION_PARAMETERS),
                "responses": _responses("get", {"200": {"$ref": ref}}),
            },
            "put": {
                "operationId": f"replace{name}",
                "requestBody": _body(req_ref),
                "responses": _responses("replace", {"200": {"$ref": ref}}),
            },
            "patch": {
                "operationId": f"patch{name}",
                "requestBody": _body("#/components/schemas/PatchOp"),
                "responses": _responses("patch", {"200": {"$ref": ref}, "204": None}),
            },
            "delete": {"operationId": f"delete{name}", "responses": _responses("delete", {"204": None, "200": None})},
        }
    return {
        "openapi": "3.1.0",
        "info": {"title": "SCIM service provider (derived from /ResourceTypes and /Schemas)", "version": "2.0"},
        "servers": [{"url": base_url}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
