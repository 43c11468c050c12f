"""Faults for the fuzz checks (conformance/checks/fuzz_robustness.py). Prefix: fuzz-.

Fuzzing is opt-in, so each fault asks its proof run for it (``settings``), with a small budget and only the
fuzz checks selected. scim2-server itself echoes a decoded CR/LF of the request path into Location (a
genuine deviation, see tests/test_fuzz.py), so fuzz.header-injection fails in every fuzz run on it: the
other faults declare it as collateral.
"""

from __future__ import annotations

from .faultkit import Forward, Request, Response, fault, on

FUZZ = {"fuzz": True, "select": ("fuzz.",), "fuzz_examples": 6}
INJECTION = {
    "fuzz.header-injection": "scim2-server echoes the decoded request path into Location (its own "
    "deviation), which every fuzz run sees"
}


def _crash(resp: Response) -> Response:
    resp.status = 500
    resp.headers = [("Content-Type", "text/plain")]
    resp.body = b"Internal Server Error"
    return resp


@fault("fuzz-500-on-non-ascii-name", proves=["fuzz.no-server-error"], collateral=INJECTION, settings=FUZZ)
def crash_on_non_ascii(req: Request, forward: Forward) -> Response:
    """A create or replace whose userName or displayName holds a character outside ASCII crashes the server
    (500, a plain-text body), as one encoding names into a legacy column would."""
    data = req.data
    if req.method in ("POST", "PUT") and req.endpoint in ("Users", "Groups") and isinstance(data, dict):
        names = [v for k, v in data.items() if k.lower() in ("username", "displayname") and isinstance(v, str)]
        if any(not n.isascii() for n in names):
            return _crash(Response(500, [], b""))
    return forward(req)


@fault("fuzz-active-as-string", proves=["fuzz.response-schema"], collateral=INJECTION, settings=FUZZ)
def active_as_string(req: Request, forward: Forward) -> Response:
    """A read of a user answers the boolean ``active`` as the string "true"/"false"."""
    resp = forward(req)
    if on(req, "GET", "Users", item=True) and resp.status == 200 and isinstance(resp.data, dict):
        data = resp.data
        if isinstance(data.get("active"), bool):
            data["active"] = str(data["active"]).lower()
            resp.data = data
    return resp


@fault("fuzz-location-from-path", proves=["fuzz.header-injection"], settings=FUZZ)
def location_from_path(req: Request, forward: Forward) -> Response:
    """Every answer on a resource carries a Location built from the decoded request path, unencoded (on
    top of what scim2-server already does for errors): a CR/LF in the path becomes a header line."""
    resp = forward(req)
    if req.endpoint in ("Users", "Groups") and req.is_item:
        resp.set_header("Location", "/v2/" + "/".join(req.segments))
    return resp
