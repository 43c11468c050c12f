"""Fixtures shared by the project's own tests: real SCIM servers on 127.0.0.1, started and stopped here."""

from __future__ import annotations

import pytest

from conformance.embedded import EmbeddedTarget
from tests.targets import device_resource_types, device_schemas


@pytest.fixture(scope="session")
def embedded_target():
    """The clean embedded scim2-server (User, Group, enterprise extension)."""
    with EmbeddedTarget() as target:
        yield target


@pytest.fixture(scope="session")
def device_target():
    """scim2-server that also declares a resource type of its own: Device at /Devices."""
    with EmbeddedTarget(schemas=device_schemas(), resource_types=device_resource_types()) as target:
        yield target
