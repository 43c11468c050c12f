"""Faults for the PATCH checks (RFC 7644 §3.5.2). Prefix: patch-.

Most faults rewrite the operations of a PATCH before scim2-server sees them (an operation dropped,
an add turned into a replace...), the way a server that mishandles that operation would behave;
the others change the answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .faultkit import FAULTS, Forward, Request, Response, fault

RESOURCE_ENDPOINTS = ("Users", "Groups")
ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
Ops = list[dict[str, Any]]


def _is_patch(req: Request) -> bool:
    return req.method == "PATCH" and req.endpoint in RESOURCE_ENDPOINTS and req.is_item and isinstance(
        req.data, dict) and isinstance(req.data.get("Operations"), list)


def _ops(req: Request) -> Ops:
    return list(req.data["Operations"])


def _op(item: Any) -> str:
    return str(item.get("op", "")) if isinstance(item, dict) else ""


def _path(item: Any) -> str:
    return str(item.get("path") or "") if isinstance(item, dict) else ""


def _plain(path: str) -> bool:
    return bool(path) and not any(c in path for c in ".[:")


def _respond(status: int, data: Any = None) -> Response:
    body = json.dumps(data).encode() if data is not None else b""
    headers = [("Content-Type", "application/scim+json")] if data is not None else []
    return Response(status, headers, body)


def _error(status: int, detail: str, scim_type: str | None = None) -> Response:
    data: dict[str, Any] = {"schemas": [ERROR_URN], "status": str(status), "detail": detail}
    if scim_type:
        data["scimType"] = scim_type
    return _respond(status, data)


def _get(req: Request, forward: Forward) -> Response:
    return forward(Request("GET", req.path, {}, dict(req.headers), b""))


def _send_ops(req: Request, forward: Forward, ops: Ops) -> Response:
    """Forward the PATCH with ``ops``; with none left, answer as a server that did nothing would."""
    if not ops:
        found = forward(Request("GET", req.path, dict(req.query), dict(req.headers), b""))
        if found.status != 200 or req.query.get("attributes") or req.query.get("excludedAttributes"):
            return found
        return _respond(204)
    data = {**req.data, "Operations": ops}
    return forward(Request(req.method, req.path, dict(req.query), dict(req.headers), json.dumps(data).encode()))


def _rewriting(keep: Callable[[dict[str, Any]], Any]):
    """A fault body that maps each operation through ``keep`` (None drops it, a list expands it)."""

    def run(req: Request, forward: Forward) -> Response:
        if not _is_patch(req):
            return forward(req)
        out: Ops = []
        for item in _ops(req):
            new = keep(item) if isinstance(item, dict) else item
            if isinstance(new, list):
                out.extend(new)
            elif new is not None:
                out.append(new)
        return _send_ops(req, forward, out)

    return run


# -- operations mishandled -----------------------------------------------------------------------------


@fault("patch-op-case-sensitive", proves=["patch.op-name-any-case"])
def op_case_sensitive(req: Request, forward: Forward) -> Response:
    """An op name not in lower case ("Replace") is refused as unknown."""
    if _is_patch(req) and any(_op(i) not in ("add", "remove", "replace") for i in _ops(req)):
        return _error(400, "unknown op", "invalidValue")
    return forward(req)


def _drop_plain_replace(item: dict[str, Any]) -> Any:
    path = _path(item)
    return None if (_op(item).lower() == "replace" and _plain(path) and isinstance(item.get("value"), str)
                    and path.lower() not in ("id", "username", "active")) else item


@fault("patch-replace-simple-ignored", proves=["patch.replace.simple", "patch.replace.absent-is-add"],
       collateral={"patch.op-name-any-case": "its Replace of a simple attribute is dropped too",
                   "names.patch-path-any-case": "its replace of a simple attribute (DISPLAYNAME) is dropped too",
                   "patch.response.attributes-200": "the dropped replace leaves the old value in the answer"})
def replace_simple_ignored(req: Request, forward: Forward) -> Response:
    """A replace of a top-level attribute is answered 204 but not applied."""
    return _rewriting(_drop_plain_replace)(req, forward)


@fault("patch-add-simple-ignored", proves=["patch.add.simple"],
       collateral={"patch.op-name-any-case": "its ADD of a simple attribute is dropped too"})
def add_simple_ignored(req: Request, forward: Forward) -> Response:
    """An add of a single value (not a list) to a top-level attribute is answered 204 but not applied."""
    return _rewriting(lambda i: None if _op(i).lower() == "add" and _plain(_path(i))
                      and not isinstance(i.get("value"), list) else i)(req, forward)


@fault("patch-remove-simple-ignored", proves=["patch.remove.simple"],
       collateral={"patch.remove-required.mutability": "the remove of a required attribute is dropped "
                                                       "(and so accepted) too"})
def remove_simple_ignored(req: Request, forward: Forward) -> Response:
    """A remove of a single-valued top-level attribute is answered 204 but not applied."""
    multi = ("emails", "phonenumbers", "ims", "photos", "addresses", "entitlements", "roles", "members")
    return _rewriting(lambda i: None if _op(i).lower() == "remove" and _plain(_path(i))
                      and _path(i).lower() not in multi else i)(req, forward)


@fault("patch-complex-replace-resets", proves=["patch.replace.complex"])
def complex_replace_resets(req: Request, forward: Forward) -> Response:
    """A replace of a User's complex attribute with some sub-attributes drops the sub-attributes not given."""
    if req.endpoint != "Users":
        return forward(req)
    return _rewriting(lambda i: [{"op": "remove", "path": _path(i)}, {"op": "add", "path": _path(i),
                                                                        "value": i["value"]}]
                      if _op(i).lower() == "replace" and _plain(_path(i)) and isinstance(i.get("value"), dict)
                      else i)(req, forward)


