"""Faults for the random PATCH/PUT sequences (RFC 7644 §3.5.2). Prefix: seq-.

Each breaks the server only in a way one PATCH on a fresh resource does not show: the single-operation
PATCH checks pass, the sequences see the resource drift from the model.
"""

from __future__ import annotations

from .faultkit import FAULTS, Forward, Request, Response, fault

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


# Faults of single operations that the sequences rightly catch as well: they create, PUT, PATCH and DELETE
# the same way and compare every step with the model (including 404 for everything after a DELETE).
_SEQUENCES_ALSO_CATCH = {
    "err-not-found-as-400": "after the DELETE the sequences expect 404, and get 400",
    "life-deleted-still-patchable": "after the DELETE the sequences expect 404 to PATCH",
    "life-deleted-still-readable": "after the DELETE the sequences expect 404 to GET",
    "life-deleted-still-replaceable": "after the DELETE the sequences expect 404 to PUT",
    "life-put-creates": "after the DELETE the sequences expect 404 to PUT, which recreates the resource",
    "life-put-drops-active": "the sequences PUT active and read it back",
    "life-put-ignored": "the sequences PUT and read the new values back",
    "put-omitted-attribute-refused": "the sequences send PUTs that leave an optional attribute out",
}
_OTHERS_ALSO_CATCH = {
    "err-not-found-as-400": {"bulk.operations-applied": "a GET after a bulk DELETE answers 400, not 404"},
    "life-put-ignored": {"etag.if-match-current": "the PUT with the matching If-Match is ignored like any PUT"},
}


def _declare_collateral() -> None:
    from . import faults_errors, faults_groups, faults_lifecycle  # noqa: F401  (register their faults)

    for name, why in _SEQUENCES_ALSO_CATCH.items():
        FAULTS[name].collateral.setdefault("patch.random-sequences", why)
    for name, extra in _OTHERS_ALSO_CATCH.items():
        for check_id, why in extra.items():
            FAULTS[name].collateral.setdefault(check_id, why)


_declare_collateral()
