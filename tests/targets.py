"""Discovery documents for test targets that declare more than the RFC's User and Group."""

from __future__ import annotations

from typing import Any

from scim2_server.utils import load_default_resource_types, load_default_schemas

DEVICE_URN = "urn:example:scim:schemas:Device"


def _attr(name: str, type_: str = "string", **kw: Any) -> dict[str, Any]:
    return {
        "name": name, "type": type_, "multiValued": False, "required": False, "caseExact": False,
        "mutability": "readWrite", "returned": "default", "uniqueness": "none", "description": name, **kw,
    }


def device_schemas() -> list[dict[str, Any]]:
    device = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": DEVICE_URN,
        "name": "Device",
        "description": "A device enrolled by the suite's tests",
        "attributes": [
            _attr("displayName", required=True),
            _attr("serialNumber", caseExact=True, uniqueness="server"),
            _attr("enabled", "boolean"),
        ],
    }
    return [s.model_dump(mode="json") for s in load_default_schemas().values()] + [device]


def device_resource_types() -> list[dict[str, Any]]:
    device = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": "Device",
        "name": "Device",
        "endpoint": "/Devices",
        "description": "Devices",
        "schema": DEVICE_URN,
    }
    return [r.model_dump(mode="json") for r in load_default_resource_types().values()] + [device]
