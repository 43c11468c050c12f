"""The query oracle (conformance/population.py): the population's payloads, its evaluation of filters,
sort orders, the generated filters, and the population's life on a real server."""

from __future__ import annotations

import pytest

from conformance import filters, population
from conformance.checks import rfc7644_s3_4_2_2_filtering as filtering
from conformance.checks import rfc7644_s3_4_2_3_sorting as sorting
from conformance.discovery import ENTERPRISE_URN, USER_URN, Attribute, Discovery, Extension, ResourceType, Schema
from conformance.engine import Run, Settings
from tests.targets import device_schemas

PREFIX = "sct00000000-pop"


def discovery() -> Discovery:
    found = Discovery()
    for raw in device_schemas():
        found.schemas[raw["id"]] = Schema(raw["id"], raw.get("name", ""),
                                          [Attribute.parse(a) for a in raw.get("attributes", [])])
    found.resource_types = [ResourceType("User", "User", "/Users", USER_URN, [Extension(ENTERPRISE_URN, False)])]
    return found


def users_rt(found: Discovery) -> ResourceType:
    return found.resource_types[0]


def oracle() -> population.Population:
    """The population as a server that stores what it is sent would return it."""
    found = discovery()
    rt = users_rt(found)
    pop = population.Population(prefix=PREFIX, discovery=found, users_rt=rt)
    for i in range(len(population.USERS)):
        body = population.user_body(found, rt, PREFIX, i)
        body["id"] = f"id{i}"
        body["meta"] = {"created": f"2026-01-01T00:00:0{i}Z", "lastModified": f"2026-01-01T00:00:0{i}Z"}
        pop.users.append(population.Member(rt, f"id{i}", body))
    return pop


def names(pop, ids):
    return sorted(pop.by_id(pop.users_rt)[i].name.split("-", 2)[2] for i in ids)


def test_user_bodies_carry_the_chosen_values_and_only_declared_attributes():
    found = discovery()
    rt = users_rt(found)
    bodies = [population.user_body(found, rt, PREFIX, i) for i in range(len(population.USERS))]
    assert [b["userName"] for b in bodies][:3] == [f"{PREFIX}0-alice", f"{PREFIX}1-Bob", f"{PREFIX}2-CAROL"]
    assert {b["active"] for b in bodies} == {True, False}
    assert sum("title" in b for b in bodies) == 4  # absent on two, for pr
    assert bodies[0][ENTERPRISE_URN] == {"employeeNumber": "1001", "department": "Research"}
    assert ENTERPRISE_URN not in bodies[3] and bodies[3]["schemas"] == [USER_URN]
    assert all("externalId" not in b for b in bodies)  # scim2-server's User schema does not declare it
    assert [e.get("primary") for e in bodies[2]["emails"]] == [None, True]  # the primary is not the first


def test_undeclared_attributes_are_not_sent():
    found = discovery()
    core = found.schemas[USER_URN]
    core.attributes = [a for a in core.attributes if a.name not in ("title", "emails")]
    body = population.user_body(found, users_rt(found), PREFIX, 0)
    assert "title" not in body and "emails" not in body and body["name"]["familyName"] == "Archer"


@pytest.mark.parametrize("text, expected", [
    ('userName eq "SCT00000000-POP1-BOB"', ["Bob"]),  # userName is caseExact=false
    ('name.familyName eq "archer"', ["Eve", "alice"]),
    ("title pr", ["CAROL", "alice", "dave", "frank"]),
    ("not (title pr)", ["Bob", "Eve"]),
    ('active eq false or title eq "engineer" and name.familyName eq "cole"', ["Bob", "CAROL", "dave"]),
    ('(active eq false or title eq "engineer") and name.familyName eq "cole"', ["CAROL"]),
    ('emails[type eq "other" and value sw "carol@"]', []),  # conditions on different emails
    ('emails.type eq "other" and emails.value sw "carol@"', ["CAROL"]),
    (f'{ENTERPRISE_URN}:department eq "research"', ["Bob", "alice", "frank"]),
    ('meta.created gt "2026-01-01T00:00:03Z"', ["Eve", "frank"]),
    ('meta.created le "2026-01-01T01:00:03+01:00"', ["Bob", "CAROL", "alice", "dave"]),  # instants, not text
])
def test_the_oracle_evaluates_filters_on_its_copies(text, expected):
    pop = oracle()
    assert names(pop, pop.expected(pop.users_rt, text)) == expected


def test_sort_groups_follow_case_insensitive_order_absent_last_and_primary_values():
    pop = oracle()
    rt = pop.users_rt
    ids = {m.id for m in pop.users}
    family = [names(pop, g) for g in pop.sorted_groups(rt, ids, "name.familyName", False)]
    assert family == [["Eve", "alice"], ["Bob"], ["CAROL"], ["dave"], ["frank"]]
    title = [names(pop, g) for g in pop.sorted_groups(rt, ids, "title", True)]
    assert title[0] == ["Bob", "Eve"]  # no value: first when descending
    emails = [names(pop, g) for g in pop.sorted_groups(rt, ids, "emails", False)]
    assert emails == [["alice"], ["Bob"], ["CAROL"], ["Eve"], ["frank"], ["dave"]]  # frank: primary z.frank


