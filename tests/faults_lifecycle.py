"""Faults for the resource lifecycle checks: create (RFC 7644 §3.3), common attributes (RFC 7643
§3.1), retrieve (§3.4.1), replace (§3.5.1), delete (§3.6), media types (§3.8, §8.1) and the
User's password (RFC 7643 §4.1). Prefix: life-.

The soft-delete faults remember what was deleted (module state, keyed by path); ids are never
reused by scim2-server, so what one run leaves there cannot disturb the next.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from .faultkit import Forward, Request, Response, fault, on

RESOURCE_ENDPOINTS = ("Users", "Groups")
NAMING = {"Users": "userName", "Groups": "displayName"}
ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"

# path of a deleted resource -> its last representation (for the soft-delete faults)
DELETED: dict[str, dict[str, Any]] = {}


def _error(resp: Response, status: int, detail: str, scim_type: str | None = None) -> Response:
    resp.status = status
    body: dict[str, Any] = {"schemas": [ERROR_URN], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    resp.data = body
    resp.set_header("Content-Type", "application/scim+json")
    return resp


def _created(req: Request, resp: Response) -> bool:
    """A successful create on a resource endpoint (not .search, not /Bulk)."""
    return (
        req.method == "POST" and req.endpoint in RESOURCE_ENDPOINTS and len(req.segments) == 1
        and resp.status == 201 and isinstance(resp.data, dict)
    )


def _item(req: Request, method: str) -> bool:
    return req.method == method and req.endpoint in RESOURCE_ENDPOINTS and req.is_item


def _edit(resp: Response, edit) -> Response:
    data = resp.data
    edit(data)
    resp.data = data
    return resp


def _get(req: Request, forward: Forward) -> Response:
    return forward(Request("GET", req.path, {}, dict(req.headers), b""))


def _delete_remembered(req: Request, forward: Forward) -> Response:
    """Forward a DELETE, remembering the resource it removed."""
    before = _get(req, forward)
    resp = forward(req)
    if resp.status == 204 and before.status == 200 and isinstance(before.data, dict):
        DELETED[req.path] = before.data
    return resp


# -- create ----------------------------------------------------------------------------------------------


@fault("life-create-answers-200", proves=["create.status-201"])
def create_answers_200(req: Request, forward: Forward) -> Response:
    """A successful create answers 200 OK instead of 201 Created."""
    resp = forward(req)
    if _created(req, resp):
        resp.status = 200
    return resp


@fault("life-create-without-location", proves=["create.location-header"])
def create_without_location(req: Request, forward: Forward) -> Response:
    """The 201 of a create carries no Location header."""
    resp = forward(req)
    if _created(req, resp):
        resp.set_header("Location", None)
    return resp


@fault("life-create-empty-body", proves=["create.returns-resource"])
def create_empty_body(req: Request, forward: Forward) -> Response:
    """A create answers 201 with Location but an empty body."""
    resp = forward(req)
    if _created(req, resp):
        resp.body = b""
    return resp


@fault("life-create-answer-without-name", proves=["create.echoes-values"])
def create_answer_without_name(req: Request, forward: Forward) -> Response:
    """The create answer of a User leaves out the name it stored."""
    resp = forward(req)
    if _created(req, resp) and req.endpoint == "Users":
        resp = _edit(resp, lambda d: d.pop("name", None))
    return resp


@fault("life-create-resource-type-is-endpoint", proves=["create.meta.resource-type"])
def create_resource_type_is_endpoint(req: Request, forward: Forward) -> Response:
    """meta.resourceType of a created resource is the endpoint name ("Users"), not the type name."""
    resp = forward(req)
    if _created(req, resp):
        resp = _edit(resp, lambda d: d.get("meta", {}).update(resourceType=req.endpoint))
    return resp


@fault("life-create-adopts-client-id", proves=["create.client-id-ignored"])
def create_adopts_client_id(req: Request, forward: Forward) -> Response:
    """A create whose body carries an id answers with that id (the server-issued one is dropped)."""
    resp = forward(req)
    sent = req.data
    if _created(req, resp) and isinstance(sent, dict) and isinstance(sent.get("id"), str):
        real = resp.data["id"]
        forward(Request("DELETE", f"{req.path.rstrip('/')}/{real}", {}, dict(req.headers), b""))

        def adopt(d: dict[str, Any]) -> None:
            d["id"] = sent["id"]
            if isinstance(d.get("meta"), dict) and isinstance(d["meta"].get("location"), str):
                d["meta"]["location"] = d["meta"]["location"].replace(real, sent["id"])

        resp = _edit(resp, adopt)
        for name in ("Location", "Content-Location"):
            if resp.header(name):
                resp.set_header(name, resp.header(name).replace(real, sent["id"]))
    return resp


# -- common attributes ---------------------------------------------------------------------------------


@fault("life-create-answer-without-id", proves=["common.id-assigned"],
       collateral={"create.returns-resource": "an answer without id is not taken for the new resource",
                   "resources.core-json-schema": "the JSON Schemas of User and Group require id"})
def create_answer_without_id(req: Request, forward: Forward) -> Response:
    """The create answer holds no id (the Location header still names the resource)."""
    resp = forward(req)
    if _created(req, resp):
        resp = _edit(resp, lambda d: d.pop("id", None))
    return resp


@fault("life-create-without-last-modified", proves=["common.meta-assigned"])
def create_without_last_modified(req: Request, forward: Forward) -> Response:
    """The create answer's meta has no lastModified."""
    resp = forward(req)
    if _created(req, resp):
        resp = _edit(resp, lambda d: d.get("meta", {}).pop("lastModified", None))
    return resp