@fault("patch-sub-attribute-path-ignored", proves=["patch.replace.sub-attribute"])
def sub_attribute_path_ignored(req: Request, forward: Forward) -> Response:
    """A replace whose path is attribute.sub-attribute (name.givenName) is answered 204 but not applied."""
    return _rewriting(lambda i: None if _op(i).lower() == "replace" and "." in _path(i)
                      and not any(c in _path(i) for c in "[:") else i)(req, forward)


@fault("patch-remove-sub-removes-parent", proves=["patch.remove.sub-attribute"])
def remove_sub_removes_parent(req: Request, forward: Forward) -> Response:
    """A remove of name.givenName removes the whole name."""
    return _rewriting(lambda i: {**i, "path": _path(i).split(".")[0]} if _op(i).lower() == "remove"
                      and "." in _path(i) and not any(c in _path(i) for c in "[:") else i)(req, forward)


@fault("patch-add-replaces", proves=["patch.add.multi-valued-appends"],
       collateral={"patch.primary-exclusive": "the add of a primary value replaces the earlier values, "
                                              "which the model keeps"})
def add_replaces(req: Request, forward: Forward) -> Response:
    """An add of a list to a multi-valued attribute of a User replaces its values instead of appending."""
    if req.endpoint != "Users":
        return forward(req)
    return _rewriting(lambda i: {**i, "op": "replace"} if _op(i).lower() == "add" and _plain(_path(i))
                      and isinstance(i.get("value"), list) else i)(req, forward)


@fault("patch-replace-appends", proves=["patch.replace.multi-valued-replaces"])
def replace_appends(req: Request, forward: Forward) -> Response:
    """A replace of a multi-valued attribute appends the values instead of replacing them."""
    return _rewriting(lambda i: {**i, "op": "add"} if _op(i).lower() == "replace" and _plain(_path(i))
                      and isinstance(i.get("value"), list) else i)(req, forward)


@fault("patch-remove-multi-valued-ignored", proves=["patch.remove.multi-valued-all"])
def remove_multi_ignored(req: Request, forward: Forward) -> Response:
    """A remove of a whole multi-valued attribute (path "emails") is answered 204 but not applied."""
    multi = ("emails", "phonenumbers", "ims", "photos", "addresses", "entitlements", "roles")
    return _rewriting(lambda i: None if _op(i).lower() == "remove" and _path(i).lower() in multi else i)(req, forward)


# resource path -> values that were primary before an add of another primary value
STILL_PRIMARY: dict[str, set[Any]] = {}


@fault("patch-primary-not-cleared", proves=["patch.primary-exclusive"])
def primary_not_cleared(req: Request, forward: Forward) -> Response:
    """Adding a value with primary true leaves the earlier primary value primary too."""
    if req.method == "GET" and req.path in STILL_PRIMARY:
        resp = forward(req)
        data = resp.data
        if resp.status == 200 and isinstance(data, dict):
            for name, value in list(data.items()):
                if isinstance(value, list):
                    data[name] = [{**v, "primary": True} if isinstance(v, dict) and (name, v.get("value"))
                                  in STILL_PRIMARY[req.path] else v for v in value]
            resp.data = data
        return resp
    if not _is_patch(req):
        return forward(req)
    adds = [i for i in _ops(req) if _op(i).lower() == "add" and isinstance(i.get("value"), list)
            and any(isinstance(v, dict) and v.get("primary") is True for v in i["value"])]
    if adds:
        before = _get(req, forward).data or {}
        STILL_PRIMARY[req.path] = {(_path(i), v.get("value")) for i in adds for v in before.get(_path(i)) or []
                                   if isinstance(v, dict) and v.get("primary") is True}
    return forward(req)


