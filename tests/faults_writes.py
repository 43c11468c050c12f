"""Faults for versioning (RFC 7644 §3.14, prefix etag-), Bulk (§3.7, prefix bulk-) and /Me (§3.11,
prefix me-).

etag-version-frozen and the /Me faults keep a little module state (the first version seen of each
resource; nothing else): scim2-server never reuses an id, so what one run leaves cannot disturb the next.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlparse

from .faultkit import Forward, Request, Response, fault, on

ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST_URN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
RESOURCE_ENDPOINTS = ("Users", "Groups")


def _scim_error(status: int, detail: str) -> Response:
    body = Response(status, [("Content-Type", "application/scim+json")], b"")
    body.data = {"schemas": [ERROR_URN], "status": str(status), "detail": detail}
    return body


# -- versioning (RFC 7644 §3.14) ---------------------------------------------------------------------------


def _without_header(name: str, method: str | None = None):
    def apply(req: Request, forward: Forward) -> Response:
        if method is None or req.method == method:
            req.headers.pop(name, None)
        return forward(req)

    return apply


@fault("etag-header-missing", proves=["etag.header"])
def etag_header_missing(req: Request, forward: Forward) -> Response:
    """No ETag header on any answer (meta.version is still there)."""
    resp = forward(req)
    resp.set_header("ETag", None)
    return resp


@fault("etag-meta-version-differs", proves=["etag.meta-version"])
def etag_meta_version_differs(req: Request, forward: Forward) -> Response:
    """meta.version of a resource read by GET drops the weak prefix the ETag header has."""
    resp = forward(req)
    data = resp.data
    if on(req, "GET", item=True) and resp.status == 200 and isinstance(data, dict) \
            and isinstance(data.get("meta"), dict) and isinstance(data["meta"].get("version"), str):
        data["meta"]["version"] = data["meta"]["version"].removeprefix("W/")
        resp.data = data
    return resp


@fault("etag-if-none-match-ignored", proves=["etag.if-none-match-304"])
def etag_if_none_match_ignored(req: Request, forward: Forward) -> Response:
    """If-None-Match is ignored: a GET always answers 200 with the resource."""
    return _without_header("if-none-match")(req, forward)


@fault("etag-if-match-ignored-put", proves=["etag.if-match-stale-put"])
def etag_if_match_ignored_put(req: Request, forward: Forward) -> Response:
    """If-Match is ignored on PUT: a stale version overwrites the resource."""
    return _without_header("if-match", "PUT")(req, forward)


@fault("etag-if-match-ignored-patch", proves=["etag.if-match-stale-patch"])
def etag_if_match_ignored_patch(req: Request, forward: Forward) -> Response:
    """If-Match is ignored on PATCH: a stale version overwrites the resource."""
    return _without_header("if-match", "PATCH")(req, forward)


@fault("etag-if-match-strong-compare", proves=["etag.if-match-current"])
def etag_if_match_strong_compare(req: Request, forward: Forward) -> Response:
    """If-Match is compared strongly, so a weak tag never matches: every conditional write answers 412."""
    if req.method in ("PUT", "PATCH") and req.headers.get("if-match", "").strip().startswith("W/"):
        return _scim_error(412, "Failed to update. Resource has changed on the server")
    return forward(req)


FROZEN: dict[str, str] = {}  # resource path -> the first version seen (etag-version-frozen)


def _resource_path(req: Request, resp: Response) -> str | None:
    if req.endpoint in RESOURCE_ENDPOINTS and req.is_item:
        return req.path
    if on(req, "POST", item=False) and req.endpoint in RESOURCE_ENDPOINTS and resp.status == 201:
        return urlparse(resp.header("Location") or "").path or None
    return None


@fault("etag-version-frozen", proves=["etag.version-changes"])
def etag_version_frozen(req: Request, forward: Forward) -> Response:
    """A resource keeps the version it was created with, whatever changes (and that version always
    matches in If-Match and If-None-Match)."""
    frozen = FROZEN.get(req.path)
    if frozen and req.is_item:
        current = forward(Request("GET", req.path, {}, {k: v for k, v in req.headers.items()
                                                        if k == "authorization"}, b"")).header("ETag")
        for name in ("if-match", "if-none-match"):
            if req.headers.get(name, "").strip() == frozen and current:
                req.headers[name] = current
    resp = forward(req)
    path = _resource_path(req, resp)
    real = resp.header("ETag")
    if path and real and 200 <= resp.status < 300:
        version = FROZEN.setdefault(path, real)
        resp.set_header("ETag", version)
        data = resp.data
        if isinstance(data, dict) and isinstance(data.get("meta"), dict):
            data["meta"]["version"] = version
            resp.data = data
    elif path and real and resp.status == 304:
        resp.set_header("ETag", FROZEN.setdefault(path, real))
    return resp


# -- Bulk (RFC 7644 §3.7) ------------------------------------------------------------------------------------


def _bulk(req: Request, forward: Forward, change) -> Response:
    """Forward; on a 200 POST /Bulk, let ``change`` edit each result of Operations in place."""
    resp = forward(req)
    if on(req, "POST", "Bulk") and resp.status == 200 and isinstance(resp.data, dict):
        data = resp.data
        for result in data.get("Operations", []):
            change(result)
        resp.data = data
    return resp


def _failed(result: dict[str, Any]) -> bool:
    return str(result.get("status", "")).startswith(("4", "5"))


@fault("bulk-status-201", proves=["bulk.status-200"])
def bulk_status_201(req: Request, forward: Forward) -> Response:
    """A processed bulk request answers 201 instead of 200."""
    resp = forward(req)
    if on(req, "POST", "Bulk") and resp.status == 200:
        resp.status = 201
    return resp


@fault("bulk-response-wrong-urn", proves=["bulk.response-document"])
def bulk_response_wrong_urn(req: Request, forward: Forward) -> Response:
    """The bulk answer names the ListResponse URN instead of BulkResponse."""
    resp = forward(req)
    if on(req, "POST", "Bulk") and resp.status == 200:
        resp.data = {**resp.data, "schemas": [LIST_URN]}
    return resp


@fault("bulk-bulkid-dropped", proves=["bulk.bulkid-echoed"])
def bulk_bulkid_dropped(req: Request, forward: Forward) -> Response:
    """The results of POST operations leave out the client's bulkId."""
    return _bulk(req, forward, lambda r: r.pop("bulkId", None))