def _later(value: str) -> str:
    when = dt.datetime.fromisoformat(value.replace("Z", "+00:00")) + dt.timedelta(microseconds=1)
    return when.isoformat().replace("+00:00", "Z")


@fault("life-create-last-modified-after-created", proves=["common.meta.last-modified-equals-created"],
       collateral={"replace.keeps-id-and-created": "the server's own lastModified, seen after a PUT, is earlier "
                                                   "than the one the fault put in the create answer"})
def create_last_modified_after_created(req: Request, forward: Forward) -> Response:
    """A new resource's lastModified is a moment after its created (two clocks read one after the other)."""
    resp = forward(req)
    if _created(req, resp):
        meta = resp.data.get("meta", {})
        if isinstance(meta.get("created"), str):
            resp = _edit(resp, lambda d: d["meta"].update(lastModified=_later(meta["created"])))
    return resp


@fault("life-create-takes-client-meta", proves=["common.meta-from-client-ignored"])
def create_takes_client_meta(req: Request, forward: Forward) -> Response:
    """A create that carries meta.created gets that date as its created."""
    resp = forward(req)
    sent = req.data
    if _created(req, resp) and isinstance(sent, dict) and isinstance(sent.get("meta"), dict):
        created = sent["meta"].get("created")
        if isinstance(created, str):
            resp = _edit(resp, lambda d: d.get("meta", {}).update(created=created, lastModified=created))
    return resp


# -- retrieve --------------------------------------------------------------------------------------------


@fault("life-get-id-upper-case", proves=["retrieve.same-id"])
def get_id_upper_case(req: Request, forward: Forward) -> Response:
    """A GET returns the resource's id in another form (upper case) than the create issued."""
    resp = forward(req)
    if _item(req, "GET") and resp.status == 200 and isinstance(resp.data, dict):
        resp = _edit(resp, lambda d: d.update(id=str(d.get("id", "")).upper()))
    return resp


@fault("life-get-content-location-without-base", proves=["retrieve.content-location"])
def get_content_location_without_base(req: Request, forward: Forward) -> Response:
    """A GET's Content-Location leaves out the /v2 base path that meta.location has."""
    resp = forward(req)
    if _item(req, "GET") and resp.status == 200 and resp.header("Content-Location"):
        resp.set_header("Content-Location", resp.header("Content-Location").replace("/v2/", "/", 1))
    return resp


# -- replace -----------------------------------------------------------------------------------------------


@fault("life-put-resets-created", proves=["replace.keeps-id-and-created"])
def put_resets_created(req: Request, forward: Forward) -> Response:
    """The PUT answer gives the resource a new meta.created: the moment of the replace."""
    resp = forward(req)
    if _item(req, "PUT") and resp.status == 200 and isinstance(resp.data, dict):
        now = dt.datetime.now(dt.UTC)
        resp = _edit(resp, lambda d: d.get("meta", {}).update(created=now.isoformat().replace("+00:00", "Z")))
    return resp


