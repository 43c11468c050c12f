"""RFC 7644 §4 — service provider configuration endpoints (/ServiceProviderConfig, /ResourceTypes, /Schemas).

The three documents are read once per run (see :mod:`conformance.discovery`); these checks grade
those replies and ask again only for what discovery did not fetch.
"""

from __future__ import annotations

from ..discovery import ERROR_URN, LIST_URN, SPC_URN, list_resources
from ..http import Reply
from ..registry import check
from ..verdicts import ExchangeError, Violation, expect


def _ok_json(ctx, reply: Reply | None, what: str) -> dict:
    if reply is None:
        raise ExchangeError(f"{what} could not be read: {'; '.join(ctx.discovery.problems)}")
    ctx.attach(reply.exchange)
    expect(reply.status == 200, f"GET {what} answered {reply.status}, expected 200")
    return reply.json_object()


@check(
    "discovery.spc.answers",
    "GET /ServiceProviderConfig answers 200 with the ServiceProviderConfig schema",
    requirements=["7644-4-02"],
    level="MUST",
)
def spc_answers(ctx):
    """The configuration endpoint answers a GET with a JSON object whose schemas names the
    ServiceProviderConfig schema URN."""
    body = _ok_json(ctx, ctx.discovery.spc_reply, "/ServiceProviderConfig")
    schemas = body.get("schemas")
    expect(
        isinstance(schemas, list) and SPC_URN in schemas,
        f"schemas is {schemas!r}; it must contain {SPC_URN}",
    )
    ctx.passed("200 with the ServiceProviderConfig schema URN")


@check(
    "discovery.schemas.list-response",
    "GET /Schemas answers 200 with a ListResponse of schemas",
    requirements=["7644-4-03", "7644-4-04"],
    level="MUST",
)
def schemas_list_response(ctx):
    """/Schemas returns every supported schema wrapped in a ListResponse message."""
    body = _ok_json(ctx, ctx.discovery.schemas_reply, "/Schemas")
    expect(LIST_URN in (body.get("schemas") or []), f"schemas is {body.get('schemas')!r}; expected {LIST_URN}")
    resources = list_resources(body)
    expect(resources, "the ListResponse holds no schema in Resources")
    ctx.passed(f"ListResponse with {len(resources)} schemas")


@check(
    "discovery.resource-types.list-response",
    "GET /ResourceTypes answers 200 with a ListResponse of resource types",
    requirements=["7644-4-04"],
    level="MUST",
)
def resource_types_list_response(ctx):
    """/ResourceTypes returns the resource types wrapped in a ListResponse message."""
    body = _ok_json(ctx, ctx.discovery.rt_reply, "/ResourceTypes")
    expect(LIST_URN in (body.get("schemas") or []), f"schemas is {body.get('schemas')!r}; expected {LIST_URN}")
    resources = list_resources(body)
    expect(resources, "the ListResponse holds no resource type in Resources")
    ctx.passed(f"ListResponse with {len(resources)} resource types")


@check(
    "discovery.filter-forbidden",
    "A filter on /ServiceProviderConfig is refused with 403",
    requirements=["7644-4-06"],
    level="SHOULD",
)
def filter_forbidden(ctx):
    """Discovery endpoints do not filter; a filter given to them should be answered 403 so that a
    client does not believe it was applied."""
    reply = ctx.http.get("ServiceProviderConfig", params={"filter": 'patch.supported eq true'})
    if reply.status != 403:
        raise Violation(f"answered {reply.status} to ?filter=; 403 is recommended")
    body = reply.maybe_json()
    expect(isinstance(body, dict) and ERROR_URN in (body.get("schemas") or []),
           "the 403 carries no SCIM Error body")
    ctx.passed("403 with a SCIM Error")
