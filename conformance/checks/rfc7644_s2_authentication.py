"""Authentication (RFC 7644 §2, §3.12 Table 8): what the target does with a request that carries no
credentials, a credential it never issued, or a credential in a scheme it does not take.

https://www.rfc-editor.org/rfc/rfc7644#section-2 and https://www.rfc-editor.org/rfc/rfc7644#section-3.12

Every probe is safe on a live tenant: the requests that would change data aim only at a resource
this check created (with the run's real credentials) and deleted afterwards; a create that a target
wrongly accepts is tracked and deleted like any other; the listing probe is bounded by a filter on
that resource's own name; the bulk probe holds no operation.

Whether /ServiceProviderConfig is readable without credentials (RFC 7643 §5, SHOULD) is checked by
``discovery.spc.authentication-schemes-public``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..auth import scheme_of, wrong_credentials, wrong_scheme
from ..http import Reply
from ..payloads import naming_attribute
from ..registry import check
from ..support import get_ci
from ..verdicts import NotApplicable, Violation

BULK_URN = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
SEARCH_URN = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
# An auth-scheme token at the start of a challenge (RFC 7235 §2.1).
CHALLENGE = re.compile(r"^\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+(\s|,|$)")
# Answers that refuse the request for want of valid credentials (RFC 7644 Table 8: 401, and 403 for a
# request the given authorization does not permit).
REFUSALS = (401, 403)


@dataclass
class Probe:
    label: str  # e.g. "PATCH /Users/{id}"
    reply: Reply


def _modes(ctx) -> dict[str, dict[str, str] | None]:
    return {"none": None, "wrong": wrong_credentials(ctx.http), "scheme": wrong_scheme(ctx.http)}


def _has_credentials(ctx) -> bool:
    return ctx.http.auth is not None or bool(ctx.http.auth_headers)


def _probe_all(ctx, headers: dict[str, str] | None) -> list[Probe]:
    """Send each endpoint and method once with ``headers`` instead of the run's credentials."""
    kw = {"auth": False, "headers": headers or {}}
    probes: list[Probe] = []
    filtering = ctx.discovery.supports("filter")
    for rt in ctx.resource_types():
        attr = naming_attribute(ctx.discovery, rt)
        own = ctx.created_ok(rt)  # with the run's real credentials; deleted when the check ends
        name = get_ci(own.sent, attr)[1] if attr else None
        if filtering and isinstance(name, str):
            query = {"filter": f'{attr} eq "{name}"'}
            probes.append(Probe(f"GET {rt.endpoint}?filter", ctx.http.get(rt.path, params=query, **kw)))
            search = {"schemas": [SEARCH_URN], "filter": query["filter"]}
            probes.append(Probe(f"POST {rt.endpoint}/.search", ctx.http.post(f"{rt.path}/.search", search, **kw)))
        probes.append(Probe(f"GET {rt.endpoint}/{{id}}", ctx.http.get(own.path, **kw)))
        created = ctx.create(rt, **kw)  # tracked and deleted should the target accept it
        probes.append(Probe(f"POST {rt.endpoint}", created.reply))
        replacement = {**own.sent, "id": own.id}
        probes.append(Probe(f"PUT {rt.endpoint}/{{id}}", ctx.http.put(own.path, replacement, **kw)))
        if attr and isinstance(name, str):
            ops = {"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": attr, "value": name}]}
            probes.append(Probe(f"PATCH {rt.endpoint}/{{id}}", ctx.http.patch(own.path, ops, **kw)))
        probes.append(Probe(f"DELETE {rt.endpoint}/{{id}}", ctx.http.delete(own.path, **kw)))
    if ctx.discovery.supports("bulk"):
        empty = {"schemas": [BULK_URN], "Operations": []}
        probes.append(Probe("POST /Bulk", ctx.http.post("Bulk", empty, **kw)))
    return probes


def _judge(ctx, mode: str, what: str) -> None:
    if not _has_credentials(ctx):
        raise NotApplicable("the run was given no credentials, so the target is used without authentication")
    headers = _modes(ctx)[mode]
    if mode != "none" and headers is None:
        raise NotApplicable("the run's credentials give nothing to forge")
    probes = _probe_all(ctx, headers)
    served = [f"{p.label} → {p.reply.status}" for p in probes if 200 <= p.reply.status < 400]
    other = [f"{p.label} → {p.reply.status}" for p in probes
             if p.reply.status not in REFUSALS and not 200 <= p.reply.status < 400]
    if served:
        raise Violation(f"served with {what}: " + ", ".join(served)
                        + (f"; not refused with 401 either: {', '.join(other)}" if other else ""))
    if other:
        raise Violation(f"with {what} the target should answer 401 (RFC 7644 Table 8), but: " + ", ".join(other))
    statuses = sorted({p.reply.status for p in probes})
    ctx.passed(f"{len(probes)} requests with {what} refused ({', '.join(map(str, statuses))})")


