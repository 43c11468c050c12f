"""Faults proving the authentication checks (conformance/checks/rfc7644_s2_authentication.py) able to fail.

scim2-server refuses any request without its Bearer token. To let a request through, a fault puts
back the valid Authorization header it saw on the suite's own authenticated requests.
"""

from __future__ import annotations

from .faultkit import Forward, Request, Response, fault

_seen: dict[str, str] = {}


def _remember(req: Request, forward: Forward) -> Response:
    """Forward the request; remember an Authorization header the target accepted."""
    resp = forward(req)
    value = req.headers.get("authorization")
    if value and resp.status != 401:
        _seen["authorization"] = value
    return resp


def _let_through(req: Request, forward: Forward) -> Response:
    if "authorization" in _seen:
        req.headers["authorization"] = _seen["authorization"]
    return forward(req)


@fault("auth-open-without-credentials", proves=["auth.no-credentials.refused"])
def auth_open_without_credentials(req: Request, forward: Forward) -> Response:
    """A request without an Authorization header is served as if it had the valid token."""
    if "authorization" not in req.headers:
        return _let_through(req, forward)
    return _remember(req, forward)


@fault("auth-any-bearer-token", proves=["auth.bad-credential.refused"])
def auth_any_bearer_token(req: Request, forward: Forward) -> Response:
    """Any Bearer token is taken for the valid one."""
    value = req.headers.get("authorization", "")
    if value.lower().startswith("bearer ") and value != _seen.get("authorization", value):
        return _let_through(req, forward)
    return _remember(req, forward)


@fault("auth-any-scheme", proves=["auth.wrong-scheme.refused"])
def auth_any_scheme(req: Request, forward: Forward) -> Response:
    """A credential in any scheme other than Bearer (e.g. Basic) is taken for the valid token."""
    value = req.headers.get("authorization", "")
    if value and not value.lower().startswith("bearer "):
        return _let_through(req, forward)
    return _remember(req, forward)


@fault("auth-404-without-credentials", proves=["auth.no-credentials.refused"])
def auth_404_without_credentials(req: Request, forward: Forward) -> Response:
    """A request on one resource without credentials answers 404, as if the resource did not exist."""
    if "authorization" not in req.headers and req.is_item:
        body = b'{"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "404"}'
        return Response(404, [("Content-Type", "application/scim+json")], body)
    return forward(req)


@fault("auth-401-without-challenge", proves=["auth.www-authenticate"])
def auth_401_without_challenge(req: Request, forward: Forward) -> Response:
    """401 answers carry no WWW-Authenticate header."""
    resp = forward(req)
    if resp.status == 401:
        resp.set_header("WWW-Authenticate", None)
    return resp


@fault("auth-bearer-not-advertised", proves=["auth.bearer-advertised"])
def auth_bearer_not_advertised(req: Request, forward: Forward) -> Response:
    """/ServiceProviderConfig lists only HTTP Basic, while the target takes Bearer tokens."""
    resp = forward(req)
    data = resp.data
    if req.endpoint == "ServiceProviderConfig" and isinstance(data, dict):
        data["authenticationSchemes"] = [{"type": "httpbasic", "name": "HTTP Basic",
                                          "description": "Authentication with a user name and password"}]
        resp.data = data
    return resp
