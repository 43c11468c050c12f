"""RFC 7644 §3.4.2.2 (and §3.4.2.1) — filters, checked against the suite's own oracle.

Every check queries the run's seeded population (conformance/population.py) with filters combined
with the population's scope (``(<filter>) and userName sw "<run id>-pop"``), and compares the ids
the server returns (every page walked) and its totalResults with what the suite's own evaluator
(conformance/filters.py, honouring caseExact from /Schemas) finds in the server's copies of the
population. Where the RFC leaves a choice open the filter is not sent: ``ne`` is only used on
attributes every member has, as servers differ on ``ne`` over an absent value.

``filter.generated`` draws random valid filters over the declared attributes (hypothesis); a
difference is shrunk to the smallest failing filter and reported as a replayable request. Its
budget: ``--examples`` (``SCIM_QUERY_EXAMPLES``, default 100; the fault proofs use 25) and ``--seed``
(``SCIM_QUERY_SEED``; without one the stream is derandomized, the same every run).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from .. import filters
from ..discovery import ENTERPRISE_URN, GROUP_URN, USER_URN, ResourceType
from ..population import Outcome, Population, get
from ..registry import check
from ..support import SHOWN, field, said, show
from ..verdicts import NotApplicable, Violation, expect

DEFAULT_EXAMPLES = 100
SHRINK_SECONDS = 3.0


def q(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


# -- comparing with the oracle ---------------------------------------------------------------------------


def difference(pop: Population, rt: ResourceType, text: str, out: Outcome) -> str | None:
    """What is wrong with the answer ``out`` to ``text`` (None when it equals the oracle's)."""
    asked = pop.request_text(rt, out.params)
    if out.status != 200 or not isinstance(out.body, dict):
        return f"{asked} answered {said(out.reply)}; expected 200 with a ListResponse"
    want = pop.expected(rt, text)
    got = set(out.ids)
    problems = []
    if got != want or len(out.ids) != len(got):
        missing, extra = want - got, got - want
        if missing:
            problems.append(f"missing {show(sorted(pop.names(rt, missing)), 120)}")
        if extra:
            problems.append(f"not matching but returned {show(sorted(pop.names(rt, extra)), 120)}")
        if len(out.ids) != len(got):
            problems.append("some resource returned twice")
    if out.total != len(want) or isinstance(out.total, bool):
        problems.append(f"totalResults {out.total!r}, expected {len(want)}")
    if not problems:
        return None
    return f"{asked}: " + "; ".join(problems)


def run_filters(ctx, rt: ResourceType, texts: list[str], pop: Population | None = None) -> int:
    """Send each filter (scoped); raise a Violation listing the first differences from the oracle."""
    pop = pop or get(ctx, rt)
    problems = []
    for text in texts:
        out = pop.query(ctx, rt, text)
        found = difference(pop, rt, text, out)
        if found:
            problems.append(found)
    if problems:
        more = f" (and {len(problems) - SHOWN} more)" if len(problems) > SHOWN else ""
        raise Violation(f"{len(problems)} of {len(texts)} filters differ from the suite's evaluation of its own "
                        "data: " + " | ".join(problems[:SHOWN]) + more)
    return len(texts)


def _user(pop: Population, index: int) -> dict[str, Any]:
    return pop.users[index].data if index < len(pop.users) else {}


def _declared(ctx, rt: ResourceType, *paths: str) -> bool:
    return all(ctx.discovery.attribute(rt, p) is not None for p in paths)


def _ext(ctx, rt: ResourceType) -> bool:
    return any(e.schema == ENTERPRISE_URN for e in rt.extensions) and ENTERPRISE_URN in ctx.discovery.schemas


def _only(ctx, rt: ResourceType, candidates: list[tuple[tuple[str, ...], str]]) -> list[str]:
    """The filters whose attributes the target declares."""
    return [text for paths, text in candidates if _declared(ctx, rt, *paths)]


USERS = {"per_resource_type": True, "resource_types": (USER_URN,), "needs": ("filter",)}


# -- operators ---------------------------------------------------------------------------------------------


@check("filter.string-operators", "Each comparison operator on strings returns exactly the matching resources",
       requirements=["7644-3.4.2.2-04", "7644-3.4.2.2-17"], level="MUST", **USERS)
def string_operators(ctx, rt):
    """eq, ne, co, sw, ew, gt, ge, lt and le on userName, displayName, title and the sub-attributes
    name.familyName / name.givenName of the suite's population (caseExact=false values in mixed case)
    return the resources the suite's own evaluation finds, no more, no fewer, with that totalResults."""
    pop = get(ctx, rt)
    alice = _user(pop, 0)
    texts = _only(ctx, rt, [
        (("userName",), f"userName eq {q(field(alice, 'userName'))}"),
        (("userName",), f"userName ne {q(field(alice, 'userName'))}"),
        (("userName",), f"userName co {q('1-b')}"),
        (("userName",), f"userName ew {q('e')}"),
        (("userName",), f"userName sw {q(pop.prefix + '2')}"),
        (("userName",), f"userName gt {q(pop.prefix + '3')}"),
        (("userName",), f"userName le {q(pop.prefix + '2-carol')}"),
        (("name.familyName",), 'name.familyName eq "archer"'),
        (("name.familyName",), 'name.familyName ge "Cole"'),
        (("name.familyName",), 'name.familyName lt "cole"'),
        (("name.givenName",), 'name.givenName sw "e"'),
        (("displayName",), 'displayName co "RCH"'),
        (("displayName",), 'displayName ew "N"'),  # "dave Dunn" only; co would add "Frank Evans"
        (("title",), 'title eq "ENGINEER"'),
        (("title",), 'title ew "er"'),
    ])
    if not texts:
        raise NotApplicable(f"the {rt.name} schema declares none of userName, name, displayName, title")
    ctx.passed(f"{run_filters(ctx, rt, texts, pop)} string filters returned exactly the oracle's resources")


@check("filter.presence", "pr matches exactly the resources that have a value",
       requirements=["7644-3.4.2.2-04", "7644-3.4.2.2-20"], level="MUST", **USERS)
def presence(ctx, rt):
    """pr on title (absent on some members), name.givenName, emails and an enterprise extension
    attribute, and not (title pr), match exactly the members whose copy, as the server returned it,
    has a value."""
    pop = get(ctx, rt)
    texts = _only(ctx, rt, [
        (("title",), "title pr"),
        (("title",), "not (title pr)"),
        (("name.givenName",), "name.givenName pr"),
        (("emails",), "emails pr"),
    ])
    if _ext(ctx, rt):
        texts.append(f"{ENTERPRISE_URN}:department pr")
    if not texts:
        raise NotApplicable(f"the {rt.name} schema declares none of title, name.givenName, emails")
    ctx.passed(f"{run_filters(ctx, rt, texts, pop)} presence filters returned exactly the oracle's resources")


@check("filter.boolean", "eq and ne on a boolean attribute return exactly the matching resources",
       requirements=["7644-3.4.2.2-04"], level="MUST", **USERS)
def boolean(ctx, rt):
    """active eq true, active eq false and active ne true (every member has active) return the members
    whose active is that value (also when written in capitals: True is the JSON literal true)."""
    if not _declared(ctx, rt, "active"):
        raise NotApplicable(f"the {rt.name} schema declares no active")
    pop = get(ctx, rt)
    if any(field(m.data, "active") is None for m in pop.users):
        raise NotApplicable("the server did not return active on every population member")
    texts = ["active eq true", "active eq false", "active ne true"]
    ctx.passed(f"{run_filters(ctx, rt, texts, pop)} boolean filters returned exactly the oracle's resources")


@check("filter.datetime", "Comparisons on dateTime attributes compare instants",
       requirements=["7644-3.4.2.2-04"], level="MUST", **USERS)
def datetime(ctx, rt):
    """eq, gt, ge, lt and le on meta.created and meta.lastModified, with a value the server returned for
    one member, return the members created (or modified) at, after or before that instant."""
    pop = get(ctx, rt)
    middle = field(field(_user(pop, 2), "meta"), "created")
    last = field(field(_user(pop, 4), "meta"), "lastModified")
    if not isinstance(middle, str) or not isinstance(last, str):
        raise NotApplicable("the server returned no meta.created / meta.lastModified for the population")
    texts = [f"meta.created {op} {q(middle)}" for op in ("eq", "gt", "ge", "lt", "le")]
    texts.append(f"meta.lastModified ge {q(last)}")
    ctx.passed(f"{run_filters(ctx, rt, texts, pop)} dateTime filters returned exactly the oracle's resources")


@check("filter.logical", "and, or, not, precedence and parentheses combine as the RFC orders them",
       requirements=["7644-3.4.2.2-18", "7644-3.4.2.2-04"], level="MUST", **USERS)
def logical(ctx, rt):
    """and, or and not, a filter whose result depends on and binding tighter than or (with and
    without parentheses), not over a conjunction, and nested groups return exactly the oracle's set."""
    if not _declared(ctx, rt, "active", "title", "name.familyName"):
        raise NotApplicable(f"the {rt.name} schema does not declare active, title and name.familyName")
    pop = get(ctx, rt)
    texts = [
        'title eq "engineer" and active eq true',
        'name.familyName eq "archer" or name.familyName eq "cole"',
        "not (active eq true)",
        'active eq false or title eq "engineer" and name.familyName eq "cole"',
        '(active eq false or title eq "engineer") and name.familyName eq "cole"',
        'not (active eq true and title pr)',
        'not (title pr) and active eq true or name.familyName eq "dunn"',
        '((name.familyName sw "a" or name.familyName sw "b") and not (active eq false))',
    ]
    ctx.passed(f"{run_filters(ctx, rt, texts, pop)} combined filters returned exactly the oracle's resources")


@check("filter.value-path", "A value filter on a multi-valued attribute holds for one and the same value",
       requirements=["7644-3.4.2.2-14", "7644-3.4.2.2-04"], level="MUST", **USERS)
def value_path(ctx, rt):
    """emails[type eq "work" and value co "..."], emails[primary eq true and type eq "home"], a value
    filter whose conditions hold on different emails of one member only (so it must not match it), and
    emails.type eq "home" (any value) return exactly the oracle's set."""
    if not _declared(ctx, rt, "emails.type", "emails.value"):
        raise NotApplicable(f"the {rt.name} schema declares no emails.type / emails.value")
    pop = get(ctx, rt)
    texts = [
        'emails[type eq "work" and value co "alice"]',
        'emails[type eq "other" and value sw "carol@"]',
        'emails.type eq "home"',
        f"emails.value ew {q(pop.prefix + '.example.org')}",
    ]
    if _declared(ctx, rt, "emails.primary"):
        texts.append('emails[primary eq true and type eq "home"]')
        texts.append('emails[type eq "work" and not (primary eq true)]')
    ctx.passed(f"{run_filters(ctx, rt, texts, pop)} value filters returned exactly the oracle's resources")


@check("filter.extension-urn", "Extension attributes are filtered by their full URN path",
       requirements=["7644-3.4.2.2-17", "7644-3.4.2.2-04"], level="MUST", **USERS)
def extension_urn(ctx, rt):
    """Enterprise extension attributes named by the extension URN (eq, gt, sw, pr on department and
    employeeNumber, also combined with a core attribute) return exactly the oracle's set."""
    if not _ext(ctx, rt):
        raise NotApplicable(f"{rt.name} does not declare the enterprise extension")
    pop = get(ctx, rt)
    texts = [
        f'{ENTERPRISE_URN}:department eq "research"',
        f'{ENTERPRISE_URN}:employeeNumber gt "1000"',
        f'{ENTERPRISE_URN}:employeeNumber sw "0"',
        f'{ENTERPRISE_URN}:department eq "sales" and active eq true',
    ]
    ctx.passed(f"{run_filters(ctx, rt, texts, pop)} extension filters returned exactly the oracle's resources")


@check("filter.names-case-insensitive", "Attribute names, operators and logical words are case-insensitive",
       requirements=["7644-3.4.2.2-17"], level="MUST", **USERS)
def names_case_insensitive(ctx, rt):
    """The same filters written with attribute names, sub-attribute names, operators and and/or/not in
    other cases (USERNAME EQ, Name.FamilyName Sw, TITLE PR, EMAILS[TYPE eq ...], NOT, AND, OR) return
    exactly what the oracle finds."""
    pop = get(ctx, rt)
    alice = _user(pop, 0)
    texts = _only(ctx, rt, [
        (("userName",), f"USERNAME EQ {q(field(alice, 'userName'))}"),
        (("name.familyName",), 'Name.FamilyName Sw "A"'),
        (("title", "active"), "TITLE PR AND Active Eq true"),
        (("title",), "NOT (title Pr) OR title eq \"boss\""),
        (("emails.type",), 'EMAILS[TYPE eq "work"]'),
        (("emails.type",), 'Emails.Type EQ "home"'),
    ])
    if _ext(ctx, rt):
        texts.append(f'{ENTERPRISE_URN}:DEPARTMENT eq "sales"')
    if not texts:
        raise NotApplicable(f"the {rt.name} schema declares none of the attributes used")
    ctx.passed(f"{run_filters(ctx, rt, texts, pop)} filters in other cases returned exactly the oracle's resources")


@check("filter.case-exact", "String comparisons follow caseExact: userName in another case matches",
       requirements=["7644-3.4.2.2-23", "7643-4.1.1-03", "7643-7-13"], level="MUST", **USERS)
def case_exact(ctx, rt):
    """userName (caseExact=false) eq / sw in other cases finds the member; a caseExact attribute
    (externalId, caseExact in RFC 7643 §3.1, unless /Schemas says otherwise) eq in another case does
    not match, and in its own case does."""
    pop = get(ctx, rt)
    bob, alice = _user(pop, 1), _user(pop, 0)
    name = field(bob, "userName")
    texts = [
        f"userName eq {q(str(name).upper())}",
        f"userName eq {q(str(name).lower())}",
        f"userName sw {q((pop.prefix + '0-AL').upper())}",
    ]
    ext = field(alice, "externalId")
    case_exact_, _ = pop.lookups(rt)
    if isinstance(ext, str) and ext.lower() != ext.upper():
        texts.append(f"externalId eq {q(ext)}")
        texts.append(f"externalId eq {q(ext.swapcase())}")
    ctx.passed(f"{run_filters(ctx, rt, texts, pop)} filters compared case as caseExact says"
               + ("" if isinstance(ext, str) else " (externalId not returned: caseExact=true untested)"))


# -- errors ------------------------------------------------------------------------------------------------


def _refused(ctx, rt: ResourceType, pop: Population, text: str) -> str | None:
    """A problem when ``text`` (scoped) is not refused with 400 invalidFilter."""
    out = pop.query(ctx, rt, text, walk=False)
    asked = pop.request_text(rt, out.params)
    body = out.body if isinstance(out.body, dict) else {}
    if out.status != 400:
        return f"{asked} answered {said(out.reply)}; expected 400 invalidFilter"
    if field(body, "scimType") != "invalidFilter":
        return f"{asked} answered 400 with scimType {field(body, 'scimType')!r}, not invalidFilter"
    return None


def _all_refused(ctx, rt: ResourceType, texts: list[str], what: str) -> int:
    pop = get(ctx, rt)
    problems = [p for p in (_refused(ctx, rt, pop, t) for t in texts) if p]
    expect(not problems, f"{len(problems)} of {len(texts)} {what} not refused: " + " | ".join(problems[:SHOWN]))
    return len(texts)


@check("filter.invalid", "Malformed filters and unknown operators are refused with 400 invalidFilter",
       requirements=["7644-3.4.2.2-17", "7644-3.4.2.2-22"], level="MUST", **USERS)
def invalid(ctx, rt):
    """Filters that break the ABNF (a missing value, a missing operator, an unbalanced parenthesis, a
    dangling and, a bare word) and an operator the RFC does not define (regex) answer 400 with scimType
    invalidFilter (they are sent within the population's scope, so an answer that ignores them stays
    small)."""
    texts = ['userName eq', 'userName "x"', '(userName eq "x"', 'userName eq "x" and', 'userName',
             'userName regex "x"', 'userName eq "x" xor title pr']
    ctx.passed(f"{_all_refused(ctx, rt, texts, 'invalid filters')} invalid filters answered 400 invalidFilter")


@check("filter.boolean-ordering", "gt, ge, lt and le on a boolean (or binary) attribute answer 400 invalidFilter",
       requirements=["7644-3.4.2.2-09", "7644-3.4.2.2-10", "7644-3.4.2.2-11", "7644-3.4.2.2-12"],
       level="MUST", **USERS)
def boolean_ordering(ctx, rt):
    """active gt / ge / lt / le true, and gt on a binary attribute the schema declares (e.g.
    x509Certificates.value), answer 400 with scimType invalidFilter."""
    texts = [f"active {op} true" for op in ("gt", "ge", "lt", "le")] if _declared(ctx, rt, "active") else []
    schema = ctx.discovery.schema_of(rt)
    for attr in schema.attributes if schema else []:
        subs = [s for s in attr.sub_attributes if s.type == "binary"]
        if attr.type == "binary":
            texts.append(f'{attr.name} gt "YQ=="')
            break
        if subs:
            texts.append(f'{attr.name}.{subs[0].name} gt "YQ=="')
            break
    if not texts:
        raise NotApplicable(f"the {rt.name} schema declares no boolean or binary attribute")
    ctx.passed(f"{_all_refused(ctx, rt, texts, 'orderings')} orderings of boolean/binary values answered 400 "
               "invalidFilter")


@check("filter.unknown-attribute", "A filter on an attribute the schema lacks matches nothing or is refused",
       requirements=["7644-3.4.2.2-04", "7644-3.4.2.2-17"], level="MUST", **USERS)
def unknown_attribute(ctx, rt):
    """A comparison or presence test on an attribute (or sub-attribute) the schema does not define is
    either refused with 400 invalidFilter (RFC 7644 §3.12: the attribute and comparison combination is
    not supported) or treated as an attribute without a value (as §3.4.2.1 says for attributes a
    resource type lacks): then it matches no resource. A 200 with resources fails."""
    pop = get(ctx, rt)
    texts = ['sctNoSuchAttribute eq "x"', "sctNoSuchAttribute pr", 'name.sctNoSuchPart eq "x"']
    problems, refused = [], 0
    for text in texts:
        out = pop.query(ctx, rt, text, walk=False)
        asked = pop.request_text(rt, out.params)
        if out.status == 400:
            scim_type = field(out.body, "scimType") if isinstance(out.body, dict) else None
            if scim_type not in (None, "invalidFilter"):
                problems.append(f"{asked} answered 400 with scimType {scim_type!r}, not invalidFilter")
            refused += 1
        elif out.status == 200:
            if out.ids or (out.total not in (0, None)):
                problems.append(f"{asked} returned {show(pop.names(rt, out.ids), 100)} (totalResults "
                                f"{out.total!r}); an undefined attribute has no value, so nothing matches")
        else:
            problems.append(f"{asked} answered {said(out.reply)}; expected 400 invalidFilter or 200 with no match")
    expect(not problems, " | ".join(problems[:SHOWN]))
    ctx.passed(f"{refused} refused with 400 invalidFilter, {len(texts) - refused} matched nothing")


@check("filter.unsupported-not-ignored",
       "Without filter support, a filter is refused or honoured, never silently ignored",
       requirements=["7644-3.4.2.2-04", "7644-3.4.2.2-01"], level="MUST",
       per_resource_type=True, resource_types=(USER_URN,))
def unsupported_not_ignored(ctx, rt):
    """When /ServiceProviderConfig says filter.supported=false, a query (count=1, on an endpoint holding
    a resource the suite created) with a filter no resource matches (a fresh run-tagged userName)
    answers an error (400, 403 or 501), or 200 with no resource: returning resources the filter does
    not match breaks "only matching resources are returned"."""
    if ctx.discovery.supports("filter"):
        raise NotApplicable("filtering is advertised; the filter checks grade it")
    ctx.created_ok(rt)  # so that the endpoint holds a resource the filter does not match
    value = ctx.tag("nofilter")
    params = {"filter": f"userName eq {q(value)}", "count": "1"}
    reply = ctx.http.get(rt.path, params=params)
    asked = f"GET {rt.endpoint}?filter={params['filter']}&count=1"
    if reply.status in (400, 403, 501):
        ctx.passed(f"{asked} answered {reply.status}: the unsupported filter was refused")
        return
    expect(reply.status == 200, f"{asked} answered {said(reply)}; expected an error or 200 without resources")
    body = reply.json_object()
    resources = [r for r in body.get("Resources") or [] if isinstance(r, dict)]
    if resources:
        raise Violation(f"{asked} returned {len(resources)} resource(s) (e.g. userName "
                        f"{show(field(resources[0], 'userName'))}) though none matches: the filter was ignored")
    ctx.passed(f"{asked}: 200 without resources")


# -- groups and the root ---------------------------------------------------------------------------------


@check("filter.group-members", "Group filters on displayName and members return exactly the matching groups",
       requirements=["7644-3.4.2.2-04", "7644-3.4.2.2-14"], level="MUST",
       per_resource_type=True, resource_types=(GROUP_URN,), needs=("filter",))
def group_members(ctx, rt):
    """On the population's groups: displayName eq in another case, members.value eq a user's id,
    members[value eq ...], members pr and not (members pr) return exactly the oracle's groups."""
    pop = get(ctx, rt)
    if not pop.users:
        raise NotApplicable("the population has no users to be members")
    carol = pop.users[2].id if len(pop.users) > 2 else pop.users[0].id
    first = field(pop.groups[0].data, "displayName")
    texts = _only(ctx, rt, [
        (("displayName",), f"displayName eq {q(str(first).upper())}"),
        (("members.value",), f"members.value eq {q(carol)}"),
        (("members.value",), f"members[value eq {q(pop.users[0].id)}]"),
        (("members",), "members pr"),
        (("members",), "not (members pr)"),
    ])
    if not texts:
        raise NotApplicable(f"the {rt.name} schema declares neither displayName nor members")
    ctx.passed(f"{run_filters(ctx, rt, texts, pop)} group filters returned exactly the oracle's groups")


@check("filter.root-query", "A filtered query at the service root covers every resource type",
       requirements=["7644-3.4.2.1-02", "7644-3.4.2.1-05", "7644-3.4.2.1-06"], level="MUST", needs=("filter",))
def root_query(ctx):
    """GET on the base URL with a filter matching the population's users and groups
    (userName sw ... or displayName sw ...) returns both; userName sw ... alone returns only the users
    (groups have no userName: no value, no match). A root that answers an error is not graded (such
    queries are a MAY)."""
    users = next((rt for rt in ctx.discovery.resource_types if rt.schema == USER_URN), None)
    groups = next((rt for rt in ctx.discovery.resource_types if rt.schema == GROUP_URN), None)
    if users is None or groups is None:
        raise NotApplicable("the target declares no User and Group resource types")
    pop = get(ctx, users)
    if not pop.groups:
        raise NotApplicable("the population has no groups")
    prefix = q(pop.prefix)
    cases = [
        (f"userName sw {prefix} or displayName sw {prefix}", {m.id for m in pop.users} | {m.id for m in pop.groups}),
        (f"userName sw {prefix}", {m.id for m in pop.users}),
        (f'(userName sw {prefix} or displayName sw {prefix}) and members pr',
         {m.id for m in pop.groups if field(m.data, "members")}),
    ]
    problems = []
    for text, want in cases:
        reply = ctx.http.get("", params={"filter": text})
        asked = f"GET /?filter={text}"
        if reply.status != 200:
            if not problems and text == cases[0][0]:
                raise NotApplicable(f"{asked} answered {reply.status}; queries at the root are optional")
            problems.append(f"{asked} answered {said(reply)}")
            continue
        body = reply.json_object()
        got = [str(field(r, "id")) for r in body.get("Resources") or [] if isinstance(r, dict)]
        total = body.get("totalResults")
        if set(got) != want and not (isinstance(total, int) and total > len(got) and set(got) < want):
            names = {m.id: m.name for m in pop.users + pop.groups}
            problems.append(f"{asked}: returned {show(sorted(names.get(i, i) for i in got), 100)}, expected "
                            f"{show(sorted(names[i] for i in want), 100)}")
        elif total != len(want):
            problems.append(f"{asked}: totalResults {total!r}, expected {len(want)}")
    expect(not problems, " | ".join(problems[:SHOWN]))
    ctx.passed(f"{len(cases)} root queries returned exactly the oracle's users and groups")


# -- generated filters ---------------------------------------------------------------------------------------


def budget(settings: Any = None) -> tuple[int, int | None]:
    """(examples, seed): the run's --examples/--seed, else SCIM_QUERY_EXAMPLES / SCIM_QUERY_SEED."""

    def number(name: str) -> int | None:
        raw = os.environ.get(name, "").strip()
        try:
            return int(raw) if raw else None
        except ValueError:
            return None

    examples = getattr(settings, "examples", None) or number("SCIM_QUERY_EXAMPLES") or DEFAULT_EXAMPLES
    seed = getattr(settings, "seed", None)
    if seed is None:
        seed = number("SCIM_QUERY_SEED")
    return max(1, examples), seed


def atoms_for(pop: Population, rt: ResourceType, discovery) -> list[filters.Expr]:
    """The simple comparisons the generator combines: for each declared attribute the population uses,
    the operators the RFC defines for its type, with values taken (and cut, and re-cased) from the
    population. ``ne`` only where every member has a value."""
    members = pop.members(rt)
    case_exact, types = pop.lookups(rt)
    paths = ["userName", "displayName", "title", "name.familyName", "name.givenName", "active", "emails.type",
             "emails.value", "meta.created"]
    if ENTERPRISE_URN in discovery.schemas and any(e.schema == ENTERPRISE_URN for e in rt.extensions):
        paths += [f"{ENTERPRISE_URN}:department", f"{ENTERPRISE_URN}:employeeNumber"]
    out: list[filters.Expr] = []
    for text in paths:
        path = filters.parse_path(text).attr
        if not path.dotted().startswith("meta.") and discovery.attribute(rt, text) is None:
            continue
        values = []
        for m in members:
            for v in filters.values_at(m.data, path, rt.schema):
                if v not in values and not isinstance(v, dict | list):
                    values.append(v)
        if not values:
            continue
        everyone = all(filters.values_at(m.data, path, rt.schema) for m in members)
        kind = types(path) or "string"
        out.append(filters.Present(path))
        for value in values[:4]:
            if isinstance(value, bool):
                out += [filters.Compare(path, "eq", value)]
                if everyone:
                    out.append(filters.Compare(path, "ne", value))
                continue
            if not isinstance(value, str):
                continue
            if kind == "dateTime":
                out += [filters.Compare(path, op, value) for op in ("eq", "gt", "ge", "lt", "le")]
                continue
            other = value if case_exact(path) else value.swapcase()
            out += [filters.Compare(path, "eq", other), filters.Compare(path, "sw", other[: max(1, len(value) // 2)]),
                    filters.Compare(path, "ew", value[-3:]), filters.Compare(path, "ew", other[-1:]),
                    filters.Compare(path, "co", other[1:4] or other),
                    filters.Compare(path, "gt", value), filters.Compare(path, "le", other)]
            if everyone:
                out.append(filters.Compare(path, "ne", other))
    return out


def strategy(atoms: list[filters.Expr], value_paths: list[filters.Expr]):
    from hypothesis import strategies as st

    leaves = st.sampled_from(atoms + value_paths)
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.builds(filters.And, inner, inner),
            st.builds(filters.Or, inner, inner),
            st.builds(filters.Not, inner),
        ),
        max_leaves=4,
    )


def value_paths_for(pop: Population, rt: ResourceType, discovery) -> list[filters.Expr]:
    if discovery.attribute(rt, "emails.type") is None:
        return []
    emails = filters.AttrPath(None, "emails")
    out: list[filters.Expr] = []
    starts = sorted({str(e.get("value", "")).split("@")[0] + "@" for m in pop.members(rt)
                     for e in (field(m.data, "emails") or []) if isinstance(e, dict)})
    for kind in ("work", "home", "other"):  # conditions that hold on different emails of one member too
        for start in starts:
            out.append(filters.ValuePath(emails, filters.And(
                filters.Compare(filters.AttrPath(None, "type"), "eq", kind),
                filters.Compare(filters.AttrPath(None, "value"), "sw", start))))
    if discovery.attribute(rt, "emails.primary") is not None:
        out.append(filters.ValuePath(emails, filters.Compare(filters.AttrPath(None, "primary"), "eq", True)))
    return out


@check("filter.generated", "Random valid filters over the declared attributes return exactly the oracle's set",
       requirements=["7644-3.4.2.2-04", "7644-3.4.2.2-18", "7644-3.4.2.2-23"], level="MUST", **USERS)
def generated(ctx, rt):
    """Filters drawn at random (hypothesis) from comparisons on the attributes the target declares
    (every operator its type allows, values from the population in other cases and cut), value
    filters on emails, combined with and/or/not; each, scoped to the population, returns exactly
    the resources the suite's evaluator finds. A difference is shrunk to the smallest failing filter,
    reported as a replayable request. Budget --examples (default 100), --seed (default: derandomized)."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis.errors import Flaky

    pop = get(ctx, rt)
    atoms = atoms_for(pop, rt, ctx.discovery)
    if not atoms:
        raise NotApplicable(f"the {rt.name} schema declares none of the attributes the generator uses")
    examples, seed = budget(ctx.run.settings)
    state: dict[str, Any] = {"best": None, "tried": 0, "deadline": None}

    class Mismatch(Exception):
        pass

    def probe(expr: filters.Expr) -> None:
        if state["deadline"] is not None and time.monotonic() > state["deadline"]:
            return  # shrinking budget spent: report the smallest difference found so far
        text = filters.unparse(expr)
        state["tried"] += 1
        out = pop.query(ctx, rt, text)
        found = difference(pop, rt, text, out)
        if found:
            if state["deadline"] is None:
                state["deadline"] = time.monotonic() + SHRINK_SECONDS
            if state["best"] is None or len(text) < len(state["best"][0]):
                state["best"] = (text, found, [r.exchange for r in out.replies])
            raise Mismatch(found)

    test = given(strategy(atoms, value_paths_for(pop, rt, ctx.discovery)))(probe)
    test = settings(max_examples=examples, derandomize=seed is None, database=None, deadline=None,
                    suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet,
                    phases=[Phase.explicit, Phase.generate, Phase.shrink], report_multiple_bugs=False)(test)
    if seed is not None:
        test = hypothesis_seed(seed)(test)
    sink = ctx.http.sink
    ctx.http.sink = None  # only the reported filter's exchanges are attached
    try:
        test()
    except (Mismatch, Flaky):
        if state["best"] is None:
            raise
    finally:
        ctx.http.sink = sink
    how = "derandomized" if seed is None else f"seed {seed}"
    if state["best"] is not None:
        text, found, exchanges = state["best"]
        for exchange in exchanges:
            ctx.attach(exchange)
        raise Violation(f"smallest failing filter found ({how}, {examples} examples): {text!r}. Replay: {found}")
    ctx.passed(f"{state['tried']} generated filters ({how}) returned exactly the oracle's resources")