# -- paths -----------------------------------------------------------------------------------------------


@fault("patch-value-filter-rejected", proves=["patch.replace.value-filter", "patch.remove.value-filter",
                                              "patch.remove.value-filter-last-unassigned"],
       collateral={"patch.replace.value-filter-no-match": "a value filter is refused as invalidPath, not noTarget"})
def value_filter_rejected(req: Request, forward: Forward) -> Response:
    """A path with a value filter (emails[type eq "work"]) on a User is refused as an invalid path."""
    if _is_patch(req) and req.endpoint == "Users" and any("[" in _path(i) for i in _ops(req)):
        return _error(400, "value filters are not supported", "invalidPath")
    return forward(req)


@fault("patch-filter-remove-keeps-last", proves=["patch.remove.value-filter-last-unassigned"])
def filter_remove_keeps_last(req: Request, forward: Forward) -> Response:
    """A value-filter remove that would take a User's last value is answered 204 and keeps it."""
    if not (_is_patch(req) and req.endpoint == "Users"):
        return forward(req)
    current = _get(req, forward).data or {}
    ops = _ops(req)
    for item in ops:
        name = _path(item).split("[")[0]
        if _op(item).lower() == "remove" and "[" in _path(item) and len(current.get(name) or []) == 1:
            return _respond(204)
    return forward(req)


@fault("patch-no-target-ignored", proves=["patch.replace.value-filter-no-match"])
def no_target_ignored(req: Request, forward: Forward) -> Response:
    """A replace whose value filter matches nothing answers 204 instead of 400 noTarget."""
    resp = forward(req)
    if _is_patch(req) and resp.status == 400 and (resp.data or {}).get("scimType") == "noTarget" and any(
            "[" in _path(i) for i in _ops(req)):
        return _respond(204)
    return resp


@fault("patch-extension-urn-path-rejected", proves=["patch.replace.extension-urn-path"])
def extension_urn_path_rejected(req: Request, forward: Forward) -> Response:
    """A path naming an extension attribute by its URN is refused as an invalid path."""
    if _is_patch(req) and any(_path(i).lower().startswith("urn:") and ":extension:" in _path(i).lower()
                              for i in _ops(req)):
        return _error(400, "unknown attribute", "invalidPath")
    return forward(req)


@fault("patch-path-less-ignored", proves=["patch.no-path.replace-map"],
       collateral={"patch.no-path.dotted-and-urn-keys": "its path-less replace is dropped too"})
def path_less_ignored(req: Request, forward: Forward) -> Response:
    """An add or replace without a path is answered 204 but not applied."""
    return _rewriting(lambda i: None if not _path(i) and _op(i).lower() in ("add", "replace") else i)(req, forward)


@fault("patch-dotted-keys-ignored", proves=["patch.no-path.dotted-and-urn-keys"])
def dotted_keys_ignored(req: Request, forward: Forward) -> Response:
    """In a path-less add or replace, keys with a "." or a URN prefix are silently ignored."""
    def keep(i: dict[str, Any]) -> Any:
        if _path(i) or not isinstance(i.get("value"), dict):
            return i
        value = {k: v for k, v in i["value"].items() if "." not in k and ":" not in k}
        return {**i, "value": value} if value else None
    return _rewriting(keep)(req, forward)


# -- refusals --------------------------------------------------------------------------------------------


@fault("patch-remove-without-path-accepted", proves=["patch.remove-without-path.refused"])
def remove_without_path_accepted(req: Request, forward: Forward) -> Response:
    """A remove without a path is skipped silently (the request succeeds)."""
    return _rewriting(lambda i: None if _op(i).lower() == "remove" and not _path(i) else i)(req, forward)


@fault("patch-generic-scimtype",
       proves=["patch.remove-without-path.notarget", "patch.invalid-path.scimtype", "patch.readonly-target.scimtype",
               "patch.wrong-type.scimtype", "patch.remove-required.mutability", "patch.replace.value-filter-no-match"])
def generic_scimtype(req: Request, forward: Forward) -> Response:
    """Every refused PATCH says scimType "invalidSyntax", whatever the cause."""
    resp = forward(req)
    if _is_patch(req) and resp.status == 400 and isinstance(resp.data, dict):
        resp.data = {**resp.data, "scimType": "invalidSyntax"}
    return resp


