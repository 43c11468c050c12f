"""Faults for bulkId references that need more than one pass (RFC 7644 §3.7.1, §3.7.2; prefix bulk-),
immutable attributes set by PUT (§3.5.1; prefix put-) and the resource's "schemas" during a PATCH
(§3.5.2; prefix patch-)."""

from __future__ import annotations

import json
from typing import Any

from .faultkit import Forward, Request, Response, fault, on
from .faults_writes import _scim_error, _unresolved

EXTENSION_PREFIX = "urn:ietf:params:scim:schemas:extension:"


def _bulk_ops(req: Request) -> list[dict[str, Any]]:
    data = req.data if on(req, "POST", "Bulk") else None
    ops = data.get("Operations") if isinstance(data, dict) else None
    return [op for op in ops if isinstance(op, dict)] if isinstance(ops, list) else []


def _leave_unresolved(req: Request, forward: Forward, which) -> Response:
    """Forward the bulk request with the "bulkId:" references in the data picked by ``which`` unresolved."""
    data = req.data
    for op in data["Operations"]:
        if isinstance(op.get("data"), dict):
            op["data"] = which(op["data"])
    req.data = data
    return forward(req)


@fault("bulk-circular-unresolved", proves=["bulk.circular-references"])
def bulk_circular_unresolved(req: Request, forward: Forward) -> Response:
    """Groups whose members reference each other by bulkId are created with the references left as
    they were (never resolved, no 409)."""
    ops = _bulk_ops(req)
    cyclic = ops and all(op.get("method") == "POST" and "Groups" in str(op.get("path")) for op in ops) and any(
        "bulkId:" in json.dumps(op.get("data", {}).get("members")) for op in ops)
    if not cyclic:
        return forward(req)
    return _leave_unresolved(req, forward, lambda d: {**d, "members": _unresolved(d.get("members"))})


@fault("bulk-extension-unresolved", proves=["bulk.bulkid-in-extension"])
def bulk_extension_unresolved(req: Request, forward: Forward) -> Response:
    """bulkId references inside extension attributes are not resolved (core ones still are)."""
    ops = _bulk_ops(req)
    if not any(k.startswith(EXTENSION_PREFIX) and "bulkId:" in json.dumps(v)
               for op in ops if isinstance(op.get("data"), dict) for k, v in op["data"].items()):
        return forward(req)
    return _leave_unresolved(req, forward, lambda d: {
        k: _unresolved(v) if k.startswith(EXTENSION_PREFIX) else v for k, v in d.items()})


def _stored(req: Request, forward: Forward) -> dict[str, Any]:
    got = forward(Request("GET", req.path, {}, dict(req.headers), b""))
    return got.data if got.status == 200 and isinstance(got.data, dict) else {}


@fault("put-immutable-unset-ignored", proves=["replace.immutable-set-when-unset"])
def put_immutable_unset_ignored(req: Request, forward: Forward) -> Response:
    """A PUT does not set the immutable members of a Group that has none yet (they are dropped)."""
    if on(req, "PUT", "Groups", item=True) and isinstance(req.data, dict) and req.data.get("members") \
            and not _stored(req, forward).get("members"):
        data = req.data
        data.pop("members")
        req.data = data
    return forward(req)


def _patch_ops(req: Request) -> list[dict[str, Any]]:
    data = req.data if req.method == "PATCH" and req.is_item else None
    ops = data.get("Operations") if isinstance(data, dict) else None
    return [op for op in ops if isinstance(op, dict)] if isinstance(ops, list) else []


def _extension_path(op: dict[str, Any]) -> bool:
    return str(op.get("path", "")).startswith(EXTENSION_PREFIX)


@fault("patch-schemas-from-request", proves=["patch.schemas-assumed"],
       collateral={"patch.replace.extension-urn-path": "its extension-path operation is dropped the same way",
                   "patch.random-sequences": "a random sequence may patch an extension attribute by URN path"})
def patch_schemas_from_request(req: Request, forward: Forward) -> Response:
    """PATCH operations are evaluated against the request's "schemas" (only the PatchOp URN), not the
    resource's: operations on extension attributes are silently dropped."""
    ops = _patch_ops(req)
    if any(_extension_path(op) for op in ops) and not any(op.get("path") == "schemas" for op in ops):
        data = req.data
        data["Operations"] = [op for op in ops if not _extension_path(op)]
        req.data = data
    return forward(req)


@fault("patch-schemas-change-unseen", proves=["patch.schemas-change-seen"])
def patch_schemas_change_unseen(req: Request, forward: Forward) -> Response:
    """Every operation is validated against the "schemas" the resource had before the request: an
    extension attribute is refused when its URN is added to schemas by an earlier operation."""
    ops = _patch_ops(req)
    if any(op.get("path") == "schemas" for op in ops) and any(_extension_path(op) for op in ops):
        had = {s.lower() for s in _stored(req, forward).get("schemas", [])}
        for op in ops:
            if _extension_path(op) and op["path"].rsplit(":", 1)[0].lower() not in had:
                return _scim_error(400, f"{op['path']} is not in the resource's schemas")
    return forward(req)


@fault("user-password-unchangeable", proves=["user.password.changeable"])
def user_password_unchangeable(req: Request, forward: Forward) -> Response:
    """changePassword is advertised, but a PATCH or PUT giving a User a new password is refused."""
    data = req.data if req.method in ("PATCH", "PUT") and req.endpoint == "Users" and req.is_item else None
    touches = isinstance(data, dict) and ("password" in data or any(
        isinstance(op, dict) and str(op.get("path", "")).lower() == "password" for op in data.get("Operations", [])))
    if touches:
        return _scim_error(400, "password cannot be changed")
    return forward(req)
