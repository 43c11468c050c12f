"""RFC 7643 §4.1 — the User resource: its password is never given back, in any form, anywhere.

attributes.returned-never (RFC 7643 §2) grades the password attribute in the create answer and a
GET; these checks add the cleartext value showing up under any name, and query results.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ..discovery import PATCH_URN, USER_URN, ResourceType
from ..registry import check
from ..support import field, said
from ..verdicts import NotApplicable, Violation


def _password_payload(ctx, rt: ResourceType) -> tuple[dict[str, Any], str]:
    attr = ctx.discovery.attribute(rt, "password")
    if attr is None or attr.mutability not in ("writeOnly", "readWrite"):
        raise NotApplicable(f"the {rt.name} schema declares no password the client can set")
    body = ctx.payload(rt, with_password=True)
    password = field(body, "password")
    if not isinstance(password, str) or not password:
        raise NotApplicable("the suite's User payload holds no password for this schema")
    return body, password


def _password_fields(value: Any, path: str = "") -> Iterator[str]:
    """Paths of every non-empty member named password, at any depth."""
    if isinstance(value, dict):
        for key, sub in value.items():
            where = f"{path}.{key}" if path else key
            if key.lower() == "password" and sub not in (None, "", [], {}):
                yield where
            yield from _password_fields(sub, where)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _password_fields(item, f"{path}[{i}]")


@check(
    "user.password.value-not-echoed",
    "The cleartext password appears nowhere in a response",
    requirements=["7643-4.1.1-11"],
    level="MUST",
    per_resource_type=True,
    resource_types=[USER_URN],
)
def value_not_echoed(ctx, rt):
    """A User is created with a password; neither the create answer nor a GET of the User holds
    that cleartext value anywhere: not as password, nor under any other name or header."""
    body, password = _password_payload(ctx, rt)
    created = ctx.created_ok(rt, body)
    reply = ctx.http.get(created.path)
    answers = ((f"the POST {rt.endpoint} answer", created.reply), (f"GET {rt.endpoint}/{created.id}", reply))
    for label, answer in answers:
        text = answer.text + "\n" + "\n".join(f"{k}: {v}" for k, v in answer.headers.items())
        if password in text or json.dumps(password)[1:-1] in text:
            raise Violation(f"{label} contains the cleartext password the client set")
    ctx.passed("the password set on create is in neither the create answer nor a GET")


@check(
    "user.password.not-in-list",
    "Query results never return a User's password",
    requirements=["7643-4.1.1-17", "7643-4.1.1-11", "7643-7-22"],
    level="MUST",
    per_resource_type=True,
    resource_types=[USER_URN],
    needs=("filter",),
)
def not_in_list(ctx, rt):
    """A User created with a password is found with a filter on its userName; the ListResponse
    holds neither a password member nor the cleartext value."""
    body, password = _password_payload(ctx, rt)
    created = ctx.created_ok(rt, body)
    user_name = field(body, "userName")
    params = {"filter": f"userName eq {json.dumps(user_name)}"}
    reply = ctx.http.get(rt.path, params=params)
    asked = f"GET {rt.endpoint}?filter={params['filter']}"
    listed = reply.maybe_json()
    resources = field(listed, "Resources") if reply.status == 200 else None
    if not isinstance(resources, list) or not any(field(r, "id") == created.id for r in resources):
        raise NotApplicable(f"precondition: {asked} (answered {reply.status}) does not list the new User")
    found = list(_password_fields(listed))
    if found:
        raise Violation(f"{asked} returns {', '.join(found[:3])}; a password is never returned")
    if password in reply.text:
        raise Violation(f"{asked} contains the cleartext password the client set")
    ctx.passed(f"the User is listed without its password ({len(resources)} result(s))")


@check(
    "user.password.changeable",
    "A writeOnly password can be changed after creation",
    requirements=["7643-7-21"],
    level="MAY",
    per_resource_type=True,
    resource_types=[USER_URN],
    needs=("changePassword",),
)
def password_changeable(ctx, rt):
    """When /ServiceProviderConfig says changePassword is supported, a User created with a password
    can be given a new one later (writeOnly attributes may be set at any time): a PATCH replace of
    password (a PUT when PATCH is not advertised) succeeds. The new password is never read back; the
    returned-never checks grade that."""
    body, _ = _password_payload(ctx, rt)
    created = ctx.created_ok(rt, body)
    new = ctx.payload(rt, with_password=True).get("password")
    if ctx.discovery.supports("patch"):
        how = "PATCH replace of password"
        reply = ctx.http.patch(created.path, {"schemas": [PATCH_URN],
                                              "Operations": [{"op": "replace", "path": "password", "value": new}]})
    else:
        how = "PUT with a new password"
        reply = ctx.http.put(created.path, {**created.sent, "id": created.id, "password": new})
    if 200 <= reply.status < 300:
        ctx.passed(f"{how} answered {reply.status}")
        return
    raise Violation(f"changePassword is advertised, but a {how} answered {said(reply)}")