@fault("patch-invalid-path-accepted", proves=["patch.invalid-path.refused"])
def invalid_path_accepted(req: Request, forward: Forward) -> Response:
    """An operation whose path is malformed (an unclosed "[") is skipped and the request succeeds."""
    return _rewriting(lambda i: None if _path(i).count("[") != _path(i).count("]") else i)(req, forward)


@fault("patch-readonly-id-ignored", proves=["patch.readonly-target.refused"])
def readonly_id_ignored(req: Request, forward: Forward) -> Response:
    """A replace of id is skipped silently (the request succeeds)."""
    return _rewriting(lambda i: None if _path(i).lower() == "id" else i)(req, forward)


@fault("patch-wrong-type-accepted", proves=["patch.wrong-type.refused"])
def wrong_type_accepted(req: Request, forward: Forward) -> Response:
    """A value of the wrong type is answered 204 (and not stored)."""
    resp = forward(req)
    if _is_patch(req) and resp.status == 400 and (resp.data or {}).get("scimType") == "invalidValue":
        return _respond(204)
    return resp


@fault("patch-not-atomic", proves=["patch.atomic"])
def not_atomic(req: Request, forward: Forward) -> Response:
    """When a later operation fails, the operations before it are kept."""
    resp = forward(req)
    if _is_patch(req) and resp.status >= 400 and len(_ops(req)) > 1:
        _send_ops(req, forward, _ops(req)[:1])
    return resp


# -- the answer ------------------------------------------------------------------------------------------


@fault("patch-response-stale", proves=["patch.response"])
def response_stale(req: Request, forward: Forward) -> Response:
    """A successful PATCH answers 200 with the resource as it was before the change."""
    if not _is_patch(req) or req.query:
        return forward(req)
    before = _get(req, forward)
    resp = forward(req)
    if resp.status in (200, 204) and before.status == 200:
        return before
    return resp


@fault("patch-attributes-204", proves=["patch.response.attributes-200"])
def attributes_204(req: Request, forward: Forward) -> Response:
    """A PATCH with ?attributes= answers 204 with no body."""
    resp = forward(req)
    if _is_patch(req) and req.query.get("attributes") and resp.status == 200:
        return _respond(204)
    return resp


@fault("patch-add-duplicates", proves=["patch.add.existing-value-no-change"],
       collateral={"patch.add.existing-value-keeps-last-modified": "the duplicate changes the resource, so the "
                                                                    "timestamp check does not apply (skip)"})
def add_duplicates(req: Request, forward: Forward) -> Response:
    """An add to a multi-valued attribute appends the values even when equal ones are there."""
    if not _is_patch(req):
        return forward(req)
    ops = _ops(req)
    if not all(_op(i).lower() == "add" and _plain(_path(i)) and isinstance(i.get("value"), list) for i in ops):
        return forward(req)
    current = _get(req, forward).data or {}

    def there(name: str, item: Any) -> bool:
        return isinstance(item, dict) and any(isinstance(v, dict) and v.get("value") == item.get("value")
                                              for v in current.get(name) or [])

    if not all(there(_path(i), v) for i in ops for v in i["value"]):
        return forward(req)
    out = [{"op": "replace", "path": _path(i),
            "value": list(current.get(_path(i)) or []) + [{k: x for k, x in v.items() if k != "primary"}
                                                         for v in i["value"]]} for i in ops]
    return _send_ops(req, forward, out)


@fault("patch-add-touches-last-modified", proves=["patch.add.existing-value-keeps-last-modified"])
def add_touches_last_modified(req: Request, forward: Forward) -> Response:
    """Every successful add moves meta.lastModified, even when nothing changed."""
    resp = forward(req)
    if not _is_patch(req) or resp.status not in (200, 204) or not all(_op(i).lower() == "add" for i in _ops(req)):
        return resp
    name = "userName" if req.endpoint == "Users" else "displayName"
    current = (_get(req, forward).data or {}).get(name)
    if isinstance(current, str):
        for value in (current + "-touched", current):
            raw = {"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": name, "value": value}]}
            forward(Request("PATCH", req.path, {}, dict(req.headers), json.dumps(raw).encode()))
    return resp


# The random sequences send every kind of PATCH above and compare the read-back with the model, so each
# PATCH fault is rightly caught by them too.
for _fault in FAULTS.values():
    if _fault.name.startswith("patch-"):
        _fault.collateral.setdefault(
            "patch.random-sequences", "the sequences send the same kind of PATCH and compare with the model"
        )