@fault("bulk-location-dropped", proves=["bulk.location"])
def bulk_location_dropped(req: Request, forward: Forward) -> Response:
    """No result carries location."""
    return _bulk(req, forward, lambda r: r.pop("location", None))


@fault("bulk-post-status-200", proves=["bulk.status-code"])
def bulk_post_status_200(req: Request, forward: Forward) -> Response:
    """A successful POST operation reports 200 instead of the 201 a single POST gets."""
    return _bulk(req, forward, lambda r: r.__setitem__("status", "200")
                 if r.get("method") == "POST" and r.get("status") == "201" else None)


@fault("bulk-error-without-response", proves=["bulk.error-response"],
       collateral={"bulk.error-description": "the error's detail was in the response that is dropped"})
def bulk_error_without_response(req: Request, forward: Forward) -> Response:
    """A failed operation reports its status but no response body."""
    return _bulk(req, forward, lambda r: r.pop("response", None) if _failed(r) else None)


@fault("bulk-error-without-detail", proves=["bulk.error-description"])
def bulk_error_without_detail(req: Request, forward: Forward) -> Response:
    """The Error of a failed operation has no detail, and its status no description."""
    return _bulk(req, forward, lambda r: r["response"].pop("detail", None)
                 if _failed(r) and isinstance(r.get("response"), dict) else None)


@fault("bulk-put-ignored", proves=["bulk.operations-applied"])
def bulk_put_ignored(req: Request, forward: Forward) -> Response:
    """A bulk PUT reports 200 but stores nothing new (it replaces the resource with what it was)."""
    if on(req, "POST", "Bulk") and isinstance(req.data, dict):
        data = req.data
        for op in data.get("Operations", []):
            if op.get("method") == "PUT" and isinstance(op.get("path"), str):
                now = forward(Request("GET", "/v2" + op["path"], {}, {k: v for k, v in req.headers.items()
                                                                       if k == "authorization"}, b""))
                if now.status == 200 and isinstance(now.data, dict):
                    op["data"] = {k: v for k, v in now.data.items() if k != "meta"}
        req.data = data
    return forward(req)


@fault("bulk-stops-after-error", proves=["bulk.continues-after-error"])
def bulk_stops_after_error(req: Request, forward: Forward) -> Response:
    """The server stops at the first failed operation even though the request sets no failOnErrors."""
    if on(req, "POST", "Bulk") and isinstance(req.data, dict) and "failOnErrors" not in req.data:
        req.data = {**req.data, "failOnErrors": 1}
    return forward(req)


@fault("bulk-ignores-fail-on-errors", proves=["bulk.fail-on-errors"])
def bulk_ignores_fail_on_errors(req: Request, forward: Forward) -> Response:
    """failOnErrors is ignored: every operation runs whatever fails."""
    if on(req, "POST", "Bulk") and isinstance(req.data, dict):
        data = req.data
        data.pop("failOnErrors", None)
        req.data = data
    return forward(req)