@fault("life-put-changes-id", proves=["replace.keeps-id-and-created"])
def put_changes_id(req: Request, forward: Forward) -> Response:
    """The PUT answer names the resource by a new id (as if the replace had made another resource)."""
    resp = forward(req)
    if _item(req, "PUT") and resp.status == 200 and isinstance(resp.data, dict) and "id" in resp.data:
        resp = _edit(resp, lambda d: d.update(id=str(d["id"]) + "-replaced"))
    return resp


@fault("life-put-ignored", proves=["replace.value-stored"],
       collateral={"replace.user-deactivate-reactivate": "the same ignored PUT does not store active"})
def put_ignored(req: Request, forward: Forward) -> Response:
    """A PUT answers 200 with the resource as it was: nothing sent is stored."""
    if _item(req, "PUT"):
        return _get(req, forward)
    return forward(req)


@fault("life-put-creates", proves=["replace.unknown-id-not-created"],
       collateral={"delete.then-put-404": "a PUT on a deleted id creates the resource again, as on any unknown id"})
def put_creates(req: Request, forward: Forward) -> Response:
    """A PUT on an id that does not exist creates the resource (an upsert)."""
    resp = forward(req)
    if _item(req, "PUT") and resp.status == 404 and isinstance(req.data, dict):
        body = {k: v for k, v in req.data.items() if k != "id"}
        collection = req.path.rstrip("/").rsplit("/", 1)[0]
        created = forward(Request("POST", collection, {}, dict(req.headers), _json(body)))
        if created.status == 201:
            return created
    return resp


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


@fault("life-put-drops-active", proves=["replace.user-deactivate-reactivate"])
def put_drops_active(req: Request, forward: Forward) -> Response:
    """A PUT of a User does not apply active (the value sent is dropped before it is stored)."""
    if _item(req, "PUT") and req.endpoint == "Users" and isinstance(req.data, dict) and "active" in req.data:
        data = req.data
        data.pop("active")
        req.data = data
    return forward(req)


# -- delete ---------------------------------------------------------------------------------------------------


@fault("life-delete-answers-200", proves=["delete.status-204"])
def delete_answers_200(req: Request, forward: Forward) -> Response:
    """A successful DELETE answers 200 OK instead of 204 No Content."""
    resp = forward(req)
    if _item(req, "DELETE") and resp.status == 204:
        resp.status = 200
    return resp


@fault("life-deleted-still-readable", proves=["delete.then-get-404"])
def deleted_still_readable(req: Request, forward: Forward) -> Response:
    """Soft delete: a deleted resource can still be read with GET."""
    if _item(req, "DELETE"):
        return _delete_remembered(req, forward)
    if _item(req, "GET") and req.path in DELETED:
        return Response(200, [("Content-Type", "application/scim+json")], _json(DELETED[req.path]))
    return forward(req)


@fault("life-deleted-still-replaceable", proves=["delete.then-put-404"])
def deleted_still_replaceable(req: Request, forward: Forward) -> Response:
    """Soft delete: a PUT on a deleted resource answers 200 as if it still existed."""
    if _item(req, "DELETE"):
        return _delete_remembered(req, forward)
    if _item(req, "PUT") and req.path in DELETED and isinstance(req.data, dict):
        body = {**DELETED[req.path], **req.data, "id": DELETED[req.path].get("id")}
        return Response(200, [("Content-Type", "application/scim+json")], _json(body))
    return forward(req)


@fault("life-deleted-still-patchable", proves=["delete.then-patch-404"])
def deleted_still_patchable(req: Request, forward: Forward) -> Response:
    """Soft delete: a PATCH on a deleted resource answers 204."""
    if _item(req, "DELETE"):
        return _delete_remembered(req, forward)
    if _item(req, "PATCH") and req.path in DELETED:
        return Response(204, [], b"")
    return forward(req)


@fault("life-delete-idempotent", proves=["delete.then-delete-404"])
def delete_idempotent(req: Request, forward: Forward) -> Response:
    """A DELETE of a resource already deleted answers 204 again."""
    if _item(req, "DELETE"):
        if req.path in DELETED:
            return Response(204, [], b"")
        return _delete_remembered(req, forward)
    return forward(req)


