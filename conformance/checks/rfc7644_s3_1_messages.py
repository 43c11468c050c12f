"""RFC 7644 §3.1 — SCIM messages: their schemas are fixed by the RFCs, so /Schemas does not list
them (only resource schemas are discoverable)."""

from __future__ import annotations

from ..registry import check
from ..support import discovery_entries, get_ci
from ..verdicts import NotApplicable, expect

MESSAGE_PREFIX = "urn:ietf:params:scim:api:"


@check(
    "discovery.schemas.no-message-schemas",
    "/Schemas lists no message schema (urn:ietf:params:scim:api:...)",
    requirements=["7644-3.1-03"],
    level="MUST",
)
def schemas_no_message_schemas(ctx):
    """The message schemas (ListResponse, PatchOp, Error, BulkRequest...) are defined by the RFCs
    and not discoverable: no entry of /Schemas has an id under urn:ietf:params:scim:api:."""
    entries = discovery_entries(ctx, ctx.discovery.schemas_reply, "/Schemas")
    ids = [get_ci(e, "id")[1] for e in entries]
    ids = [i for i in ids if isinstance(i, str)]
    if not ids:
        raise NotApplicable("precondition: /Schemas lists no schema with an id; see discovery.schemas.id")
    messages = [i for i in ids if i.lower().startswith(MESSAGE_PREFIX)]
    expect(not messages, f"/Schemas lists message schema(s) {', '.join(messages)}; only resource schemas "
                         "are discoverable")
    ctx.passed(f"{len(ids)} schema(s), none of them a message schema")
