"""RFC 7643 §5 — the ServiceProviderConfig document: one feature block per check, the
authentication schemes, and the document as a whole against its JSON Schema.

The document is the one discovery read at the start of the run (``ctx.discovery.spc_reply``); only
the unauthenticated read asks the target again. Attribute names are matched case-insensitively,
as SCIM attribute names are.
"""

from __future__ import annotations

from typing import Any

from .. import jsonschemas
from ..registry import check
from ..support import describe, discovery_object, get_ci, is_integer
from ..verdicts import NotApplicable, Violation, expect

# -- the feature blocks -------------------------------------------------------------------------------


def _spc(ctx) -> dict[str, Any]:
    return discovery_object(ctx, ctx.discovery.spc_reply, "/ServiceProviderConfig")


def _feature_block(ctx, feature: str, integers: tuple[str, ...] = ()) -> str:
    """Check one feature block: a complex value with a boolean supported and the given integers."""
    present, block = get_ci(_spc(ctx), feature)
    expect(present, f"/ServiceProviderConfig has no {feature!r} attribute; it is required even when the "
                    "feature is not supported")
    expect(isinstance(block, dict), f"{feature} is {describe(block)}; expected a complex value (a JSON object)")
    problems = []
    for sub in ("supported", *integers):
        has, value = get_ci(block, sub)
        if not has:
            problems.append(f"{feature}.{sub} is missing")
        elif sub == "supported" and not isinstance(value, bool):
            problems.append(f"{feature}.supported is {describe(value)}; expected true or false")
        elif sub != "supported" and not is_integer(value):
            problems.append(f"{feature}.{sub} is {describe(value)}; expected an integer")
    if problems:
        raise Violation("; ".join(problems) + " (required even when the feature is not supported)")
    return ", ".join(f"{k}={get_ci(block, k)[1]!r}" for k in ("supported", *integers))


@check(
    "discovery.spc.patch",
    "ServiceProviderConfig describes PATCH support",
    requirements=["7643-5-02", "7643-5-03"],
    level="MUST",
)
def spc_patch(ctx):
    """The ServiceProviderConfig has a ``patch`` object whose ``supported`` is a boolean."""
    ctx.passed("patch: " + _feature_block(ctx, "patch"))


@check(
    "discovery.spc.bulk",
    "ServiceProviderConfig describes bulk support and its limits",
    requirements=["7643-5-04", "7643-5-05", "7643-5-06", "7643-5-07"],
    level="MUST",
)
def spc_bulk(ctx):
    """The ServiceProviderConfig has a ``bulk`` object with a boolean ``supported`` and the integers
    ``maxOperations`` and ``maxPayloadSize`` (all three are required whether or not bulk is supported)."""
    ctx.passed("bulk: " + _feature_block(ctx, "bulk", ("maxOperations", "maxPayloadSize")))


@check(
    "discovery.spc.filter",
    "ServiceProviderConfig describes filter support and its result limit",
    requirements=["7643-5-08", "7643-5-09", "7643-5-10"],
    level="MUST",
)
def spc_filter(ctx):
    """The ServiceProviderConfig has a ``filter`` object with a boolean ``supported`` and the integer
    ``maxResults``."""
    ctx.passed("filter: " + _feature_block(ctx, "filter", ("maxResults",)))


@check(
    "discovery.spc.change-password",
    "ServiceProviderConfig describes password change support",
    requirements=["7643-5-11", "7643-5-12"],
    level="MUST",
)
def spc_change_password(ctx):
    """The ServiceProviderConfig has a ``changePassword`` object whose ``supported`` is a boolean."""
    ctx.passed("changePassword: " + _feature_block(ctx, "changePassword"))


@check(
    "discovery.spc.sort",
    "ServiceProviderConfig describes sorting support",
    requirements=["7643-5-13", "7643-5-14"],
    level="MUST",
)
def spc_sort(ctx):
    """The ServiceProviderConfig has a ``sort`` object whose ``supported`` is a boolean."""
    ctx.passed("sort: " + _feature_block(ctx, "sort"))