@fault("life-deleted-still-listed", proves=["delete.omitted-from-queries"])
def deleted_still_listed(req: Request, forward: Forward) -> Response:
    """Soft delete: a filter still finds deleted resources that match it."""
    if _item(req, "DELETE"):
        return _delete_remembered(req, forward)
    resp = forward(req)
    if on(req, "GET", item=False) and req.endpoint in RESOURCE_ENDPOINTS and len(req.segments) == 1 \
            and resp.status == 200 and "filter" in req.query and isinstance(resp.data, dict):
        attr = NAMING[req.endpoint]
        ghosts = [body for path, body in DELETED.items()
                  if path.split("/")[-2] == req.endpoint and f'"{body.get(attr)}"' in req.query["filter"]]
        if ghosts:
            def add(d: dict[str, Any]) -> None:
                d["Resources"] = [*d.get("Resources", []), *ghosts]
                d["totalResults"] = d.get("totalResults", 0) + len(ghosts)
                d["itemsPerPage"] = len(d["Resources"])

            resp = _edit(resp, add)
    return resp


@fault("life-deleted-name-conflicts", proves=["delete.recreate-same-name"])
def deleted_name_conflicts(req: Request, forward: Forward) -> Response:
    """A deleted resource still holds its name: creating one with the same name answers 409."""
    if _item(req, "DELETE"):
        return _delete_remembered(req, forward)
    sent = req.data
    if req.method == "POST" and req.endpoint in RESOURCE_ENDPOINTS and len(req.segments) == 1 \
            and isinstance(sent, dict):
        attr = NAMING[req.endpoint]
        taken = {str(b.get(attr)).lower() for p, b in DELETED.items() if p.split("/")[-2] == req.endpoint}
        if str(sent.get(attr)).lower() in taken:
            return _error(Response(409, [], b""), 409, f"{attr} is already taken", "uniqueness")
    return forward(req)


# -- media types -----------------------------------------------------------------------------------------------


@fault("life-get-labelled-plain-json", proves=["media.response-content-type"])
def get_labelled_plain_json(req: Request, forward: Forward) -> Response:
    """A GET of a resource is labelled application/json instead of application/scim+json."""
    resp = forward(req)
    if _item(req, "GET") and resp.status == 200:
        resp.set_header("Content-Type", "application/json")
    return resp


@fault("life-accept-json-406", proves=["media.accept-json"])
def accept_json_406(req: Request, forward: Forward) -> Response:
    """A request that accepts only application/json is refused with 406 Not Acceptable."""
    if req.headers.get("accept", "").strip().lower() == "application/json":
        return _error(Response(406, [], b""), 406, "only application/scim+json is served")
    return forward(req)


@fault("life-json-request-415", proves=["media.json-request-accepted"])
def json_request_415(req: Request, forward: Forward) -> Response:
    """A request body labelled application/json is refused with 415 Unsupported Media Type."""
    if req.body and req.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json":
        return _error(Response(415, [], b""), 415, "send application/scim+json")
    return forward(req)


@fault("life-reads-latin-1", proves=["media.utf8-round-trip"])
def reads_latin_1(req: Request, forward: Forward) -> Response:
    """Request bodies are decoded as Latin-1, so non-ASCII UTF-8 text is stored garbled."""
    if req.method in ("POST", "PUT", "PATCH") and any(b > 127 for b in req.body):
        req.body = req.body.decode("latin-1").encode("utf-8")
    return forward(req)


# -- the User's password ------------------------------------------------------------------------------------------

@fault("life-create-echoes-initial-password", proves=["user.password.value-not-echoed"])
def create_echoes_initial_password(req: Request, forward: Forward) -> Response:
    """The create answer of a User repeats the password it was given, as a vendor "initialPassword"."""
    resp = forward(req)
    sent = req.data
    if _created(req, resp) and req.endpoint == "Users" and isinstance(sent, dict) and sent.get("password"):
        resp = _edit(resp, lambda d: d.update({"initialPassword": sent["password"]}))
    return resp


@fault("life-list-returns-password-hash", proves=["user.password.not-in-list"])
def list_returns_password_hash(req: Request, forward: Forward) -> Response:
    """Users listed by a query carry their password hash."""
    resp = forward(req)
    if on(req, "GET", "Users", item=False) and len(req.segments) == 1 and resp.status == 200 \
            and isinstance(resp.data, dict):
        def add(d: dict[str, Any]) -> None:
            for user in d.get("Resources", []):
                user["password"] = "{SSHA}c2NpbS1jb25mb3JtYW5jZQ=="

        resp = _edit(resp, add)
    return resp