@check(
    "auth.no-credentials.refused",
    "Every endpoint and method refuses a request without credentials",
    requirements=["7644-3.12-05"],
    level="SHOULD",
)
def no_credentials_refused(ctx):
    """Without an Authorization header (and without any --header the run authenticates with), each
    resource endpoint answers 401 to GET, POST, PUT, PATCH, DELETE and .search, as does /Bulk. A
    2xx means data was served or changed without credentials; 403 is accepted as a refusal; any
    other answer (404, 400, 5xx) misleads a client about why it was refused."""
    _judge(ctx, "none", "no credentials")


@check(
    "auth.bad-credential.refused",
    "Every endpoint and method refuses a credential the target never issued",
    requirements=["7644-3.12-05"],
    level="SHOULD",
)
def bad_credential_refused(ctx):
    """The run's own scheme with a made-up secret (a random Bearer token, or the Basic user with a
    random password) is refused with 401 on every endpoint and method."""
    _judge(ctx, "wrong", "a made-up credential")


@check(
    "auth.wrong-scheme.refused",
    "Every endpoint and method refuses a credential in a scheme the run does not use",
    requirements=["7644-3.12-05"],
    level="SHOULD",
)
def wrong_scheme_refused(ctx):
    """A credential in another scheme (Basic when the run uses Bearer, else Bearer) is refused with
    401 on every endpoint and method, not taken for a valid one."""
    _judge(ctx, "scheme", "a credential in another scheme")


@check(
    "auth.www-authenticate",
    "A 401 names the supported authentication schemes in WWW-Authenticate",
    requirements=["7644-2-06"],
    level="MUST",
)
def www_authenticate(ctx):
    """Each 401 answer to a request without credentials or with a made-up one carries a
    WWW-Authenticate header with at least one challenge (RFC 7235 §4.1), so a client learns how to
    authenticate. Probes GET on each resource endpoint and on one of the check's own resources."""
    if not _has_credentials(ctx):
        raise NotApplicable("the run was given no credentials, so the target is used without authentication")
    seen: list[str] = []
    missing: list[str] = []
    for mode, headers in _modes(ctx).items():
        if mode != "none" and headers is None:
            continue
        for rt in ctx.resource_types():
            for label, path in ((f"GET {rt.endpoint}/{{id}}", f"{rt.path}/{_ABSENT}"),
                                (f"GET {rt.endpoint}?count=0", rt.path)):
                params = {"count": 0} if "?" in label else None
                reply = ctx.http.get(path, params=params, auth=False, headers=headers or {})
                if reply.status != 401:
                    continue
                seen.append(label)
                challenge = reply.headers.get("www-authenticate", "")
                if not CHALLENGE.match(challenge):
                    what = f"WWW-Authenticate {challenge!r}" if challenge else "no WWW-Authenticate"
                    missing.append(f"{label} ({_MODE_TEXT[mode]}) answered 401 with {what}")
    if not seen:
        raise NotApplicable("the target answered no probe with 401; see the auth.*.refused checks")
    if missing:
        raise Violation("; ".join(missing))
    ctx.passed(f"{len(seen)} answers 401, each with a WWW-Authenticate challenge")


_ABSENT = "sct-no-such-id-0000"
_MODE_TEXT = {"none": "no credentials", "wrong": "made-up credential", "scheme": "another scheme"}


BEARER_TYPES = ("oauthbearertoken", "oauth2", "oauth")


@check(
    "auth.bearer-advertised",
    "A target that takes the suite's Bearer token lists a bearer scheme in authenticationSchemes",
    requirements=["7644-2-02"],
    level="MAY",
)
def bearer_advertised(ctx):
    """The run authenticates with a Bearer token (``--token`` or OAuth) and the target takes it, so its
    /ServiceProviderConfig authenticationSchemes should say so with an entry of type oauthbearertoken
    (or oauth2/oauth), letting a client discover how to authenticate."""
    scheme = scheme_of(ctx.http)
    if scheme is None or scheme.lower() != "bearer":
        raise NotApplicable(f"the run authenticates with {scheme or 'no Authorization scheme'}, not a Bearer token")
    spc = ctx.discovery.spc
    if not spc:
        raise NotApplicable("no /ServiceProviderConfig to read; see the discovery checks")
    if ctx.discovery.spc_reply is not None:
        ctx.attach(ctx.discovery.spc_reply.exchange)
    schemes = get_ci(spc, "authenticationSchemes")[1]
    if not isinstance(schemes, list) or not schemes:
        raise NotApplicable("authenticationSchemes lists nothing; see discovery.spc.authentication-schemes")
    types = [str(get_ci(s, "type")[1]).lower() for s in schemes if isinstance(s, dict)]
    if not any(t in BEARER_TYPES for t in types):
        raise Violation(f"the target takes the suite's Bearer token, but authenticationSchemes lists only "
                        f"{', '.join(types) or 'entries without a type'}")
    ctx.passed(f"authenticationSchemes lists {', '.join(t for t in types if t in BEARER_TYPES)}")
