"""RFC 7644 §3.11 — the /Me alias for the resource of the authenticated subject.

A service provider answers /Me in one of three ways: 501 Not Implemented when it does not support the
alias, a 308 redirect to the subject's resource, or the request served on that resource itself. Only
GET /Me is sent: the suite never creates, replaces or deletes anything through /Me (it would touch the
resource of whoever the credentials belong to). The credentials may belong to a client with no
resource of its own, so nothing here asks /Me to succeed.
"""

from __future__ import annotations

from typing import Any

from ..http import Reply
from ..registry import check
from ..support import field, resolve, show
from ..verdicts import NotApplicable, expect

REDIRECTS = (301, 302, 303, 307, 308)


def _me(ctx) -> Reply:
    return ctx.http.get("Me", follow_redirects=False)  # a redirect is one of the answers graded


def _resource_schemas(ctx) -> set[str]:
    return {rt.schema for rt in ctx.discovery.resource_types}


def _is_resource(ctx, body: Any) -> bool:
    """A resource of a declared type: an object with an id and the core schema of a resource type."""
    if not isinstance(body, dict) or not isinstance(field(body, "id"), str) or not field(body, "id"):
        return False
    schemas = field(body, "schemas")
    return isinstance(schemas, list) and bool(_resource_schemas(ctx) & set(schemas))


def _is_me(url: str) -> bool:
    path = url.split("?", 1)[0].split("#", 1)[0].rstrip("/")
    return path.lower().endswith("/me")


@check(
    "me.unsupported-501",
    "GET /Me answers 501 when the alias is not supported",
    requirements=["7644-3.11-03", "7644-3.11-02"],
    level="SHOULD",
)
def unsupported_501(ctx):
    """GET /Me answers one of the ways the RFC allows: the subject's resource (200), a 308 redirect to
    it, or, when the service provider does not support /Me, 501 Not Implemented. Any other answer (404,
    400, 405...) is how a server that does not support the alias answers when it ignores the
    recommendation of 501."""
    reply = _me(ctx)
    allowed = {200: "the resource served", 308: "a redirect", 501: "501 Not Implemented"}
    expect(reply.status in allowed or reply.status in REDIRECTS,
           f"GET /Me answered {reply.status}; a service provider without /Me support should answer 501 "
           "(the other allowed answers are the subject's resource or a 308 redirect to it)")
    ctx.passed(f"GET /Me answered {reply.status}: {allowed.get(reply.status, 'a redirect')}")


@check(
    "me.redirect-308",
    "A redirect from /Me is a 308 to the subject's resource",
    requirements=["7644-3.11-04"],
    level="MAY",
)
def redirect_308(ctx):
    """When /Me redirects, it does so with 308 Permanent Redirect (not 301, 302, 303 or 307), and the
    Location it names answers a GET with a resource."""
    reply = _me(ctx)
    if reply.status not in REDIRECTS:
        raise NotApplicable(f"GET /Me answered {reply.status}, not a redirect")
    expect(reply.status == 308, f"GET /Me redirects with {reply.status}; the RFC's redirect for /Me is 308")
    location = reply.headers.get("location")
    expect(location, "GET /Me answered 308 without a Location header")
    target = ctx.http.get(resolve(reply, location))
    expect(target.status == 200 and _is_resource(ctx, target.maybe_json()),
           f"GET /Me redirects to {location}, which answered {target.status} without a resource")
    ctx.passed(f"308 to {location}, which serves the resource")


@check(
    "me.served-resource",
    "A /Me answered directly is the subject's resource",
    requirements=["7644-3.11-06"],
    level="MAY",
)
def served_resource(ctx):
    """When the service provider serves GET /Me itself (200), the body is one resource of a declared
    resource type (an object with an id and that type's core schema), not a list or another message."""
    reply = _me(ctx)
    if reply.status != 200:
        raise NotApplicable(f"GET /Me answered {reply.status}, not 200")
    body = reply.maybe_json()
    expect(_is_resource(ctx, body),
           f"GET /Me answered 200 with {show(body)}; expected one resource with an id and the core schema "
           "of a declared resource type")
    ctx.passed(f"GET /Me served the resource {field(body, 'id')}")


@check(
    "me.location-permanent",
    "The Location of a /Me answer is the subject's resource, not /Me",
    requirements=["7644-3.11-07"],
    level="MUST",
)
def location_permanent(ctx):
    """When GET /Me serves the subject's resource (200) or redirects to it, the Location header is the
    permanent URL of that resource: present, not the /Me alias, and (for a 200) the URL the resource
    itself gives as meta.location or one ending in its id. A 501 or other refusal has no resource and is
    not graded here."""
    reply = _me(ctx)
    if reply.status != 200 and reply.status not in REDIRECTS:
        raise NotApplicable(f"GET /Me answered {reply.status}: there is no aliased resource to locate")
    location = reply.headers.get("location")
    expect(location, f"GET /Me answered {reply.status} without a Location header")
    url = resolve(reply, location)
    expect(not _is_me(url), f"GET /Me answered {reply.status} with Location {location}, the alias itself; "
                            "expected the permanent URL of the subject's resource")
    if reply.status == 200:
        body = reply.maybe_json()
        if not _is_resource(ctx, body):
            raise NotApplicable("GET /Me answered 200 without a resource; see me.served-resource")
        rid, meta_location = field(body, "id"), field(field(body, "meta"), "location")
        same = (isinstance(meta_location, str) and resolve(reply, meta_location).rstrip("/") == url.rstrip("/"))
        expect(same or url.rstrip("/").endswith("/" + rid),
               f"GET /Me answered the resource {rid} with Location {location}, which is neither its "
               f"meta.location ({show(meta_location)}) nor a URL ending in its id")
    else:
        target = ctx.http.get(url)
        expect(target.status == 200 and _is_resource(ctx, target.maybe_json()),
               f"GET /Me redirects to {location}, which answered {target.status} without a resource")
    ctx.passed(f"Location {location}")
