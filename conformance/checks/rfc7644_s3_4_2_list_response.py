"""RFC 7644 §3.4.2 — the ListResponse message a query on a resource endpoint answers with.

Only the message is graded here (deep filter, sort and paging semantics have their own checks).
Queries are bounded by the run's own data: when the target advertises filtering, the query asks
for the naming attribute of the run's sample, so the answer is exact whatever else the tenant
holds; otherwise ``count=1`` keeps it small and only the shape of the answer is judged.
"""

from __future__ import annotations

import json
from typing import Any

from ..discovery import LIST_URN, ResourceType
from ..http import Reply
from ..payloads import naming_attribute
from ..registry import check
from ..verdicts import NotApplicable, Violation, expect


def _quoted(value: str) -> str:
    return json.dumps(value)


def _sample_filter(ctx, rt: ResourceType) -> tuple[str, str] | None:
    """(filter matching the run's sample by its naming attribute, the sample's id), or None."""
    if not ctx.discovery.supports("filter"):
        return None
    naming = naming_attribute(ctx.discovery, rt)
    sample = ctx.sample(rt)
    value = sample.sent.get(naming) if naming else None
    if not isinstance(value, str):
        return None
    return f"{naming} eq {_quoted(value)}", str(sample.id)


def _query(ctx, rt: ResourceType, extra: dict[str, str] | None = None) -> tuple[Reply, str, str | None]:
    """The run's bounded query on ``rt``: (reply, what was asked, id of the sample it must find)."""
    found = _sample_filter(ctx, rt)
    if found is not None:
        params = {"filter": found[0]}
        sample_id: str | None = found[1]
    else:
        params = {"count": "1"}
        sample_id = None
    params.update(extra or {})
    reply = ctx.http.get(rt.path, params=params)
    asked = f"GET {rt.endpoint}?" + "&".join(f"{k}={v}" for k, v in params.items())
    return reply, asked, sample_id


def _list_body(reply: Reply, asked: str, *, graded: bool = False) -> dict[str, Any]:
    """The ListResponse of a 200; another status skips (or, when ``graded``, violates)."""
    if reply.status != 200:
        message = f"{asked} answered {reply.status}; a query answers 200 with a ListResponse"
        if graded:
            raise Violation(message)
        raise NotApplicable(message + " (see list.schema-urn)")
    body = reply.json()
    if not isinstance(body, dict):
        raise Violation(f"{asked} answered a JSON {type(body).__name__}, not a ListResponse object")
    return body


def _total(body: dict[str, Any]) -> int:
    total = body.get("totalResults")
    if not isinstance(total, int) or isinstance(total, bool):
        raise NotApplicable(f"totalResults is {total!r}, not an integer; see list.total-results")
    return total


@check(
    "list.schema-urn",
    "A query answers 200 with a message naming the ListResponse schema",
    requirements=["7644-3.4.2-03"],
    level="MUST",
    per_resource_type=True,
)
def list_schema_urn(ctx, rt):
    """A bounded query on the resource endpoint (a filter on the sample's naming attribute, or
    count=1) answers 200 with a JSON object whose schemas holds
    urn:ietf:params:scim:api:messages:2.0:ListResponse."""
    reply, asked, _ = _query(ctx, rt)
    body = _list_body(reply, asked, graded=True)
    schemas = body.get("schemas")
    expect(isinstance(schemas, list) and LIST_URN in schemas,
           f"{asked}: schemas is {schemas!r}; expected a list holding {LIST_URN}")
    ctx.passed(f"{asked}: 200 ListResponse")


@check(
    "list.total-results",
    "A ListResponse has an integer totalResults consistent with what it returns",
    requirements=["7644-3.4.2-04"],
    level="MUST",
    per_resource_type=True,
)
def list_total_results(ctx, rt):
    """totalResults is present and a non-negative JSON integer; it is at least the number of
    Resources returned, and at least 1 when the query is a filter the run's sample matches."""
    reply, asked, sample_id = _query(ctx, rt)
    body = _list_body(reply, asked)
    expect("totalResults" in body, f"{asked}: the ListResponse has no totalResults (REQUIRED)")
    total = body["totalResults"]
    expect(isinstance(total, int) and not isinstance(total, bool) and total >= 0,
           f"{asked}: totalResults is {total!r}; expected a non-negative integer")
    resources = body.get("Resources")
    returned = len(resources) if isinstance(resources, list) else 0
    expect(total >= returned, f"{asked}: totalResults is {total} but {returned} Resources came back")
    if sample_id is not None:
        expect(total >= 1, f"{asked}: totalResults is {total}, but the run's sample matches the filter")
    ctx.passed(f"{asked}: totalResults {total}")


@check(
    "list.resources-present",
    "A ListResponse with results carries them in Resources",
    requirements=["7644-3.4.2-06"],
    level="MUST",
    per_resource_type=True,
)
def list_resources_present(ctx, rt):
    """When totalResults is not zero, Resources is present as an array of resource objects; when
    the query filters on the run's sample, the sample (by id) is among them."""
    reply, asked, sample_id = _query(ctx, rt)
    body = _list_body(reply, asked)
    total = _total(body)
    if total == 0:
        if sample_id is not None:
            raise Violation(f"{asked}: totalResults is 0, but the run's sample {sample_id} matches the filter")
        raise NotApplicable(f"{asked} found no resource; Resources is only required with results")
    resources = body.get("Resources")
    expect(isinstance(resources, list),
           f"{asked}: totalResults is {total} but Resources is "
           + ("missing" if resources is None else f"{resources!r}, not an array"))
    if body.get("itemsPerPage") != 0:
        expect(resources, f"{asked}: totalResults is {total} but Resources is empty")
    expect(all(isinstance(r, dict) for r in resources), f"{asked}: Resources holds something other than objects")
    if sample_id is not None:
        ids = [r.get("id") for r in resources]
        expect(sample_id in ids, f"{asked}: Resources holds ids {ids}, not the run's sample {sample_id}")
        ctx.passed(f"{asked}: Resources holds the sample")
    else:
        ctx.passed(f"{asked}: Resources holds {len(resources)} resource(s)")