def _unresolved(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("bulkId:"):
        return uuid.uuid5(uuid.NAMESPACE_URL, value).hex  # a stable id that names no resource
    if isinstance(value, list):
        return [_unresolved(v) for v in value]
    if isinstance(value, dict):
        return {k: _unresolved(v) for k, v in value.items()}
    return value


@fault("bulk-bulkid-unresolved", proves=["bulk.bulkid-reference"])
def bulk_bulkid_unresolved(req: Request, forward: Forward) -> Response:
    """"bulkId:" references in operation data are not replaced by the new resources' ids."""
    if on(req, "POST", "Bulk") and isinstance(req.data, dict):
        data = req.data
        for op in data.get("Operations", []):
            if "data" in op:
                op["data"] = _unresolved(op["data"])
        req.data = data
    return forward(req)


def _bulk_limits(req: Request, forward: Forward) -> dict[str, Any]:
    spc = forward(Request("GET", "/v2/ServiceProviderConfig", {}, {}, b"")).data or {}
    return spc.get("bulk") or {}


@fault("bulk-max-operations-unenforced", proves=["bulk.max-operations-413"])
def bulk_max_operations_unenforced(req: Request, forward: Forward) -> Response:
    """maxOperations is not enforced: an over-long bulk request is processed (up to what the server can)."""
    if on(req, "POST", "Bulk") and isinstance(req.data, dict):
        limit = _bulk_limits(req, forward).get("maxOperations", 0)
        data = req.data
        if len(data.get("Operations", [])) > limit:
            data["Operations"] = data["Operations"][:limit]
            req.data = data
    return forward(req)


@fault("bulk-max-payload-unenforced", proves=["bulk.max-payload-413"])
def bulk_max_payload_unenforced(req: Request, forward: Forward) -> Response:
    """maxPayloadSize is not enforced: an oversized bulk request is processed."""
    if on(req, "POST", "Bulk") and isinstance(req.data, dict):
        limit = _bulk_limits(req, forward).get("maxPayloadSize", 0)
        if len(req.body) > limit:
            data = req.data
            for op in data.get("Operations", []):
                if isinstance(op.get("path"), str):
                    op["path"] = op["path"][:60]
            req.data = data
    return forward(req)


@fault("bulk-limit-not-stated", proves=["bulk.limit-in-error"])
def bulk_limit_not_stated(req: Request, forward: Forward) -> Response:
    """The 413 for an oversized bulk request does not say which limit was exceeded."""
    resp = forward(req)
    if on(req, "POST", "Bulk") and resp.status == 413:
        return _scim_error(413, "Request rejected")
    return resp


# -- /Me (RFC 7644 §3.11) ----------------------------------------------------------------------------------------


def _subject(req: Request, forward: Forward) -> Response:
    """GET of a User to stand for the authenticated subject: the first one listed, else a new one."""
    auth = {k: v for k, v in req.headers.items() if k == "authorization"}
    listed = forward(Request("GET", "/v2/Users", {"count": "1"}, auth, b"")).data or {}
    users = listed.get("Resources") or []
    if not users:
        made = Request("POST", "/v2/Users", {}, {**auth, "content-type": "application/scim+json"}, b"")
        made.data = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                     "userName": f"me-subject-{uuid.uuid4().hex[:8]}"}
        users = [forward(made).data]
    return forward(Request("GET", f"/v2/Users/{users[0]['id']}", {}, auth, b""))


@fault("me-404", proves=["me.unsupported-501"])
def me_404(req: Request, forward: Forward) -> Response:
    """/Me is unsupported and answers 404 instead of 501."""
    if on(req, "GET", "Me"):
        return _scim_error(404, "Resource Me not found")
    return forward(req)


@fault("me-redirect-302", proves=["me.redirect-308"])
def me_redirect_302(req: Request, forward: Forward) -> Response:
    """/Me redirects to the subject's User with 302 instead of 308."""
    if on(req, "GET", "Me"):
        user = _subject(req, forward)
        return Response(302, [("Location", user.header("Location") or "")], b"")
    return forward(req)


@fault("me-served-location-alias", proves=["me.location-permanent"])
def me_served_location_alias(req: Request, forward: Forward) -> Response:
    """/Me serves the subject's User, with Location naming /Me instead of the User."""
    if on(req, "GET", "Me"):
        user = _subject(req, forward)
        user.set_header("Location", (user.header("Location") or "").rsplit("/Users/", 1)[0] + "/Me")
        return user
    return forward(req)


@fault("me-served-list", proves=["me.served-resource"])
def me_served_list(req: Request, forward: Forward) -> Response:
    """/Me answers 200 with a ListResponse of Users instead of the subject's resource."""
    if on(req, "GET", "Me"):
        auth = {k: v for k, v in req.headers.items() if k == "authorization"}
        return forward(Request("GET", "/v2/Users", {"count": "1"}, auth, b""))
    return forward(req)
