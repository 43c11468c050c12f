"""Faults for the discovery checks (RFC 7644 §4, RFC 7643 §5-7)."""

from .faultkit import Forward, Request, Response, fault, on


@fault("spc-wrong-schema-urn", proves=["discovery.spc.answers"])
def spc_wrong_schema_urn(req: Request, forward: Forward) -> Response:
    """/ServiceProviderConfig names another schema."""
    resp = forward(req)
    if on(req, "GET", "ServiceProviderConfig") and resp.status == 200:
        resp.data = {**resp.data, "schemas": ["urn:example:wrong"]}
    return resp


@fault("schemas-not-a-list-response", proves=["discovery.schemas.list-response"])
def schemas_not_list(req: Request, forward: Forward) -> Response:
    """/Schemas answers a bare array instead of a ListResponse."""
    resp = forward(req)
    if on(req, "GET", "Schemas", item=False) and resp.status == 200:
        resp.data = {"schemas": ["urn:example:list"], "Resources": resp.data["Resources"]}
    return resp


@fault("resource-types-not-a-list-response", proves=["discovery.resource-types.list-response"])
def rts_not_list(req: Request, forward: Forward) -> Response:
    """/ResourceTypes answers with the wrong message URN."""
    resp = forward(req)
    if on(req, "GET", "ResourceTypes", item=False) and resp.status == 200:
        resp.data = {**resp.data, "schemas": ["urn:example:list"]}
    return resp


@fault("spc-applies-filter", proves=["discovery.filter-forbidden"])
def spc_applies_filter(req: Request, forward: Forward) -> Response:
    """A filter on /ServiceProviderConfig is silently ignored (200) instead of refused."""
    if on(req, "GET", "ServiceProviderConfig") and "filter" in req.query:
        req.query.pop("filter")
    return forward(req)
