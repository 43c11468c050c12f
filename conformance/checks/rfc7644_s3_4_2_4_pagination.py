"""RFC 7644 §3.4.2.4 — pagination, checked on the run's own population.

Every query is bounded by the population's scope (``userName sw "<run id>-pop"``), so totalResults
and the pages are known exactly. When the target advertises sorting, pages are asked with
``sortBy=userName`` so that their order is stable between requests; without it the pages are
still compared as sets. list.count-limit and list.pagination-fields (§3.4.2) grade count=1 and the
fields of a first partial page on the unscoped endpoint; these checks grade the rest: startIndex
below 1, count=0 and negative, count above the total, a start past the end, itemsPerPage on every
page, totalResults on a partial page, a walk over all pages, and filter.maxResults.
"""

from __future__ import annotations

from typing import Any

from ..discovery import USER_URN, ResourceType
from ..population import Outcome, Population, get
from ..registry import check
from ..support import field, is_integer, said, show
from ..verdicts import NotApplicable, Violation, expect

USERS = {"per_resource_type": True, "resource_types": (USER_URN,), "needs": ("filter",)}


def _order(ctx) -> dict[str, str]:
    return {"sortBy": "userName"} if ctx.discovery.supports("sort") else {}


def _page(ctx, rt: ResourceType, pop: Population, **params: Any) -> tuple[Outcome, str]:
    extra = {**_order(ctx), **{k: str(v) for k, v in params.items()}}
    out = pop.query(ctx, rt, None, walk=False, extra=extra)
    asked = pop.request_text(rt, out.params)
    if out.status != 200 or not isinstance(out.body, dict):
        raise Violation(f"{asked} answered {said(out.reply)}; expected 200 with a ListResponse")
    return out, asked


def _all_ids(pop: Population, rt: ResourceType) -> set[str]:
    return {m.id for m in pop.members(rt)}


def _first_ids(ctx, rt: ResourceType, pop: Population, count: int) -> list[str]:
    out, _ = _page(ctx, rt, pop, startIndex=1, count=count)
    return out.ids


@check("page.start-index-below-one", "A startIndex below 1 is taken as 1",
       requirements=["7644-3.4.2.4-03"], level="MUST", **USERS)
def start_index_below_one(ctx, rt):
    """startIndex=0 and startIndex=-1 (count=2) answer 200 with the same first page as startIndex=1:
    the same resources (in the same order when sorted) and a startIndex of 1 when one is given."""
    pop = get(ctx, rt)
    first = _first_ids(ctx, rt, pop, 2)
    problems = []
    for start in (0, -1):
        out, asked = _page(ctx, rt, pop, startIndex=start, count=2)
        same = out.ids == first if _order(ctx) else set(out.ids) == set(first)
        if not same:
            problems.append(f"{asked} returned {show(pop.names(rt, out.ids))}; startIndex=1 returns "
                            f"{show(pop.names(rt, first))}")
        echoed = out.body.get("startIndex")
        if "startIndex" in out.body and echoed != 1:
            problems.append(f"{asked} says startIndex {echoed!r}, expected 1")
    expect(not problems, " | ".join(problems))
    ctx.passed("startIndex 0 and -1 answered the first page, as startIndex=1")


@check("page.count-zero", "count=0 (or negative) returns no resources but the full totalResults",
       requirements=["7644-3.4.2.4-04", "7644-3.4.2-04"], level="MUST", **USERS)
def count_zero(ctx, rt):
    """count=0 and count=-1 on the population answer 200 with no Resources, totalResults equal to the
    number of members, and (when given) itemsPerPage 0."""
    pop = get(ctx, rt)
    want = len(pop.members(rt))
    problems = []
    for count in (0, -1):
        out, asked = _page(ctx, rt, pop, count=count)
        if out.ids:
            problems.append(f"{asked} returned {len(out.ids)} resource(s); count {count} asks for none")
        if out.total != want:
            problems.append(f"{asked}: totalResults {out.total!r}, expected {want}")
        if "itemsPerPage" in out.body and out.body.get("itemsPerPage") != 0:
            problems.append(f"{asked}: itemsPerPage {out.body.get('itemsPerPage')!r}, expected 0")
    expect(not problems, " | ".join(problems))
    ctx.passed(f"count 0 and -1 returned no resource and totalResults {want}")


@check("page.count-honoured", "count bounds the page; a count above the total returns at most everything",
       requirements=["7644-3.4.2.4-05"], level="MUST", **USERS)
