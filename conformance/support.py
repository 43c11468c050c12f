"""Small helpers the check modules share: reading SCIM JSON the way the RFC defines it (attribute
names case-insensitive, xsd:dateTime, URIs), showing values in messages, and taking discovery
replies as evidence.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from typing import Any
from urllib.parse import urljoin

from .discovery import ERROR_URN, list_resources
from .http import Reply
from .verdicts import NotApplicable

SHOWN = 3  # problems quoted in one violation message

# -- reading SCIM JSON ---------------------------------------------------------------------------------


def get_ci(obj: Any, name: str) -> tuple[bool, Any]:
    """(present, value) of attribute ``name`` in ``obj``, the name matched case-insensitively (RFC 7643 §2.1)."""
    if not isinstance(obj, dict):
        return False, None
    if name in obj:
        return True, obj[name]
    lowered = name.lower()
    for key, value in obj.items():
        if isinstance(key, str) and key.lower() == lowered:
            return True, value
    return False, None


def field(obj: Any, name: str) -> Any:
    """``obj[name]`` with the attribute name matched case-insensitively; None when absent."""
    return get_ci(obj, name)[1]


def is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_DATETIME = re.compile(
    r"(-?\d{4,}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01]))"
    r"T((?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d|24:00:00)(\.\d+)?"
    r"(Z|[+-](?:0\d|1[0-3]):[0-5]\d|[+-]14:00)?"
)
_URI_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def is_datetime(value: Any) -> bool:
    """An xsd:dateTime with both a date and a time (RFC 7643 §2.3.5); the zone is optional."""
    return isinstance(value, str) and _DATETIME.fullmatch(value) is not None


def parse_datetime(value: Any) -> dt.datetime | None:
    """An xsd:dateTime string as an aware datetime (no zone: UTC); None when it is not one."""
    if not isinstance(value, str):
        return None
    found = _DATETIME.fullmatch(value.strip())
    if not found:
        return None
    date, time, fraction, zone = found.groups()
    fraction = (fraction or "")[:7]  # Python keeps microseconds
    zone = "+00:00" if zone in (None, "Z") else zone
    try:
        return dt.datetime.fromisoformat(f"{date}T{time}{fraction}{zone}")
    except ValueError:  # 24:00:00
        return None


def is_uri(value: Any) -> bool:
    return isinstance(value, str) and bool(_URI_CHARS.fullmatch(value)) and not _BAD_PERCENT.search(value)


def is_error(body: Any) -> bool:
    """A SCIM Error message (RFC 7644 §3.12)."""
    return isinstance(body, dict) and ERROR_URN in (field(body, "schemas") or [])


def resolve(reply: Reply, ref: str) -> str:
    """A URI from a header or body, made absolute against the URL that was asked."""
    return urljoin(reply.exchange.url, ref.strip())


def unknown_id() -> str:
    """An id no resource has: a fresh random UUID."""
    return str(uuid.uuid4())


# -- messages ------------------------------------------------------------------------------------------


def show(value: Any, width: int = 70) -> str:
    """A value as JSON, cut for a one-line message."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 3] + "..."


def said(reply: Reply) -> str:
    """The status of a reply and what its error body says (scimType, detail), for one-line messages."""
    body = reply.maybe_json()
    if not isinstance(body, dict):
        return f"{reply.status} ({reply.content_type or 'no Content-Type'}, no JSON object body)"
    parts = [f"{k}={body[k]!r}" for k in ("status", "scimType", "detail") if k in body]
    return f"{reply.status}" + (f" ({', '.join(parts)[:160]})" if parts else "")


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def describe(value: Any) -> str:
    return f"{value!r} (a JSON {json_type(value)})"


# -- discovery replies as evidence ---------------------------------------------------------------------


def discovery_object(ctx, reply: Reply | None, what: str) -> dict[str, Any]:
    """The JSON object of a discovery reply, attached as evidence; a reply that is missing or not a
    200 JSON object skips (the discovery.*.answers / list-response checks grade that)."""
    if reply is None:
        raise NotApplicable(f"precondition: GET {what} could not be made; see the discovery checks")
    ctx.attach(reply.exchange)
    body = reply.maybe_json()
    if reply.status != 200 or not isinstance(body, (dict, list)):
        raise NotApplicable(
            f"precondition: GET {what} answered {reply.status} without a JSON body; see the discovery checks"
        )
    return body if isinstance(body, dict) else {"Resources": body}


def discovery_entries(ctx, reply: Reply | None, what: str) -> list[dict[str, Any]]:
    """The entries (``Resources``) of a discovery list reply, attached as evidence."""
    return list_resources(discovery_object(ctx, reply, what))
