"""RFC 7644 §4 — service provider configuration endpoints (/ServiceProviderConfig, /ResourceTypes, /Schemas).

The three documents are read once per run (see :mod:`conformance.discovery`); these checks grade
those replies and ask again only for what discovery did not fetch: the lists with query parameters
(which discovery endpoints ignore, or refuse for a filter) and ids that do not exist (whose 404
answer is graded by the SCIM Error rules of RFC 7644 §3.12, so those two checks cite §3.12).
"""

from __future__ import annotations

from ..discovery import ERROR_URN, LIST_URN, SPC_URN, list_resources
from ..http import Reply
from ..registry import check
from ..verdicts import ExchangeError, NotApplicable, Violation, expect


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


def _filter_refused(ctx, path: str, expression: str) -> None:
    reply = ctx.http.get(path, params={"filter": expression})
    if reply.status != 403:
        raise Violation(f"GET /{path}?filter=... answered {reply.status}; 403 is recommended, so that a client "
                        "does not believe the filter was applied")
    body = reply.maybe_json()
    expect(isinstance(body, dict) and ERROR_URN in (body.get("schemas") or []),
           "the 403 carries no SCIM Error body")
    ctx.passed("403 with a SCIM Error")


@check(
    "discovery.schemas.filter-forbidden",
    "A filter on /Schemas is refused with 403",
    requirements=["7644-4-06"],
    level="SHOULD",
)
def schemas_filter_forbidden(ctx):
    """/Schemas does not filter; a filter given to it should be answered 403 rather than ignored
    silently."""
    _filter_refused(ctx, "Schemas", 'id eq "urn:ietf:params:scim:schemas:core:2.0:User"')


@check(
    "discovery.resource-types.filter-forbidden",
    "A filter on /ResourceTypes is refused with 403",
    requirements=["7644-4-06"],
    level="SHOULD",
)
def resource_types_filter_forbidden(ctx):
    """/ResourceTypes does not filter; a filter given to it should be answered 403 rather than
    ignored silently."""
    _filter_refused(ctx, "ResourceTypes", 'name eq "User"')


# -- query parameters are ignored -------------------------------------------------------------------

LISTS = (("Schemas", "schemas_reply"), ("ResourceTypes", "rt_reply"))


def _key(entry: dict) -> str:
    return str(entry.get("id") or entry.get("name") or entry.get("endpoint") or sorted(entry.items()))


def _plain_lists(ctx) -> list[tuple[str, list[dict]]]:
    """(endpoint, entries) of each discovery list that discovery read successfully."""
    out = []
    for path, attr in LISTS:
        reply = getattr(ctx.discovery, attr)
        if reply is not None and reply.status == 200:
            entries = list_resources(reply.maybe_json())
            if entries:
                ctx.attach(reply.exchange)
                out.append((path, entries))
    if not out:
        raise NotApplicable("precondition: neither /Schemas nor /ResourceTypes gave a list to compare with")
    return out


def _listed_again(ctx, path: str, params: dict[str, str], plain: list[dict]) -> list[dict]:
    """The entries of ``path`` asked with ``params``; each entry of the plain list must be there."""
    query = "&".join(f"{k}={v}" for k, v in params.items())
    reply = ctx.http.get(path, params=params)
    expect(reply.status == 200, f"GET /{path}?{query} answered {reply.status}; on a discovery endpoint these "
                                "parameters must be ignored, not refused")
    entries = list_resources(reply.json())
    keys = [_key(e) for e in entries]
    missing = [_key(e) for e in plain if _key(e) not in keys]
    expect(not missing, f"GET /{path}?{query} returned {len(entries)} of the {len(plain)} entries "
                        f"(missing: {', '.join(missing)}); these parameters must be ignored here")
    return entries


@check(
    "discovery.ignores-pagination",
    "/Schemas and /ResourceTypes ignore count and startIndex",
    requirements=["7644-4-05"],
    level="MUST",
)
def ignores_pagination(ctx):
    """Pagination does not apply to discovery: /Schemas and /ResourceTypes asked for
    ``count=1&startIndex=2`` still return every entry they list without parameters."""
    for path, plain in _plain_lists(ctx):
        _listed_again(ctx, path, {"count": "1", "startIndex": "2"}, plain)
    ctx.passed("count and startIndex ignored: every entry returned")


def _names(entries: list[dict]) -> list[str]:
    return [str(e.get("name") or "").lower() for e in entries]


@check(
    "discovery.ignores-sort",
    "/Schemas and /ResourceTypes ignore sortBy and sortOrder",
    requirements=["7644-4-05"],
    level="MUST",
)
def ignores_sort(ctx):
    """Sorting does not apply to discovery: /Schemas and /ResourceTypes asked for
    ``sortBy=name&sortOrder=ascending`` answer 200 with every entry, and do not come back sorted by
    name when the list without parameters is in another order."""
    for path, plain in _plain_lists(ctx):
        names = _names(_listed_again(ctx, path, {"sortBy": "name", "sortOrder": "ascending"}, plain))
        before = _names(plain)
        applied = names != before and names == sorted(names) and before != sorted(before)
        expect(not applied, f"GET /{path}?sortBy=name returned the entries sorted by name ({', '.join(names)}), "
                            f"unlike the list without parameters ({', '.join(before)}); sorting must be ignored")
    ctx.passed("sortBy and sortOrder ignored")


# -- one resource that does not exist ---------------------------------------------------------------


def _not_found(ctx, path: str) -> None:
    reply = ctx.http.get(path)
    expect(reply.status == 404, f"GET /{path} (no such id) answered {reply.status}, expected 404 Not Found")
    body = reply.maybe_json()
    expect(isinstance(body, dict), f"the 404 has no JSON object body ({reply.content_type or 'no Content-Type'}: "
                                   f"{' '.join(reply.text[:60].split())!r}); expected a SCIM Error")
    schemas = body.get("schemas")
    expect(isinstance(schemas, list) and ERROR_URN in schemas,
           f"the 404 body's schemas is {schemas!r}; expected {ERROR_URN}")
    status = body.get("status")
    expect(status == "404", f"the Error body's status is {status!r}; expected the string \"404\"")
    ctx.passed("404 with a SCIM Error (status \"404\")")


@check(
    "discovery.resource-types.unknown-id",
    "GET /ResourceTypes/{unknown id} answers 404 with a SCIM Error",
    requirements=["7644-3.12-01", "7644-3.12-02"],
    level="MUST",
)
def resource_types_unknown_id(ctx):
    """A resource type id the target does not define is answered 404 with an Error body whose
    ``status`` is the string "404"."""
    _not_found(ctx, f"ResourceTypes/{ctx.tag('nosuchtype')}")


@check(
    "discovery.schemas.unknown-id",
    "GET /Schemas/{unknown URI} answers 404 with a SCIM Error",
    requirements=["7644-3.12-01", "7644-3.12-02"],
    level="MUST",
)
def schemas_unknown_id(ctx):
    """A schema URI the target does not define is answered 404 with an Error body whose ``status``
    is the string "404"."""
    _not_found(ctx, f"Schemas/urn:example:scim:schemas:{ctx.tag('nosuchschema')}")