def count_honoured(ctx, rt):
    """count=2 returns at most 2 of the population's members; count larger than the population returns
    only members, none twice, and totalResults equal to the number of members."""
    pop = get(ctx, rt)
    members = _all_ids(pop, rt)
    problems = []
    out, asked = _page(ctx, rt, pop, count=2)
    if len(out.ids) > 2:
        problems.append(f"{asked} returned {len(out.ids)} resources")
    big = len(members) + 5
    out, asked = _page(ctx, rt, pop, count=big)
    if len(out.ids) > big or not set(out.ids) <= members or len(set(out.ids)) != len(out.ids):
        problems.append(f"{asked} returned {show(pop.names(rt, out.ids))}")
    if out.total != len(members):
        problems.append(f"{asked}: totalResults {out.total!r}, expected {len(members)}")
    expect(not problems, " | ".join(problems))
    ctx.passed(f"count=2 and count={big} bounded the pages")


@check("page.total-results", "totalResults on a partial page is the full number of matches",
       requirements=["7644-3.4.2-04", "7644-3.4.2-05"], level="MUST", **USERS)
def total_results(ctx, rt):
    """On pages of 2 (first, middle and last) totalResults is the number of population members the
    filter matches, not the page size."""
    pop = get(ctx, rt)
    want = len(pop.members(rt))
    problems = []
    for start in (1, 3, want):
        out, asked = _page(ctx, rt, pop, startIndex=start, count=2)
        if out.total != want or isinstance(out.total, bool):
            problems.append(f"{asked}: totalResults {out.total!r} with {len(out.ids)} resource(s) on the page; "
                            f"{want} match")
    expect(not problems, " | ".join(problems))
    ctx.passed(f"totalResults {want} on every page")


@check("page.items-per-page", "itemsPerPage is the number of resources on each partial page",
       requirements=["7644-3.4.2-08", "7644-3.4.2-07"], level="MUST", **USERS)
def items_per_page(ctx, rt):
    """Pages of 4 of the population (a full first page and a shorter last one, both partial results)
    carry itemsPerPage, equal to the number of Resources on that page, and startIndex as asked."""
    pop = get(ctx, rt)
    total = len(pop.members(rt))
    problems = []
    for start in (1, 5):
        out, asked = _page(ctx, rt, pop, startIndex=start, count=4)
        if len(out.ids) >= total:
            continue
        per_page = out.body.get("itemsPerPage")
        if "itemsPerPage" not in out.body:
            problems.append(f"{asked}: a partial page without itemsPerPage")
        elif per_page != len(out.ids) or not is_integer(per_page):
            problems.append(f"{asked}: itemsPerPage {per_page!r} but {len(out.ids)} resource(s) on the page")
        if out.body.get("startIndex") != start:
            problems.append(f"{asked}: startIndex {out.body.get('startIndex')!r}, expected {start}")
    expect(not problems, " | ".join(problems))
    ctx.passed("itemsPerPage and startIndex right on the first and the last page")


def _walk_problems(pop: Population, rt: ResourceType, members: set[str], seen: list[str]) -> list[str]:
    """What a walk over all pages got wrong: resources returned twice, never, or not matching."""
    twice = sorted({i for i in seen if seen.count(i) > 1})
    missing, extra = members - set(seen), set(seen) - members
    problems = []
    if twice:
        problems.append(f"returned twice: {show(pop.names(rt, twice))}")
    if missing:
        problems.append(f"never returned: {show(pop.names(rt, sorted(missing)))}")
    if extra:
        problems.append(f"not matching but returned: {show(pop.names(rt, sorted(extra)))}")
    return problems


@check("page.walk", "Walking the pages yields every match exactly once",
       requirements=["7644-3.4.2-05", "7644-3.4.2.4-05"], level="MUST", **USERS)
def walk(ctx, rt):
    """startIndex=1, 3, 5, ... with count=2 (sorted by userName when sorting is advertised) yields every
    member of the population exactly once, no other resource, and no page larger than 2."""
    pop = get(ctx, rt)
    members = _all_ids(pop, rt)
    seen: list[str] = []
    start, asked = 1, ""
    for _ in range(len(members) + 2):
        out, asked = _page(ctx, rt, pop, startIndex=start, count=2)
        expect(len(out.ids) <= 2, f"{asked} returned {len(out.ids)} resources")
        seen.extend(out.ids)
        if not out.ids or start + len(out.ids) > len(members):
            break
        start += len(out.ids)
    problems = _walk_problems(pop, rt, members, seen)
    expect(not problems, f"pages of 2 over {len(members)} matches (up to {asked}): " + "; ".join(problems))
    ctx.passed(f"{len(members)} matches, each once, over pages of 2")


@check("page.past-end", "A startIndex past the last match answers 200 with no resources",
       requirements=["7644-3.4.2-04"], level="MUST", **USERS)
