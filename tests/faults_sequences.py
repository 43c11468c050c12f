"""Faults for the random PATCH/PUT sequences (RFC 7644 §3.5.2). Prefix: seq-.

Each breaks the server only in a way one PATCH on a fresh resource does not show: the single-operation
PATCH checks pass, the sequences see the resource drift from the model.
"""

from __future__ import annotations

from .faultkit import Forward, Request, Response, fault

RESOURCE_ENDPOINTS = ("Users", "Groups")
_patches: dict[str, int] = {}


@fault("seq-third-patch-lost", proves=["patch.random-sequences"])
def third_patch_lost(req: Request, forward: Forward) -> Response:
    """Every third PATCH of the same resource is acknowledged (204) but never stored, as a server
    whose write queue loses updates would: one or two PATCHes on a resource behave."""
    if req.method == "PATCH" and req.endpoint in RESOURCE_ENDPOINTS and req.is_item:
        count = _patches[req.path] = _patches.get(req.path, 0) + 1
        if count % 3 == 0:
            found = forward(Request("GET", req.path, {}, dict(req.headers), b""))
            if found.status == 200 and not req.query:
                return Response(204, [], b"")
    return forward(req)


_cache: dict[str, bytes] = {}  # the resource as the last PATCH left it
_put_since: set[str] = set()


@fault("seq-patch-after-put-stale", proves=["patch.random-sequences"])
def patch_after_put_stale(req: Request, forward: Forward) -> Response:
    """A PATCH is applied to the copy of the resource the previous PATCH left, as a server whose
    cache a PUT does not refresh: the PUT's values come undone by the next PATCH. A first PATCH, or
    PATCHes without a PUT between them, behave."""
    if not (req.endpoint in RESOURCE_ENDPOINTS and req.is_item):
        return forward(req)
    if req.method == "PUT":
        resp = forward(req)
        if 200 <= resp.status < 300:
            _put_since.add(req.path)
        return resp
    if req.method == "DELETE":
        _cache.pop(req.path, None)
        _put_since.discard(req.path)
        return forward(req)
    if req.method != "PATCH":
        return forward(req)
    if req.path in _put_since and req.path in _cache:
        forward(Request("PUT", req.path, {}, {**req.headers, "content-type": "application/scim+json"},
                        _cache[req.path]))
    _put_since.discard(req.path)
    resp = forward(req)
    if 200 <= resp.status < 300:
        found = forward(Request("GET", req.path, {}, dict(req.headers), b""))
        if found.status == 200:
            _cache[req.path] = found.body
    return resp
