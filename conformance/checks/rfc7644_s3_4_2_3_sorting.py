"""RFC 7644 §3.4.2.3 — sorting, checked on the run's own population.

The expected order comes from the suite's copies of the population: strings compared without case
unless the attribute is caseExact (userNames of the population differ in case, so a case-sensitive
sort shows), dateTimes as instants, a multi-valued attribute by its primary value (else its first),
members without a value last when ascending and first when descending. Members whose sort values
are equal may come in any order among themselves. Queries are scoped to the population.

When /ServiceProviderConfig says sort is not supported, the RFC requires nothing of sortBy (sorting
is OPTIONAL, and no error is defined for it), so these checks skip.
"""

from __future__ import annotations

from ..discovery import USER_URN, ResourceType
from ..population import Population, get
from ..registry import check
from ..support import said, show
from ..verdicts import NotApplicable, Violation, expect

USERS = {"per_resource_type": True, "resource_types": (USER_URN,), "needs": ("filter", "sort")}


def order_problem(pop: Population, rt: ResourceType, ids: list[str], sort_by: str, descending: bool) -> str | None:
    """Why ``ids`` is not in the expected order (None when it is)."""
    groups = pop.sorted_groups(rt, set(ids), sort_by, descending)
    position = 0
    for group in groups:
        chunk = set(ids[position:position + len(group)])
        if chunk != group:
            key = pop.sort_key(rt, sort_by)
            known = pop.by_id(rt)
            shown = [f"{known[i].name}={key(known[i])!s}" if i in known else i for i in ids]
            expected = [sorted(pop.names(rt, g)) for g in groups]
            return f"order {show(shown, 260)}; expected {show(expected, 260)}"
        position += len(group)
    return None


def _sorted_query(ctx, rt: ResourceType, pop: Population, sort_by: str, order: str | None) -> list[str]:
    extra = {"sortBy": sort_by, **({"sortOrder": order} if order else {})}
    out = pop.query(ctx, rt, None, walk=True, extra=extra)
    asked = pop.request_text(rt, out.params)
    if out.status != 200 or not isinstance(out.body, dict):
        raise Violation(f"{asked} answered {said(out.reply)}; expected 200 with a ListResponse")
    members = {m.id for m in pop.members(rt)}
    expect(set(out.ids) == members and len(out.ids) == len(members),
           f"{asked} returned {show(pop.names(rt, out.ids), 200)}; expected the {len(members)} population members")
    return out.ids


def _grade(ctx, rt: ResourceType, cases: list[tuple[str, str | None]]) -> int:
    pop = get(ctx, rt)
    problems = []
    for sort_by, order in cases:
        if ctx.discovery.attribute(rt, sort_by) is None and not sort_by.startswith("meta."):
            continue
        ids = _sorted_query(ctx, rt, pop, sort_by, order)
        found = order_problem(pop, rt, ids, sort_by, order == "descending")
        if found:
            asked = f"sortBy={sort_by}" + (f"&sortOrder={order}" if order else "")
            problems.append(f"{asked}: {found}")
    if not problems and not any(ctx.discovery.attribute(rt, s) for s, _ in cases if not s.startswith("meta.")):
        raise NotApplicable(f"the {rt.name} schema declares none of {', '.join(s for s, _ in cases)}")
    expect(not problems, " | ".join(problems))
    return len(cases)


@check("sort.ascending", "sortBy orders the results ascending by default, by the attribute's rules",
       requirements=["7644-3.4.2.3-03", "7644-3.4.2.3-04", "7644-3.4.2.3-05"], level="MUST", **USERS)
def ascending(ctx, rt):
    """sortBy=userName, sortBy=name.familyName (family names in mixed case, "Archer" and "archer"
    among them: compared without case, as the attribute is not caseExact) and sortBy=title (absent on
    some: those come last) without sortOrder, and with sortOrder=ascending, return the population in
    ascending order."""
    n = _grade(ctx, rt, [("userName", None), ("name.familyName", None), ("title", None),
                         ("userName", "ascending")])
    ctx.passed(f"{n} sorted queries came in ascending order")


@check("sort.descending", "sortOrder=descending reverses the order",
       requirements=["7644-3.4.2.3-03", "7644-3.4.2.3-05"], level="MUST", **USERS)
def descending(ctx, rt):
    """sortBy=userName and sortBy=title with sortOrder=descending return the population in descending
    order (members without a title first)."""
    n = _grade(ctx, rt, [("userName", "descending"), ("title", "descending")])
    ctx.passed(f"{n} sorted queries came in descending order")


@check("sort.typed", "dateTimes sort as instants and multi-valued attributes by their primary value",
       requirements=["7644-3.4.2.3-03", "7644-3.4.2.3-05"], level="MUST", **USERS)
def typed(ctx, rt):
    """sortBy=meta.created (ascending and descending) follows the creation instants the server
    returned; sortBy=emails follows each member's primary email (else its first; none: last)."""
    pop = get(ctx, rt)
    if not all(isinstance((m.data.get("meta") or {}).get("created"), str) for m in pop.users):
        raise NotApplicable("the server returned no meta.created for the population")
    n = _grade(ctx, rt, [("meta.created", None), ("meta.created", "descending"), ("emails", None)])
    ctx.passed(f"{n} sorted queries on a dateTime and a multi-valued attribute came in order")


@check("sort.unsupported", "Without sort support, sortBy is refused or ignored; it never spoils the query",
       requirements=["7644-3.4.2.3-01"], level="MAY",
       per_resource_type=True, resource_types=(USER_URN,), needs=("filter",))
def unsupported(ctx, rt):
    """When /ServiceProviderConfig says sort.supported=false the RFC requires no particular answer to
    sortBy (sorting is OPTIONAL): a refusal (400, 403, 501) or the query's results in any order are
    both fine. Anything else (a server error, or other resources than the filter matches) warns."""
    if ctx.discovery.supports("sort"):
        raise NotApplicable("sorting is advertised; the sort checks grade it")
    pop = get(ctx, rt)
    out = pop.query(ctx, rt, None, walk=True, extra={"sortBy": "userName", "sortOrder": "descending"})
    asked = pop.request_text(rt, out.params)
    if out.status in (400, 403, 501):
        ctx.passed(f"{asked} was refused ({out.status}): sorting is not supported")
        return
    expect(out.status == 200, f"{asked} answered {said(out.reply)}; expected a refusal or the unsorted results")
    members = {m.id for m in pop.members(rt)}
    expect(set(out.ids) == members, f"{asked} returned {show(pop.names(rt, out.ids), 200)}; the filter matches "
                                    f"the {len(members)} population members")
    ctx.passed(f"{asked}: 200 with the filter's results (sortBy ignored)")