def past_end(ctx, rt):
    """startIndex one past the number of matches (and far past it) answers 200 with no Resources and
    totalResults still equal to the number of matches."""
    pop = get(ctx, rt)
    want = len(pop.members(rt))
    problems = []
    for start in (want + 1, want + 100):
        extra = {**_order(ctx), "startIndex": str(start), "count": "2"}
        out = pop.query(ctx, rt, None, walk=False, extra=extra)
        asked = pop.request_text(rt, out.params)
        if out.status != 200 or not isinstance(out.body, dict):
            problems.append(f"{asked} answered {said(out.reply)}; expected 200 with no resources")
            continue
        if out.ids:
            problems.append(f"{asked} returned {show(pop.names(rt, out.ids))}")
        if out.total != want:
            problems.append(f"{asked}: totalResults {out.total!r}, expected {want}")
    expect(not problems, " | ".join(problems))
    ctx.passed(f"startIndex {want + 1} and {want + 100}: 200, no resources, totalResults {want}")


@check("page.max-results", "No query returns more than filter.maxResults; more matches may be refused as tooMany",
       requirements=["7643-5-10", "7644-3.4.2.1-04"], level="MUST", **USERS)
def max_results(ctx, rt):
    """When /ServiceProviderConfig says filter.maxResults is N and the population has more than N members,
    a query matching them all (without count) returns at most N resources, or is refused with 400 and
    scimType tooMany. A refusal that says tooMany must be a 400."""
    maximum = field(ctx.discovery.spc.get("filter"), "maxResults")
    if not is_integer(maximum) or maximum < 1:
        raise NotApplicable(f"filter.maxResults is {maximum!r}, not a positive integer; see the SPC checks")
    pop = get(ctx, rt)
    members = len(pop.members(rt))
    if members <= maximum:
        raise NotApplicable(f"filter.maxResults is {maximum}; the population ({members} members) cannot exceed it")
    out = pop.query(ctx, rt, None, walk=False)
    asked = pop.request_text(rt, out.params)
    body = out.body if isinstance(out.body, dict) else {}
    if field(body, "scimType") == "tooMany" or out.status != 200:
        expect(out.status == 400 and field(body, "scimType") == "tooMany",
               f"{asked} answered {said(out.reply)}; too many results are refused with 400 tooMany")
        ctx.passed(f"{asked}: 400 tooMany ({members} matches, maxResults {maximum})")
        return
    expect(len(out.ids) <= maximum, f"{asked} returned {len(out.ids)} resources; filter.maxResults is {maximum}")
    ctx.passed(f"{asked}: {len(out.ids)} of {members} returned, maxResults {maximum}")


# -- cursor pagination (RFC 9865), only where the target advertises it ----------------------------------


def _cursor_advertised(ctx) -> dict[str, Any]:
    pagination = field(ctx.discovery.spc, "pagination")
    if not isinstance(pagination, dict) or field(pagination, "cursor") is not True:
        raise NotApplicable("not advertised: /ServiceProviderConfig has no pagination.cursor=true "
                            "(RFC 9865 cursor pagination is an extension)")
    return pagination


@check("page.cursor-walk", "Cursor pagination (RFC 9865), where advertised, yields every match exactly once",
       requirements=["7644-3.4.2-05", "7644-3.4.2.4-05"], level="MUST", **USERS)
def cursor_walk(ctx, rt):
    """When /ServiceProviderConfig advertises pagination.cursor (RFC 9865), a scoped query asked with
    an empty cursor and count=2, then with each nextCursor in turn until none is given, returns every
    member of the population exactly once, no other resource, and never more than 2 per page."""
    _cursor_advertised(ctx)
    pop = get(ctx, rt)
    members = _all_ids(pop, rt)
    seen: list[str] = []
    cursor, asked, pages = "", "", 0
    for _ in range(len(members) + 3):
        out, asked = _page(ctx, rt, pop, cursor=cursor, count=2)
        pages += 1
        expect(len(out.ids) <= 2, f"{asked} returned {len(out.ids)} resources; count was 2")
        seen.extend(out.ids)
        following = field(out.body, "nextCursor")
        if following in (None, ""):
            break
        expect(isinstance(following, str), f"{asked} gave nextCursor {show(following)}; expected a string")
        expect(following != cursor, f"{asked} gave back the cursor it was asked with: the walk cannot advance")
        cursor = following
    else:
        raise Violation(f"{pages} pages of 2 over {len(members)} matches and still a nextCursor (last: {asked})")
    problems = _walk_problems(pop, rt, members, seen)
    expect(not problems, f"a cursor walk in pages of 2 over {len(members)} matches (up to {asked}): "
                         + "; ".join(problems))
    ctx.passed(f"{len(members)} matches, each once, over {pages} cursor pages")