@check(
    "list.no-match-zero",
    "A filter that matches nothing answers 200 with totalResults 0",
    requirements=["7644-3.4.2-09"],
    level="MUST",
    per_resource_type=True,
    needs=("filter",),
)
def list_no_match_zero(ctx, rt):
    """A filter on the naming attribute for a fresh run-tagged value no resource has answers 200
    with totalResults 0, not an error."""
    naming = naming_attribute(ctx.discovery, rt)
    if naming is None:
        raise NotApplicable(f"no string naming attribute is known for {rt.name}")
    value = ctx.tag("nomatch")
    asked = f"GET {rt.endpoint}?filter={naming} eq {_quoted(value)}"
    reply = ctx.http.get(rt.path, params={"filter": f"{naming} eq {_quoted(value)}"})
    expect(reply.status == 200, f"{asked} answered {reply.status}; a query without matches answers 200")
    body = reply.json()
    total = body.get("totalResults") if isinstance(body, dict) else None
    expect(total == 0 and not isinstance(total, bool), f"{asked}: totalResults is {total!r}; expected 0")
    resources = body.get("Resources") or []
    expect(not resources, f"{asked}: totalResults is 0 but Resources holds {len(resources)} item(s)")
    ctx.passed(f"{asked}: 200, totalResults 0")


def _paged(ctx, rt: ResourceType) -> tuple[dict[str, Any], str]:
    """count=1 on the endpoint after making sure it holds at least two resources (sample + one more)."""
    ctx.sample(rt)
    ctx.created_ok(rt)
    asked = f"GET {rt.endpoint}?count=1"
    reply = ctx.http.get(rt.path, params={"count": "1"})
    body = reply.maybe_json()
    if reply.status == 400 and isinstance(body, dict) and body.get("scimType") == "tooMany":
        raise NotApplicable(f"{asked} was refused as tooMany; the target does not list without a filter")
    return _list_body(reply, asked), asked


@check(
    "list.count-limit",
    "count=1 returns at most one resource",
    requirements=["7644-3.4.2.4-05"],
    level="MUST",
    per_resource_type=True,
)
def list_count_limit(ctx, rt):
    """With at least two resources on the endpoint (the run's sample and one more it creates), a
    query with count=1 returns no more than one resource; fewer is allowed."""
    body, asked = _paged(ctx, rt)
    resources = body.get("Resources") or []
    expect(isinstance(resources, list) and len(resources) <= 1,
           f"{asked} returned {len(resources) if isinstance(resources, list) else resources!r} resources; "
           "at most 1 was asked for")
    ctx.passed(f"{asked}: {len(resources)} resource(s) returned")


@check(
    "list.pagination-fields",
    "A partial page says itemsPerPage and startIndex",
    requirements=["7644-3.4.2-07", "7644-3.4.2-08"],
    level="MUST",
    per_resource_type=True,
)
def list_pagination_fields(ctx, rt):
    """When count=1 yields fewer Resources than totalResults (a partial result), the ListResponse
    carries itemsPerPage, equal to the number of Resources on the page, and startIndex, which is
    1 since no other start was asked for."""
    body, asked = _paged(ctx, rt)
    total = _total(body)
    resources = body.get("Resources") or []
    if not isinstance(resources, list) or total <= len(resources):
        raise NotApplicable(f"{asked} returned all {total} results at once; no partial page to grade")
    problems = []
    per_page, start = body.get("itemsPerPage"), body.get("startIndex")
    if "itemsPerPage" not in body:
        problems.append("itemsPerPage is missing")
    elif per_page != len(resources) or isinstance(per_page, bool):
        problems.append(f"itemsPerPage is {per_page!r} but the page holds {len(resources)} resource(s)")
    if "startIndex" not in body:
        problems.append("startIndex is missing")
    elif start != 1 or isinstance(start, bool):
        problems.append(f"startIndex is {start!r}; the first page of a query without startIndex starts at 1")
    expect(not problems, f"{asked} returned {len(resources)} of {total} results, but " + "; ".join(problems))
    ctx.passed(f"{asked}: {len(resources)} of {total}, itemsPerPage {per_page}, startIndex {start}")


@check(
    "list.unknown-parameter-ignored",
    "An unknown query parameter is ignored, not rejected",
    requirements=["7644-3.4.2-02"],
    level="SHOULD",
    per_resource_type=True,
)
def list_unknown_parameter(ctx, rt):
    """The run's bounded query with an extra parameter no SCIM version defines still answers 200
    with a ListResponse (and, when filtering, still finds the sample)."""
    reply, asked, sample_id = _query(ctx, rt, {"sctUnknownParameter": "1"})
    expect(reply.status == 200, f"{asked} answered {reply.status}; unknown parameters should be ignored")
    body = reply.maybe_json()
    expect(isinstance(body, dict) and LIST_URN in (body.get("schemas") or []),
           f"{asked} answered 200 without a ListResponse")
    if sample_id is not None:
        ids = [r.get("id") for r in body.get("Resources") or [] if isinstance(r, dict)]
        expect(sample_id in ids, f"{asked}: the sample {sample_id} is no longer found; ids {ids}")
    ctx.passed(f"{asked}: 200 ListResponse")
