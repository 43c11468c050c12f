"""Faults proving each replay step of the vendor profiles (profiles/*.toml) able to fail.

A profile fault runs only the replay steps of the profiles it names (``select=("profile.",)``): the RFC
checks are proven by their own faults. Steps that already fail on the clean embedded target (Entra's
group create with its ADSCIM schema, Entra's member removal by value list) fail under these faults too.
"""

from __future__ import annotations

import json
from typing import Any

from .faultkit import Forward, Request, Response, fault, on

ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"


def _profiles(*names: str) -> dict[str, Any]:
    return {"profiles": tuple(names), "select": ("profile.",)}


def _error(status: int, detail: str, scim_type: str | None = None) -> Response:
    body = {"schemas": [ERROR_URN], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return Response(status, [("Content-Type", "application/scim+json")], json.dumps(body).encode())


def _ops(req: Request) -> list[dict[str, Any]]:
    data = req.data
    ops = data.get("Operations") if isinstance(data, dict) else None
    return [o for o in ops if isinstance(o, dict)] if isinstance(ops, list) else []


def _is_list(req: Request) -> bool:
    return req.method == "GET" and req.endpoint in ("Users", "Groups") and not req.is_item


@fault("prof-empty-filter-404", proves=[
    "profile.entra.test-connection", "profile.entra-aadoptscim062020.test-connection",
    "profile.okta.spec-unknown-user-filter",
], collateral={"profile.entra.response-content-type": "its request is a lookup that matches nothing"},
   settings=_profiles("entra", "entra-aadoptscim062020", "okta"))
def _(req: Request, forward: Forward) -> Response:
    """A filter query that matches nothing answers 404 instead of 200 with an empty list (Entra quarantines)."""
    resp = forward(req)
    if _is_list(req) and "filter" in req.query and isinstance(resp.data, dict) and resp.data.get("totalResults") == 0:
        return _error(404, "no such user")
    return resp


@fault("prof-filter-finds-strangers", proves=[
    "profile.okta.lookup-not-found", "profile.onelogin.test-connection", "profile.okta.spec-unknown-user-filter",
], settings=_profiles("okta", "onelogin"))
def _(req: Request, forward: Forward) -> Response:
    """A filter that matches nothing answers a resource anyway (the filter is ignored)."""
    resp = forward(req)
    if _is_list(req) and "filter" in req.query and isinstance(resp.data, dict) and resp.data.get("totalResults") == 0:
        resp.data = {**resp.data, "totalResults": 1, "Resources": [{"id": "stranger", "userName": "someone-else"}]}
    return resp


@fault("prof-op-case-sensitive", proves=[
    "profile.entra.patch-replace-work-email", "profile.entra.patch-replace-family-name",
    "profile.entra.patch-add-title", "profile.entra.patch-remove-title", "profile.entra.disable-string-false",
    "profile.entra.group-add-member", "profile.entra.group-remove-member", "profile.entra.roles-add-json-string",
    "profile.entra.manager-add",
], settings=_profiles("entra"))
def _(req: Request, forward: Forward) -> Response:
    """PATCH op names are matched case-sensitively: "Add", "Replace", "Remove" are refused."""
    if req.method == "PATCH" and any(str(o.get("op", "")) != str(o.get("op", "")).lower() for o in _ops(req)):
        return _error(400, "unknown op", "invalidSyntax")
    return forward(req)


@fault("prof-string-boolean-rejected", proves=["profile.entra.disable-string-false"], settings=_profiles("entra"))
def _(req: Request, forward: Forward) -> Response:
    """"active": "False" (a string, as Entra sends it without the flag) is refused."""
    if req.method == "PATCH" and any(isinstance(o.get("value"), str) and str(o.get("path", "")).lower() == "active"
                                     for o in _ops(req)):
        return _error(400, "active must be a boolean", "invalidValue")
    return forward(req)


@fault("prof-active-patch-ignored", proves=[
    "profile.entra.disable-string-false", "profile.entra-aadoptscim062020.disable-boolean",
    "profile.jumpcloud.deactivate-fallback",
], settings=_profiles("entra", "entra-aadoptscim062020", "jumpcloud"))
def _(req: Request, forward: Forward) -> Response:
    """A PATCH of active (with a path) answers 204 but changes nothing."""
    if req.method == "PATCH" and any(str(o.get("path", "")).lower() == "active" for o in _ops(req)):
        return Response(204, [], b"")
    return forward(req)


@fault("prof-pathless-patch-refused", proves=[
    "profile.entra-aadoptscim062020.pathless-replace-dotted-urn", "profile.okta.deactivate-pathless",
    "profile.okta.group-rename-pathless",
], settings=_profiles("entra-aadoptscim062020", "okta"))
def _(req: Request, forward: Forward) -> Response:
    """A PATCH operation without a path is not supported (400; several servers even answered 500)."""
    if req.method == "PATCH" and any("path" not in o for o in _ops(req)):
        return _error(400, "path is required", "noTarget")
    return forward(req)


@fault("prof-member-filter-remove-unsupported", proves=[
    "profile.entra-aadoptscim062020.group-remove-member-filter", "profile.okta.group-members-remove-add",
], settings=_profiles("entra-aadoptscim062020", "okta"))
def _(req: Request, forward: Forward) -> Response:
    """A member removal by members[value eq "..."] is refused."""
    if req.method == "PATCH" and any(str(o.get("path", "")).startswith("members[") for o in _ops(req)):
        return _error(400, "value filters are not supported", "invalidPath")
    return forward(req)


@fault("prof-member-add-ignored", proves=[
    "profile.entra.group-add-member", "profile.entra-aadoptscim062020.group-add-member",
    "profile.okta.group-members-remove-add", "profile.onelogin.groups",
], settings=_profiles("entra", "entra-aadoptscim062020", "okta", "onelogin"))
def _(req: Request, forward: Forward) -> Response:
    """A PATCH adding members answers 204 but changes nothing."""
    if on(req, "PATCH", "Groups") and any(str(o.get("op", "")).lower() == "add" and o.get("path") == "members"
                                          for o in _ops(req)):
        return Response(204, [], b"")
    return forward(req)


@fault("prof-member-replace-ignored", proves=["profile.okta.group-full-push"], settings=_profiles("okta"))
def _(req: Request, forward: Forward) -> Response:
    """A PATCH replacing the member list answers 204 but changes nothing."""
    if on(req, "PATCH", "Groups") and any(str(o.get("op", "")).lower() == "replace" and o.get("path") == "members"
                                          for o in _ops(req)):
        return Response(204, [], b"")
    return forward(req)


@fault("prof-put-merges", proves=[
    "profile.okta-aiw.put-replaces-whole-user", "profile.github-org.put-full-replace",
    "profile.github-enterprise.put-full-replace", "profile.ghes.put-full-replace",
], settings=_profiles("okta-aiw", "github-org", "github-enterprise", "ghes"))
def _(req: Request, forward: Forward) -> Response:
    """PUT does not replace the whole resource: attributes left out keep their stored values."""
    if on(req, "PUT", "Users", item=True) and isinstance(req.data, dict):
        stored = forward(Request("GET", req.path, {}, dict(req.headers), b"")).data
        if isinstance(stored, dict):
            merged = {k: v for k, v in stored.items() if k not in ("meta",)}
            merged.update(req.data)
            req.data = merged
    return forward(req)


@fault("prof-put-ignored", proves=[
    "profile.okta.update-get-put", "profile.okta-aiw.put-update", "profile.okta-aiw.put-deactivate",
    "profile.okta-aiw.group-put-members", "profile.okta-aiw.put-replaces-whole-user", "profile.onelogin.update-user",
], settings=_profiles("okta", "okta-aiw", "onelogin"))
def _(req: Request, forward: Forward) -> Response:
    """PUT answers 200 with the stored resource but changes nothing."""
    if req.method == "PUT" and req.is_item:
        return forward(Request("GET", req.path, {}, dict(req.headers), b""))
    return forward(req)


@fault("prof-duplicate-accepted", proves=[
    "profile.okta.create-duplicate-409", "profile.okta.spec-create-plain-json", "profile.github-org.conflict-409",
    "profile.github-enterprise.conflict-409", "profile.ghes.conflict-409",
    "profile.aws-iam-identity-center.conflict-409",
], settings=_profiles("okta", "github-org", "github-enterprise", "ghes", "aws-iam-identity-center"))
def _(req: Request, forward: Forward) -> Response:
    """A create with a userName already taken answers 201 (the server stores a renamed copy): no 409."""
    resp = forward(req)
    if on(req, "POST", "Users", item=False) and resp.status == 409 and isinstance(req.data, dict):
        copy = dict(req.data)
        copy["userName"] = f"{copy.get('userName', 'x')}-dup"
        req.data = copy
        return forward(req)
    return resp


@fault("prof-create-without-id", proves=[
    "profile.entra.create-user", "profile.okta.create-user", "profile.okta-aiw.create-user",
    "profile.onelogin.create-user", "profile.okta.spec-create-plain-json",
], settings=_profiles("entra", "okta", "okta-aiw", "onelogin"))
def _(req: Request, forward: Forward) -> Response:
    """A user create answers 201 with an empty body (only the Location header names the new user)."""
    resp = forward(req)
    if on(req, "POST", "Users", item=False) and resp.status == 201:
        resp.data = {}
    return resp


@fault("prof-groups-create-refused", proves=[
    "profile.entra.group-create", "profile.okta.group-push-create", "profile.onelogin.groups",
    "profile.jumpcloud.test-connection-group",
], settings=_profiles("entra", "okta", "onelogin", "jumpcloud"))
def _(req: Request, forward: Forward) -> Response:
    """Creating a group is refused with 400 (the server takes no group data)."""
    if on(req, "POST", "Groups", item=False):
        return _error(400, "groups cannot be created here", "mutability")
    return forward(req)


@fault("prof-excluded-attributes-refused", proves=[
    "profile.entra.group-get-excluded-members", "profile.entra.group-lookup-displayname",
], settings=_profiles("entra"))
def _(req: Request, forward: Forward) -> Response:
    """excludedAttributes is refused with 400."""
    if req.method == "GET" and "excludedAttributes" in req.query:
        return _error(400, "excludedAttributes is not supported", "invalidSyntax")
    return forward(req)


@fault("prof-externalid-filter-empty", proves=["profile.entra.lookup-externalid"], settings=_profiles("entra"))
def _(req: Request, forward: Forward) -> Response:
    """A filter on externalId matches nothing."""
    if _is_list(req) and "externalid" in req.query.get("filter", "").lower():
        req.query = {**req.query, "filter": 'userName eq "nobody-has-this-name"'}
    return forward(req)


@fault("prof-username-filter-empty", proves=[
    "profile.entra.lookup-username", "profile.okta.lookup-found", "profile.okta.spec-username-any-case",
    "profile.okta.spec-list-first-user", "profile.onelogin.get-user",
], settings=_profiles("entra", "okta", "onelogin"))
def _(req: Request, forward: Forward) -> Response:
    """A userName eq filter matches nothing."""
    if _is_list(req) and req.query.get("filter", "").startswith("userName eq"):
        req.query = {**req.query, "filter": 'userName eq "nobody-has-this-name"'}
    return forward(req)


@fault("prof-value-path-filter-refused", proves=["profile.entra.lookup-work-email"], settings=_profiles("entra"))
def _(req: Request, forward: Forward) -> Response:
    """A filter with a value path (emails[type eq "work"].value) is refused with 400."""
    if _is_list(req) and "[" in req.query.get("filter", ""):
        return _error(400, "value paths are not supported", "invalidFilter")
    return forward(req)


@fault("prof-unknown-id-200", proves=[
    "profile.entra.get-unknown-404", "profile.okta.spec-unknown-id-404",
], settings=_profiles("entra", "okta"))
def _(req: Request, forward: Forward) -> Response:
    """A GET of an id nobody has answers 200 with an empty object."""
    resp = forward(req)
    if req.method == "GET" and req.is_item and resp.status == 404:
        return Response(200, [("Content-Type", "application/scim+json")], b"{}")
    return resp


@fault("prof-get-by-id-404", proves=[
    "profile.okta.spec-get-by-id", "profile.onelogin.get-user",
], collateral={
    "profile.okta": "every step that reads a user back by id sees the 404",
    "profile.onelogin": "every step that reads a user back by id sees the 404",
}, settings=_profiles("okta", "onelogin"))
def _(req: Request, forward: Forward) -> Response:
    """A GET of an existing user by id answers 404."""
    if on(req, "GET", "Users", item=True):
        return _error(404, "not found")
    return forward(req)


@fault("prof-delete-200", proves=[
    "profile.entra.delete-user", "profile.entra.delete-group", "profile.okta.group-unlink-delete",
    "profile.onelogin.delete-user", "profile.jumpcloud.test-connection-user",
    "profile.jumpcloud.test-connection-group",
], settings=_profiles("entra", "okta", "onelogin", "jumpcloud"))
def _(req: Request, forward: Forward) -> Response:
    """DELETE answers 200 with a body instead of 204."""
    resp = forward(req)
    if req.method == "DELETE" and resp.status == 204:
        return Response(200, [("Content-Type", "application/scim+json")], b'{"deleted": true}')
    return resp


@fault("prof-paging-fields-strings", proves=[
    "profile.okta.lookup-found", "profile.okta.import-stable-order", "profile.okta.spec-list-first-user",
    "profile.okta.spec-groups",
], collateral={"profile.okta": "every step reading totalResults sees a string"}, settings=_profiles("okta"))
def _(req: Request, forward: Forward) -> Response:
    """totalResults, startIndex and itemsPerPage come as JSON strings."""
    resp = forward(req)
    if _is_list(req) and isinstance(resp.data, dict):
        resp.data = {k: (str(v) if k in ("totalResults", "startIndex", "itemsPerPage") else v)
                     for k, v in resp.data.items()}
    return resp


_CALLS = {"n": 0}


@fault("prof-unstable-order", proves=["profile.okta.import-stable-order"], settings=_profiles("okta"))
def _(req: Request, forward: Forward) -> Response:
    """Every other list answers its page in reverse order (no stable order for paging)."""
    resp = forward(req)
    if _is_list(req) and isinstance(resp.data, dict) and isinstance(resp.data.get("Resources"), list):
        _CALLS["n"] += 1
        if _CALLS["n"] % 2:
            resp.data = {**resp.data, "Resources": list(reversed(resp.data["Resources"]))}
    return resp


@fault("prof-bad-token-plain-401", proves=["profile.okta.spec-bad-token-401"], settings=_profiles("okta"))
def _(req: Request, forward: Forward) -> Response:
    """A request with a malformed Authorization header gets 401 with a plain-text body."""
    if req.headers.get("authorization") == "non-token":
        return Response(401, [("Content-Type", "text/plain")], b"unauthorized")
    return forward(req)


@fault("prof-plain-json-refused", proves=["profile.okta.spec-create-plain-json"], settings=_profiles("okta"))
def _(req: Request, forward: Forward) -> Response:
    """A request body sent as application/json (not application/scim+json) is refused with 415."""
    if req.method == "POST" and req.headers.get("content-type", "").startswith("application/json"):
        return _error(415, "use application/scim+json")
    return forward(req)


@fault("prof-spc-patch-off", proves=[
    "profile.aws-iam-identity-center.capabilities", "profile.salesforce.capabilities",
], settings=_profiles("aws-iam-identity-center", "salesforce"))
def _(req: Request, forward: Forward) -> Response:
    """/ServiceProviderConfig says PATCH is not supported (the vendors document it is)."""
    resp = forward(req)
    if req.endpoint.startswith("ServiceProviderConfig") and isinstance(resp.data, dict):
        resp.data = {**resp.data, "patch": {"supported": False}}
    return resp


@fault("prof-username-mangled", proves=[
    "profile.github-org.username-normalised", "profile.github-enterprise.username-normalised",
    "profile.ghes.username-normalised", "profile.github-org.users-path-case-sensitive",
    "profile.github-enterprise.users-path-case-sensitive", "profile.ghes.users-path-case-sensitive",
], settings=_profiles("github-org", "github-enterprise", "ghes"))
def _(req: Request, forward: Forward) -> Response:
    """A user is read back with a userName neither as sent nor normalised; lower-case /users is served
    (as on the clean embedded target, which already serves it)."""
    resp = forward(req)
    if on(req, "GET", "Users", item=True) and isinstance(resp.data, dict) and "userName" in resp.data:
        resp.data = {**resp.data, "userName": "renamed_" + str(resp.data["userName"])[::-1]}
    return resp


@fault("prof-scim-content-type-dropped", proves=["profile.entra.response-content-type"], settings=_profiles("entra"))
def _(req: Request, forward: Forward) -> Response:
    """Answers are typed text/plain instead of application/scim+json."""
    resp = forward(req)
    if resp.header("Content-Type"):
        resp.set_header("Content-Type", "text/plain")
    return resp


@fault("prof-roles-manager-refused", proves=[
    "profile.entra.roles-add-json-string", "profile.entra.manager-add",
], settings=_profiles("entra"))
def _(req: Request, forward: Forward) -> Response:
    """A PATCH of roles or manager is refused with 400."""
    if req.method == "PATCH" and any(str(o.get("path", "")).lower() in ("roles", "manager") for o in _ops(req)):
        return _error(400, "roles and manager are read-only", "mutability")
    return forward(req)