def test_order_problem_accepts_any_order_among_ties_only():
    pop = oracle()
    rt = pop.users_rt
    by_name = {m.name.split("-", 2)[2]: m.id for m in pop.users}
    good = [by_name[n] for n in ("Eve", "alice", "Bob", "CAROL", "dave", "frank")]
    assert sorting.order_problem(pop, rt, good, "name.familyName", False) is None
    bad = [by_name[n] for n in ("alice", "CAROL", "dave", "frank", "Eve", "Bob")]  # a case-sensitive sort
    assert "expected" in sorting.order_problem(pop, rt, bad, "name.familyName", False)


def test_generated_filters_parse_and_use_only_declared_attributes():
    from hypothesis import given, settings

    pop = oracle()
    atoms = filtering.atoms_for(pop, pop.users_rt, pop.discovery)
    ops = {a.op for a in atoms if isinstance(a, filters.Compare)}
    assert ops == {"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"}
    assert not any(isinstance(a, filters.Compare) and a.op == "ne" and a.path.attr == "title" for a in atoms)
    seen = []

    @settings(max_examples=30, derandomize=True, database=None)
    @given(filtering.strategy(atoms, filtering.value_paths_for(pop, pop.users_rt, pop.discovery)))
    def check(expr):
        text = filters.unparse(expr)
        assert filters.unparse(filters.parse(text)) == text
        pop.expected(pop.users_rt, text)  # the oracle can evaluate it
        seen.append(text)

    check()
    assert len(seen) == 30


def test_budget_from_settings_then_environment(monkeypatch):
    monkeypatch.delenv("SCIM_QUERY_EXAMPLES", raising=False)
    monkeypatch.delenv("SCIM_QUERY_SEED", raising=False)
    assert filtering.budget(None) == (filtering.DEFAULT_EXAMPLES, None)
    monkeypatch.setenv("SCIM_QUERY_EXAMPLES", "7")
    monkeypatch.setenv("SCIM_QUERY_SEED", "42")
    assert filtering.budget(None) == (7, 42)
    assert filtering.budget(Settings(url="x", seed=3, examples=9)) == (9, 3)
    monkeypatch.setenv("SCIM_QUERY_EXAMPLES", "lots")
    assert filtering.budget(None) == (filtering.DEFAULT_EXAMPLES, 42)


def test_population_is_made_once_queried_exactly_and_deleted_at_the_end(embedded_target):
    run = Run(Settings(url=embedded_target.url, token=embedded_target.token, select=("filter.", "page.", "sort.")))
    run.start()
    try:
        results = run.run_all()
        pop_prefix = f"{run.run_id}-pop"
        assert run.population is None  # deleted by finish()
        bad = [(r.id, r.message) for r in results if r.outcome.value not in ("pass", "skip")]
        assert not bad
        assert {r.check for r in results if r.outcome.value == "pass"} >= {
            "filter.generated", "filter.logical", "page.walk", "sort.typed"}
        left = run.http.get("Users", params={"filter": f'userName sw "{pop_prefix}"'}).json()
        groups = run.http.get("Groups", params={"filter": f'displayName sw "{pop_prefix}"'}).json()
        assert left["totalResults"] == 0 and groups["totalResults"] == 0
        assert not run.leftovers
        posts = {id(e) for r in results for e in r.exchanges if e.method == "POST" and "-pop" in (e.request_body or "")}
        assert len(posts) == 1  # made once (its first exchange is shown as evidence by each check), not per check
    finally:
        run.http.close()


def test_a_refused_member_skips_the_query_checks_and_what_was_made_is_deleted():
    from conformance.embedded import EmbeddedTarget

    from .faultkit import Fault, FaultMiddleware, Response

    def refuse_dave(req, forward):
        if req.method == "POST" and b"-pop3-dave" in req.body:
            return Response(400, [("Content-Type", "application/scim+json")], b'{"status": "400"}')
        return forward(req)

    holder = {}

    def wrap(app):
        holder["mw"] = FaultMiddleware(app)
        holder["mw"].active = Fault("refuse-dave", refuse_dave, ())
        return holder["mw"]

    with EmbeddedTarget(wrap=wrap) as target:
        run = Run(Settings(url=target.url, token=target.token, select=("filter.logical", "page.walk")))
        run.start()
        try:
            results = run.run_all()
            assert [r.outcome.value for r in results] == ["skip", "skip"]
            assert all("precondition: creating population User" in r.message and "400" in r.message
                       for r in results)
            left = run.http.get("Users", params={"filter": f'userName sw "{run.run_id}-pop"'}).json()
            assert left["totalResults"] == 0 and not run.leftovers  # the three made before dave are gone
        finally:
            run.http.close()


def test_a_query_whose_total_the_population_cannot_produce_is_not_walked():
    """A server ignoring the filter on a big tenant: the answer is graded from its first page only."""
    from types import SimpleNamespace

    class Http:
        def __init__(self):
            self.asked = []

        def get(self, path, params):
            self.asked.append(params)
            body = {"totalResults": 1_000_000, "startIndex": 1, "itemsPerPage": 2,
                    "Resources": [{"id": f"other{len(self.asked)}a"}, {"id": f"other{len(self.asked)}b"}]}
            return SimpleNamespace(status=200, maybe_json=lambda: body)

    pop = oracle()
    http = Http()
    out = pop.query(SimpleNamespace(http=http), pop.users_rt, "title pr")
    assert len(http.asked) == 1 and out.total == 1_000_000
    assert http.asked[0]["filter"] == f'(title pr) and userName sw "{PREFIX}"'
    assert "totalResults 1000000, expected 4" in filtering.difference(pop, pop.users_rt, "title pr", out)
