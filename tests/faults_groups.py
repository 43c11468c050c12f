"""Faults for the group membership checks (RFC 7643 §4.2, §4.1.2), uniqueness on PUT/PATCH (RFC 7643 §7),
the PUT additions (RFC 7644 §3.5.1) and attribute notation (RFC 7643 §2.1, RFC 7644 §3.10).
Prefixes: grp-, uniq-, put-, names-.
"""

from __future__ import annotations

import json
from typing import Any

from .faultkit import Forward, Request, Response, fault

ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
SCIM_JSON = [("Content-Type", "application/scim+json")]


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def _error(status: int, detail: str, scim_type: str | None = None) -> Response:
    body: dict[str, Any] = {"schemas": [ERROR_URN], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return Response(status, list(SCIM_JSON), _json(body))


def _item(req: Request, method: str, endpoint: str) -> bool:
    return req.method == method and req.endpoint == endpoint and req.is_item


def _create(req: Request, endpoint: str) -> bool:
    return req.method == "POST" and req.endpoint == endpoint and len(req.segments) == 1


def _call(forward: Forward, req: Request, method: str, path: str, body: Any = None,
          query: dict[str, str] | None = None) -> Response:
    """A request of the fault's own to scim2-server, with the credentials of ``req``."""
    headers = {k: v for k, v in req.headers.items() if k in ("authorization", "accept")}
    if body is not None:
        headers["content-type"] = "application/scim+json"
    return forward(Request(method, path, dict(query or {}), headers, _json(body) if body is not None else b""))


def _edit(resp: Response, edit) -> Response:
    data = resp.data
    edit(data)
    resp.data = data
    return resp


def _ops(req: Request) -> list[dict[str, Any]]:
    data = req.data
    ops = data.get("Operations") if isinstance(data, dict) else None
    return [o for o in ops if isinstance(o, dict)] if isinstance(ops, list) else []


def _collection(req: Request, endpoint: str) -> str:
    """The path of ``endpoint`` beside the resource ``req`` names: /v2/Users/x -> /v2/Groups."""
    return req.path.rstrip("/").rsplit("/", 2)[0] + "/" + endpoint


def _add_member(req: Request, forward: Forward, group_id: str, user_id: str) -> None:
    _call(forward, req, "PATCH", f"{_collection(req, 'Groups')}/{group_id}",
          {"schemas": [PATCH_URN], "Operations": [{"op": "add", "path": "members", "value": [{"value": user_id}]}]})


# -- groups ----------------------------------------------------------------------------------------------------


@fault("grp-create-keeps-first-member", proves=["groups.members-stored"],
       collateral={"groups.patch-remove-member-by-filter": "its group is created with two members and so "
                                                           "starts with one only"})
def grp_create_keeps_first_member(req: Request, forward: Forward) -> Response:
    """A group created with several members keeps only the first (members handled as single-valued)."""
    data = req.data
    if _create(req, "Groups") and isinstance(data, dict) and isinstance(data.get("members"), list):
        data["members"] = data["members"][:1]
        req.data = data
    return forward(req)


@fault("grp-member-ref-wrong-type", proves=["groups.member-ref-resolves"])
def grp_member_ref_wrong_type(req: Request, forward: Forward) -> Response:
    """A group's members carry a $ref under /Groups/ although they are users."""
    resp = forward(req)
    if _item(req, "GET", "Groups") and resp.status == 200 and isinstance(resp.data, dict):
        base = _collection(req, "Groups")

        def add(d: dict[str, Any]) -> None:
            for m in d.get("members") or []:
                m["$ref"] = f"{base}/{m.get('value')}"

        resp = _edit(resp, add)
    return resp


@fault("grp-patch-add-replaces-members", proves=["groups.patch-add-members"])
def grp_patch_add_replaces(req: Request, forward: Forward) -> Response:
    """PATCH add on a group's members replaces the members instead of appending."""
    data = req.data
    if _item(req, "PATCH", "Groups") and isinstance(data, dict) and isinstance(data.get("Operations"), list):
        for op in data["Operations"]:
            if isinstance(op, dict) and str(op.get("op")).lower() == "add" \
                    and str(op.get("path")).lower() == "members":
                op["op"] = "replace"
        req.data = data
    return forward(req)


@fault("grp-remove-filter-ignored", proves=["groups.patch-remove-member-by-filter"],
       collateral={"groups.patch-remove-last-member-unassigned": "the same ignored remove leaves the last member"})
def grp_remove_filter_ignored(req: Request, forward: Forward) -> Response:
    """A PATCH remove with a members[value eq ...] path answers 204 and removes nothing."""
    if _item(req, "PATCH", "Groups") and any(
            str(o.get("op")).lower() == "remove" and str(o.get("path", "")).lower().startswith("members[")
            for o in _ops(req)):
        return Response(204, [], b"")
    return forward(req)


@fault("grp-keeps-last-member", proves=["groups.patch-remove-last-member-unassigned"])
def grp_keeps_last_member(req: Request, forward: Forward) -> Response:
    """A group never becomes empty: removing its only member answers 204 and keeps it."""
    if _item(req, "PATCH", "Groups") and any(str(o.get("op")).lower() == "remove" for o in _ops(req)):
        current = _call(forward, req, "GET", req.path)
        if current.status == 200 and len((current.data or {}).get("members") or []) == 1:
            return Response(204, [], b"")
    return forward(req)


@fault("grp-put-merges-members", proves=["groups.put-replaces-members"])
def grp_put_merges_members(req: Request, forward: Forward) -> Response:
    """A PUT of a group adds the members sent to those it had, instead of replacing them."""
    data = req.data
    if _item(req, "PUT", "Groups") and isinstance(data, dict) and isinstance(data.get("members"), list):
        current = _call(forward, req, "GET", req.path)
        if current.status == 200:
            old = [m for m in (current.data or {}).get("members") or []]
            sent = {m.get("value") for m in data["members"] if isinstance(m, dict)}
            data["members"] = data["members"] + [m for m in old if m.get("value") not in sent]
            req.data = data
    return forward(req)


@fault("grp-user-groups-display-as-value",
       proves=["groups.user-groups-values", "groups.user-groups-reflect-membership"])
def grp_user_groups_display_as_value(req: Request, forward: Forward) -> Response:
    """A User's groups is filled, but each entry's value is the group's displayName, not its id."""
    resp = forward(req)
    if _item(req, "GET", "Users") and resp.status == 200 and isinstance(resp.data, dict):
        uid = resp.data.get("id")
        found = _call(forward, req, "GET", _collection(req, "Groups"), query={"filter": f'members.value eq "{uid}"'})
        groups = (found.data or {}).get("Resources") or [] if found.status == 200 else []
        if groups:
            resp = _edit(resp, lambda d: d.__setitem__("groups", [
                {"value": g.get("displayName"), "$ref": (g.get("meta") or {}).get("location")} for g in groups]))
    return resp


@fault("grp-user-put-joins-groups", proves=["groups.user-groups-put-no-membership"])
def grp_user_put_joins_groups(req: Request, forward: Forward) -> Response:
    """A PUT of a User with groups makes the user a member of those groups."""
    data = req.data
    resp = forward(req)
    if _item(req, "PUT", "Users") and resp.status == 200 and isinstance(data, dict):
        for g in data.get("groups") or []:
            if isinstance(g, dict) and g.get("value"):
                _add_member(req, forward, str(g["value"]), req.segments[1])
    return resp


@fault("grp-user-patch-joins-groups", proves=["groups.user-groups-patch-no-membership"])
def grp_user_patch_joins_groups(req: Request, forward: Forward) -> Response:
    """A PATCH adding to a User's groups makes the user a member of those groups (and answers 204)."""
    if _item(req, "PATCH", "Users"):
        joins = [o for o in _ops(req) if str(o.get("op")).lower() == "add" and str(o.get("path")).lower() == "groups"]
        if joins:
            for op in joins:
                for g in op.get("value") or []:
                    if isinstance(g, dict) and g.get("value"):
                        _add_member(req, forward, str(g["value"]), req.segments[1])
            return Response(204, [], b"")
    return forward(req)


@fault("grp-deleted-user-still-member", proves=["groups.deleted-user-leaves-group"])
def grp_deleted_user_still_member(req: Request, forward: Forward) -> Response:
    """Deleting a user leaves its memberships alone (scim2-server already behaves so: this fault changes
    nothing on it, and is kept so that the proof names the behaviour the check reports)."""
    return forward(req)


@fault("grp-delete-group-deletes-members", proves=["groups.delete-keeps-users"])
def grp_delete_group_deletes_members(req: Request, forward: Forward) -> Response:
    """Deleting a group deletes its member users too."""
    if _item(req, "DELETE", "Groups"):
        current = _call(forward, req, "GET", req.path)
        if current.status == 200:
            for m in (current.data or {}).get("members") or []:
                if m.get("value"):
                    _call(forward, req, "DELETE", f"{_collection(req, 'Users')}/{m['value']}")
    return forward(req)


# -- uniqueness on PUT and PATCH ---------------------------------------------------------------------------


def _user_name_sent(req: Request) -> str | None:
    data = req.data
    if req.method == "PUT" and isinstance(data, dict):
        value = data.get("userName")
        return value if isinstance(value, str) else None
    for op in _ops(req):
        if str(op.get("path", "")).lower() == "username" and isinstance(op.get("value"), str):
            return op["value"]
    return None


def _holder_case(req: Request, forward: Forward, name: str) -> str | None:
    """"exact" when another User has ``name``, "case" when one has it in another case, else None."""
    found = _call(forward, req, "GET", _collection(req, "Users"), query={"filter": f'userName eq "{name}"'})
    names = [r.get("userName") for r in (found.data or {}).get("Resources") or []] if found.status == 200 else []
    if name in names:
        return "exact"
    return "case" if names else None


def _accept_duplicate(req: Request, forward: Forward, method: str, kind: str) -> Response:
    """A refused 409 on a User ``method`` becomes a success when the conflict is of ``kind``."""
    resp = forward(req)
    name = _user_name_sent(req)
    if _item(req, method, "Users") and resp.status == 409 and name and _holder_case(req, forward, name) == kind:
        if method == "PATCH":
            return Response(204, [], b"")
        current = _call(forward, req, "GET", req.path)
        data = {**req.data, "userName": (current.data or {}).get("userName")}
        stored = forward(Request("PUT", req.path, dict(req.query), dict(req.headers), _json(data)))
        return Response(200, list(SCIM_JSON), _json({**(stored.data or {}), "userName": name}))
    return resp


def _without_scim_type(req: Request, forward: Forward, method: str) -> Response:
    resp = forward(req)
    if _item(req, method, "Users") and resp.status == 409 and isinstance(resp.data, dict):
        resp = _edit(resp, lambda d: d.pop("scimType", None))
    return resp


@fault("uniq-put-duplicate-accepted", proves=["uniqueness.put-duplicate-username-refused"])
def uniq_put_duplicate_accepted(req: Request, forward: Forward) -> Response:
    """A PUT giving a User another User's userName answers 200: the other values are stored, the userName
    silently kept."""
    return _accept_duplicate(req, forward, "PUT", "exact")


@fault("uniq-put-case-duplicate-accepted", proves=["uniqueness.put-duplicate-username-case-refused"])
def uniq_put_case_duplicate_accepted(req: Request, forward: Forward) -> Response:
    """A PUT giving a User another User's userName in another case answers 200 (compared case-sensitively)."""
    return _accept_duplicate(req, forward, "PUT", "case")


@fault("uniq-put-409-without-scimtype", proves=["uniqueness.put-duplicate-username-scimtype"])
def uniq_put_409_without_scimtype(req: Request, forward: Forward) -> Response:
    """The 409 answering a PUT with a duplicate userName has no scimType."""
    return _without_scim_type(req, forward, "PUT")


@fault("uniq-patch-duplicate-accepted", proves=["uniqueness.patch-duplicate-username-refused"])
def uniq_patch_duplicate_accepted(req: Request, forward: Forward) -> Response:
    """A PATCH replacing a userName with another User's answers 204."""
    return _accept_duplicate(req, forward, "PATCH", "exact")


@fault("uniq-patch-case-duplicate-accepted", proves=["uniqueness.patch-duplicate-username-case-refused"])
def uniq_patch_case_duplicate_accepted(req: Request, forward: Forward) -> Response:
    """A PATCH replacing a userName with another User's in another case answers 204."""
    return _accept_duplicate(req, forward, "PATCH", "case")


@fault("uniq-patch-409-without-scimtype", proves=["uniqueness.patch-duplicate-username-scimtype"])
def uniq_patch_409_without_scimtype(req: Request, forward: Forward) -> Response:
    """The 409 answering a PATCH with a duplicate userName has no scimType."""
    return _without_scim_type(req, forward, "PATCH")


def _schema_attribute(req: Request, forward: Forward, schema_id: str, name: str, change) -> Response:
    """Forward; in /Schemas (list or single), let ``change`` edit attribute ``name`` of ``schema_id``."""
    resp = forward(req)
    if req.method == "GET" and req.endpoint == "Schemas" and resp.status == 200 and isinstance(resp.data, dict):
        data = resp.data
        for schema in data.get("Resources", [data]):
            if schema.get("id") == schema_id:
                for attr in schema.get("attributes") or []:
                    if attr.get("name") == name:
                        change(attr)
        resp.data = data
    return resp


@fault("uniq-group-displayname-declared-unique", proves=["uniqueness.declared-unique-create-refused"])
def uniq_group_displayname_declared_unique(req: Request, forward: Forward) -> Response:
    """/Schemas declares Group displayName unique ("server") but the server accepts duplicates."""
    return _schema_attribute(req, forward, GROUP, "displayName", lambda a: a.__setitem__("uniqueness", "server"))


# -- PUT (RFC 7644 §3.5.1) -------------------------------------------------------------------------------------

IMMUTABLE_ATTR = "title"  # a User attribute the suite's payload does not send, declared immutable by two faults


def _title_immutable(req: Request, forward: Forward) -> Response:
    return _schema_attribute(req, forward, USER, IMMUTABLE_ATTR, lambda a: a.__setitem__("mutability", "immutable"))


@fault("put-immutable-not-enforced", proves=["replace.immutable-kept", "replace.immutable-mutability-error"])
def put_immutable_not_enforced(req: Request, forward: Forward) -> Response:
    """/Schemas declares User title immutable, but a PUT changes it like any readWrite attribute."""
    return _title_immutable(req, forward)


@fault("put-immutable-same-value-refused", proves=["replace.immutable-same-value"],
       collateral={"replace.immutable-set-when-unset": "it refuses every PUT carrying title, also one setting it "
                                                       "for the first time"})
def put_immutable_same_value_refused(req: Request, forward: Forward) -> Response:
    """User title is declared immutable, and any PUT carrying it is refused, even with the stored value."""
    data = req.data
    if _item(req, "PUT", "Users") and isinstance(data, dict) and IMMUTABLE_ATTR in data:
        return _error(400, f"{IMMUTABLE_ATTR} is immutable", "mutability")
    return _title_immutable(req, forward)


CLIENT_META: dict[str, dict[str, Any]] = {}  # path -> meta a PUT sent (put-takes-client-meta)
FROZEN: dict[str, str] = {}  # path -> lastModified before its first PUT (put-last-modified-frozen)


@fault("put-takes-client-meta", proves=["replace.read-only-ignored"])
def put_takes_client_meta(req: Request, forward: Forward) -> Response:
    """meta.created sent by the client in a PUT is stored: later reads show it."""
    data = req.data
    if req.endpoint in ("Users", "Groups") and req.is_item and req.method == "PUT" and isinstance(data, dict) \
            and isinstance(data.get("meta"), dict) and data["meta"].get("created"):
        CLIENT_META[req.path] = {"created": data["meta"]["created"]}
    resp = forward(req)
    if req.path in CLIENT_META and req.method in ("GET", "PUT") and resp.status == 200 and isinstance(resp.data, dict):
        resp = _edit(resp, lambda d: d.setdefault("meta", {}).update(CLIENT_META[req.path]))
    return resp


@fault("put-last-modified-frozen", proves=["replace.last-modified-advances"])
def put_last_modified_frozen(req: Request, forward: Forward) -> Response:
    """A PUT does not update meta.lastModified: it keeps the value it had before the first PUT."""
    if req.endpoint in ("Users", "Groups") and req.is_item and req.method == "PUT" and req.path not in FROZEN:
        before = _call(forward, req, "GET", req.path)
        if before.status == 200:
            FROZEN[req.path] = ((before.data or {}).get("meta") or {}).get("lastModified")
    resp = forward(req)
    if FROZEN.get(req.path) and req.method in ("GET", "PUT") and resp.status == 200 and isinstance(resp.data, dict):
        resp = _edit(resp, lambda d: d.setdefault("meta", {}).update(lastModified=FROZEN[req.path]))
    return resp


@fault("put-omitted-attribute-refused", proves=["replace.omitted-attributes"])
def put_omitted_attribute_refused(req: Request, forward: Forward) -> Response:
    """A PUT of a User that leaves out displayName (which the User has) is refused with 400."""
    data = req.data
    if _item(req, "PUT", "Users") and isinstance(data, dict) and "displayname" not in {str(k).lower() for k in data}:
        current = _call(forward, req, "GET", req.path)
        if current.status == 200 and (current.data or {}).get("displayName"):
            return _error(400, "a PUT must carry every attribute: displayName is missing", "invalidValue")
    return forward(req)


@fault("put-deactivated-hidden-from-filter", proves=["replace.deactivated-user-found-by-filter"])
def put_deactivated_hidden(req: Request, forward: Forward) -> Response:
    """Deactivated Users (active=false) are left out of filtered queries."""
    resp = forward(req)
    if req.method == "GET" and req.endpoint == "Users" and len(req.segments) == 1 and "filter" in req.query \
            and resp.status == 200 and isinstance(resp.data, dict):
        def hide(d: dict[str, Any]) -> None:
            d["Resources"] = [r for r in d.get("Resources") or [] if r.get("active") is not False]
            d["totalResults"] = d["itemsPerPage"] = len(d["Resources"])

        resp = _edit(resp, hide)
    return resp


# -- attribute notation (RFC 7643 §2.1, RFC 7644 §3.10) ----------------------------------------------------------

CORE_URN_PREFIX = "urn:ietf:params:scim:schemas:core:2.0:"


def _upper_keys(data: Any) -> list[str]:
    return [k for k in data if isinstance(k, str) and k.isupper() and len(k) > 2] if isinstance(data, dict) else []


@fault("names-create-upper-case-rejected", proves=["names.create-any-case"])
def names_create_upper_case_rejected(req: Request, forward: Forward) -> Response:
    """A create whose body spells an attribute name in capitals is refused (names compared case-sensitively)."""
    if req.method == "POST" and req.endpoint in ("Users", "Groups") and len(req.segments) == 1 \
            and _upper_keys(req.data):
        return _error(400, f"unknown attribute {_upper_keys(req.data)[0]}", "invalidSyntax")
    return forward(req)


@fault("names-put-upper-case-dropped", proves=["names.replace-any-case"])
def names_put_upper_case_dropped(req: Request, forward: Forward) -> Response:
    """A PUT drops the attributes whose names are spelled in capitals, keeping the stored values."""
    data = req.data
    if req.method == "PUT" and req.endpoint in ("Users", "Groups") and req.is_item and _upper_keys(data):
        current = _call(forward, req, "GET", req.path)
        keep = {k: v for k, v in (current.data or {}).items() if k not in ("id", "meta")}
        req.data = {**keep, **{k: v for k, v in data.items() if k not in _upper_keys(data)}}
    return forward(req)


@fault("names-patch-path-case-sensitive", proves=["names.patch-path-any-case"])
def names_patch_path_case_sensitive(req: Request, forward: Forward) -> Response:
    """A PATCH path spelled in capitals is refused as an invalid path."""
    if req.method == "PATCH" and req.is_item and any(
            isinstance(o.get("path"), str) and o["path"].isupper() for o in _ops(req)):
        return _error(400, "no such attribute", "invalidPath")
    return forward(req)


@fault("names-attributes-urn-ignored", proves=["names.attributes-parameter-urn"])
def names_attributes_urn_ignored(req: Request, forward: Forward) -> Response:
    """attributes= naming an attribute with its schema URN is ignored: the full resource comes back."""
    if req.method == "GET" and req.query.get("attributes", "").lower().startswith("urn:"):
        req.query.pop("attributes")
    return forward(req)


@fault("names-filter-urn-rejected", proves=["names.filter-urn"])
def names_filter_urn_rejected(req: Request, forward: Forward) -> Response:
    """A filter whose attribute path carries the core schema URN is refused as invalid."""
    if req.method == "GET" and req.query.get("filter", "").startswith(CORE_URN_PREFIX):
        return _error(400, "unknown attribute in filter", "invalidFilter")
    return forward(req)


@fault("names-patch-path-urn-rejected", proves=["names.patch-path-urn"])
def names_patch_path_urn_rejected(req: Request, forward: Forward) -> Response:
    """A PATCH path qualified with the core schema URN is refused as an invalid path."""
    if req.method == "PATCH" and req.is_item and any(
            str(o.get("path", "")).startswith(CORE_URN_PREFIX) for o in _ops(req)):
        return _error(400, "no such attribute", "invalidPath")
    return forward(req)


def _lower_on_get(req: Request, forward: Forward, name: str) -> Response:
    resp = forward(req)
    if req.method == "GET" and req.endpoint in ("Users", "Groups") and req.is_item and resp.status == 200 \
            and isinstance(resp.data, dict) and isinstance(resp.data.get(name), str):
        resp = _edit(resp, lambda d: d.__setitem__(name, d[name].lower()))
    return resp


@fault("names-case-exact-value-lowered", proves=["names.case-exact-value-preserved"])
def names_case_exact_value_lowered(req: Request, forward: Forward) -> Response:
    """externalId values are returned lower-cased, although externalId is caseExact."""
    return _lower_on_get(req, forward, "externalId")


@fault("names-value-case-lowered", proves=["names.case-insensitive-value-kept"])
def names_value_case_lowered(req: Request, forward: Forward) -> Response:
    """displayName values are returned lower-cased (allowed for a caseExact=false attribute)."""
    return _lower_on_get(req, forward, "displayName")