@check(
    "discovery.spc.etag",
    "ServiceProviderConfig describes ETag support",
    requirements=["7643-5-15", "7643-5-16"],
    level="MUST",
)
def spc_etag(ctx):
    """The ServiceProviderConfig has an ``etag`` object whose ``supported`` is a boolean."""
    ctx.passed("etag: " + _feature_block(ctx, "etag"))


# -- authentication schemes ---------------------------------------------------------------------------


@check(
    "discovery.spc.authentication-schemes",
    "ServiceProviderConfig lists its authentication schemes, each with type, name and description",
    requirements=["7643-5-18", "7643-5-19", "7643-5-20", "7643-5-21"],
    level="MUST",
)
def spc_authentication_schemes(ctx):
    """``authenticationSchemes`` is a non-empty list (an empty list counts as unassigned); every
    entry is an object with non-empty string ``type``, ``name`` and ``description``."""
    present, schemes = get_ci(_spc(ctx), "authenticationSchemes")
    expect(present, "/ServiceProviderConfig has no authenticationSchemes attribute")
    expect(isinstance(schemes, list), f"authenticationSchemes is {describe(schemes)}; expected a list")
    expect(schemes, "authenticationSchemes is an empty list; at least one scheme must be described")
    problems = []
    for i, scheme in enumerate(schemes):
        if not isinstance(scheme, dict):
            problems.append(f"authenticationSchemes[{i}] is {describe(scheme)}, not an object")
            continue
        for sub in ("type", "name", "description"):
            has, value = get_ci(scheme, sub)
            if not has:
                problems.append(f"authenticationSchemes[{i}] has no {sub}")
            elif not isinstance(value, str) or not value.strip():
                problems.append(f"authenticationSchemes[{i}].{sub} is {describe(value)}; expected a non-empty string")
    if problems:
        raise Violation("; ".join(problems))
    kinds = ", ".join(str(get_ci(s, "type")[1]) for s in schemes)
    ctx.passed(f"{len(schemes)} scheme(s): {kinds}")


@check(
    "discovery.spc.authentication-schemes-public",
    "The authentication schemes can be read without credentials",
    requirements=["7643-5-17"],
    level="SHOULD",
)
def spc_authentication_schemes_public(ctx):
    """A client that has no credentials yet should be able to learn how to authenticate: GET
    /ServiceProviderConfig without an Authorization header should answer 200 with the same
    ``authenticationSchemes`` as the authenticated read."""
    known = get_ci(_spc(ctx), "authenticationSchemes")[1]
    if not isinstance(known, list) or not known:
        raise NotApplicable("the authenticated read lists no authenticationSchemes either; "
                            "see discovery.spc.authentication-schemes")
    reply = ctx.http.get("ServiceProviderConfig", auth=False)
    if reply.status != 200:
        raise Violation(
            f"GET /ServiceProviderConfig without credentials answered {reply.status}; the authentication "
            "schemes should be readable before authenticating"
        )
    body = reply.maybe_json()
    schemes = get_ci(body, "authenticationSchemes")[1] if isinstance(body, dict) else None
    expect(
        isinstance(schemes, list) and schemes,
        "the unauthenticated reply carries no authenticationSchemes, while the authenticated one lists "
        f"{len(known)}",
    )
    ctx.passed(f"readable without credentials: {len(schemes)} scheme(s)")


# -- the whole document -----------------------------------------------------------------------------


@check(
    "discovery.spc.valid-document",
    "ServiceProviderConfig matches the RFC 7643 §5 schema as a whole",
    requirements=["7643-5-02", "7643-5-04", "7643-5-08", "7643-5-11", "7643-5-13", "7643-5-15", "7643-5-18",
                  "7643-3-05"],
    level="MUST",
)
def spc_valid_document(ctx):
    """The document validates against schemas/service-provider-config.schema.json: every required
    block with its sub-attributes and their types, the authentication scheme entries, and a
    ``schemas`` list without duplicates."""
    found = jsonschemas.problems("service-provider-config", _spc(ctx))
    if found:
        raise Violation("the ServiceProviderConfig breaks its schema: " + "; ".join(found))
    ctx.passed("valid against service-provider-config.schema.json")
