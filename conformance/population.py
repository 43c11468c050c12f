"""The query oracle: a small, seeded population of the run's own Users and Groups, and the suite's own
evaluation of filters, sort orders and pages over it (RFC 7644 §3.4.2.1-3.4.2.4).

The population is made once per run (on first use, cached on the :class:`~conformance.engine.Run`)
and deleted when the run ends. Its values are chosen to tell right from wrong answers: userNames that
differ in case, a family name in two cases, ``title`` absent on some (for ``pr``), ``active`` true
and false, several typed emails with one ``primary`` (not always the first), and the enterprise
extension on most users. Only attributes the target's /Schemas declares are sent. The copies the
server returns are the oracle's data, so server-made values (``meta.created``, defaults, a changed
case of a caseExact=false value) are what filters are evaluated on.

Every query is combined with the population's scope (``userName sw "<run id>-pop"`` on Users,
``displayName sw ...`` on Groups), so that its exact result is known on a tenant full of other data;
the whole tenant is never listed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import filters
from .discovery import ENTERPRISE_URN, GROUP_URN, USER_URN, Attribute, Discovery, ResourceType
from .http import Reply
from .support import field as get_field
from .support import parse_datetime
from .verdicts import ExchangeError, NotApplicable

POP = "pop"  # the population's names are "<run id>-pop<n>-<word>"; other suite data is "<run id>-<seq>..."

# (word after the prefix, family name, given name, title or None, active, emails, department or None)
# emails: (local part, type, primary); the domain makes "co"/"ew" tests on values meaningful
USERS: list[dict[str, Any]] = [
    {"word": "alice", "family": "Archer", "given": "Alice", "title": "Engineer", "active": True,
     "emails": [("alice", "work", True), ("alice.home", "home", False)], "dept": "Research", "number": "1001"},
    {"word": "Bob", "family": "bishop", "given": "Bob", "title": None, "active": False,
     "emails": [("bob", "home", True)], "dept": "research", "number": "1002"},
    {"word": "CAROL", "family": "Cole", "given": "carol", "title": "engineer", "active": True,
     "emails": [("carol.old", "other", False), ("carol", "work", True)], "dept": "Sales", "number": "0999"},
    {"word": "dave", "family": "Dunn", "given": None, "title": "Manager", "active": False,
     "emails": [], "dept": None, "number": None},
    {"word": "Eve", "family": "archer", "given": "Eve", "title": None, "active": True,
     "emails": [("eve", "work", False)], "dept": "Sales", "number": "1003"},
    {"word": "frank", "family": "Evans", "given": "Frank", "title": "Boss", "active": True,
     "emails": [("a.frank", "home", False), ("z.frank", "work", True)], "dept": "Research", "number": "2000"},
]
GROUPS: list[dict[str, Any]] = [
    {"word": "admins", "members": [0, 2]},
    {"word": "Staff", "members": [1, 2, 3]},
    {"word": "EMPTY", "members": []},
]


class PopulationError(Exception):
    """The population could not be made (a create refused): the query checks skip with the reason."""


@dataclass
class Member:
    """One resource of the population: the server's copy (the oracle's data)."""

    rt: ResourceType
    id: str
    data: dict[str, Any]

    @property
    def path(self) -> str:
        return f"{self.rt.path}/{self.id}"

    @property
    def name(self) -> str:
        value = get_field(self.data, "userName") or get_field(self.data, "displayName")
        return str(value) if value is not None else self.id


@dataclass
class Outcome:
    """A query's answer, read: the ids of every page walked, the totals, the replies."""

    params: dict[str, str]
    replies: list[Reply] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    total: Any = None
    status: int = 200
    body: Any = None

    @property
    def reply(self) -> Reply:
        return self.replies[-1]


@dataclass
class Population:
    """The run's seeded population and the oracle over it."""

    prefix: str
    discovery: Discovery
    users_rt: ResourceType | None = None
    groups_rt: ResourceType | None = None
    users: list[Member] = field(default_factory=list)
    groups: list[Member] = field(default_factory=list)
    created: list[tuple[ResourceType, str]] = field(default_factory=list)
    exchanges: list[Any] = field(default_factory=list)
    problem: str | None = None

    # -- the scope ----------------------------------------------------------------------------------
    def members(self, rt: ResourceType) -> list[Member]:
        if self.users_rt is not None and rt.name == self.users_rt.name:
            return self.users
        if self.groups_rt is not None and rt.name == self.groups_rt.name:
            return self.groups
        return []

    def scope_attr(self, rt: ResourceType) -> str:
        return "userName" if rt.schema == USER_URN else "displayName"

    def scope(self, rt: ResourceType) -> str:
        """The filter that bounds every query on ``rt`` to the population."""
        return f"{self.scope_attr(rt)} sw {json.dumps(self.prefix)}"

    def scoped(self, rt: ResourceType, text: str | None) -> str:
        return self.scope(rt) if not text else f"({text}) and {self.scope(rt)}"

    def by_id(self, rt: ResourceType) -> dict[str, Member]:
        return {m.id: m for m in self.members(rt)}

    def names(self, rt: ResourceType, ids: list[str] | set[str]) -> list[str]:
        """Readable names for ids (ids of resources outside the population stay ids)."""
        known = self.by_id(rt)
        return [known[i].name if i in known else i for i in ids]

    # -- the oracle ---------------------------------------------------------------------------------
    def lookups(self, rt: ResourceType) -> tuple[filters.CaseExact, filters.Types]:
        return filters.schema_lookups(self.discovery, rt)

    def expected(self, rt: ResourceType, text: str) -> set[str]:
        """Ids of the population members of ``rt`` that ``text`` matches (raises FilterError)."""
        expr = filters.parse(text)
        case_exact, types = self.lookups(rt)
        return {
            m.id for m in self.members(rt)
            if filters.matches(expr, m.data, case_exact, types=types, core_schema=rt.schema)
        }

    def sort_key(self, rt: ResourceType, sort_by: str) -> Callable[[Member], Any]:
        """The value a member sorts by (RFC 7644 §3.4.2.3): a singular attribute's value, a multi-valued
        attribute's primary value (else its first), strings folded unless caseExact; None when absent."""
        path = filters.parse_path(sort_by).attr
        case_exact, types = self.lookups(rt)
        exact, kind = case_exact(path), types(path)
        attr = self.discovery.attribute(rt, path.dotted() if not path.urn else str(path))

        def key(member: Member) -> Any:
            container = filters._container(member.data, path.urn, rt.schema)
            value = filters._get_ci(container, path.attr)
            if isinstance(value, list):
                chosen = next((v for v in value if isinstance(v, dict) and v.get("primary") is True), None)
                value = chosen if chosen is not None else (value[0] if value else None)
            if path.sub:
                value = filters._get_ci(value, path.sub)
            elif isinstance(value, dict) or (attr is not None and attr.multi_valued):
                value = filters._get_ci(value, "value") if isinstance(value, dict) else value
            if value is None or value == "":
                return None
            if kind == "dateTime" or (isinstance(value, str) and parse_datetime(value) and kind is None):
                return parse_datetime(value)
            if isinstance(value, str) and not exact:
                return value.casefold()
            return value

        return key

    def sorted_groups(self, rt: ResourceType, ids: set[str], sort_by: str, descending: bool) -> list[set[str]]:
        """The expected order of ``ids`` as a list of tie groups (members with equal keys may come in
        any order among themselves); members without a value come last ascending, first descending."""
        key = self.sort_key(rt, sort_by)
        known = self.by_id(rt)
        valued: dict[Any, set[str]] = {}
        missing: set[str] = set()
        for rid in ids:
            k = key(known[rid])
            (missing.add(rid) if k is None else valued.setdefault(k, set()).add(rid))
        order = [valued[k] for k in sorted(valued, reverse=descending)]
        if missing:
            order = [missing, *order] if descending else [*order, missing]
        return order

    # -- asking the target --------------------------------------------------------------------------
    def query(self, ctx, rt: ResourceType, text: str | None, *, walk: bool = True,
              extra: dict[str, str] | None = None, raw_filter: bool = False) -> Outcome:
        """GET ``rt`` with ``text`` within the scope (``raw_filter``: as given, already scoped); with
        ``walk`` every page is fetched (startIndex after the last) until totalResults are read."""
        params = {"filter": text if raw_filter else self.scoped(rt, text), **(extra or {})}
        out = Outcome(params=params)
        reply = ctx.http.get(rt.path, params=params)
        out.replies.append(reply)
        out.status, out.body = reply.status, reply.maybe_json()
        if reply.status != 200 or not isinstance(out.body, dict):
            return out
        out.total = out.body.get("totalResults")
        page = [r for r in out.body.get("Resources") or [] if isinstance(r, dict)]
        out.ids = [str(get_field(r, "id")) for r in page]
        seen = len(page)
        start = _int(out.body.get("startIndex")) or 1
        bound = 2 * len(self.members(rt)) + 10  # more matches than that: already wrong, and never the whole tenant
        while walk and isinstance(out.total, int) and seen < out.total <= bound and page and len(out.replies) < 50:
            start += len(page)
            more = ctx.http.get(rt.path, params={**params, "startIndex": str(start)})
            out.replies.append(more)
            body = more.maybe_json()
            if more.status != 200 or not isinstance(body, dict):
                break
            page = [r for r in body.get("Resources") or [] if isinstance(r, dict)]
            out.ids.extend(str(get_field(r, "id")) for r in page)
            seen += len(page)
        return out

    def request_text(self, rt: ResourceType, params: dict[str, str]) -> str:
        return f"GET {rt.endpoint}?" + "&".join(f"{k}={v}" for k, v in params.items())

    # -- lifecycle ----------------------------------------------------------------------------------
    def delete(self, run) -> None:
        for rt, rid in reversed(self.created):
            try:
                reply = run.http.delete(f"{rt.path}/{rid}")
                if reply.status not in (200, 204, 404):
                    run.leftovers.append(f"{rt.path}/{rid} (DELETE answered {reply.status})")
            except ExchangeError as exc:
                run.leftovers.append(f"{rt.path}/{rid} ({exc.message})")
        self.created.clear()


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# -- building ------------------------------------------------------------------------------------------------


def _declared(discovery: Discovery, schema_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` without the attributes (and sub-attributes) the target's schema does not declare as writable."""
    schema = discovery.schemas.get(schema_id)
    if schema is None:
        return body
    out: dict[str, Any] = {}
    for key, value in body.items():
        attr = schema.attribute(key)
        if attr is None or attr.mutability not in ("readWrite", "immutable", "writeOnly"):
            continue
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if _sub_ok(attr, k)}
        elif isinstance(value, list):
            value = [{k: v for k, v in item.items() if _sub_ok(attr, k)} for item in value]
        if value not in ({}, []):
            out[attr.name] = value
    return out


def _sub_ok(attr: Attribute, name: str) -> bool:
    sub = attr.sub(name)
    return sub is not None and sub.mutability in ("readWrite", "immutable", "writeOnly")


def user_body(discovery: Discovery, rt: ResourceType, prefix: str, index: int) -> dict[str, Any]:
    spec = USERS[index]
    user_name = f"{prefix}{index}-{spec['word']}"
    body: dict[str, Any] = {
        "userName": user_name,
        "externalId": f"{prefix}{index}-Ext",
        "name": {k: v for k, v in (("familyName", spec["family"]), ("givenName", spec["given"])) if v},
        "displayName": f"{spec['given'] or spec['word']} {spec['family']}",
        "active": spec["active"],
        "emails": [
            {"value": f"{local}@{prefix}.example.org", "type": kind, **({"primary": True} if primary else {})}
            for local, kind, primary in spec["emails"]
        ],
    }
    if spec["title"]:
        body["title"] = spec["title"]
    body = _declared(discovery, rt.schema, body)
    schemas = [rt.schema]
    if spec["dept"] and any(e.schema == ENTERPRISE_URN for e in rt.extensions) and ENTERPRISE_URN in discovery.schemas:
        ext = _declared(discovery, ENTERPRISE_URN, {"employeeNumber": spec["number"], "department": spec["dept"]})
        if ext:
            body[ENTERPRISE_URN] = ext
            schemas.append(ENTERPRISE_URN)
    return {"schemas": schemas, **body}


def group_body(discovery: Discovery, rt: ResourceType, prefix: str, index: int, user_ids: list[str]) -> dict[str, Any]:
    spec = GROUPS[index]
    body: dict[str, Any] = {"displayName": f"{prefix}{index}-{spec['word']}", "externalId": f"{prefix}g{index}"}
    members = [{"value": user_ids[i]} for i in spec["members"] if i < len(user_ids)]
    if members:
        body["members"] = members
    return {"schemas": [rt.schema], **_declared(discovery, rt.schema, body)}


def build(run) -> Population:
    """Create the population on the target (users, then groups), and read every member back."""
    from .engine import deferred_interrupts

    pop = Population(prefix=f"{run.run_id}-{POP}", discovery=run.discovery)
    run.population = pop  # known to Run.finish from the first create on, so Ctrl-C mid-build strands nothing
    pop.users_rt = next((rt for rt in run.discovery.resource_types if rt.schema == USER_URN), None)
    pop.groups_rt = next((rt for rt in run.discovery.resource_types if rt.schema == GROUP_URN), None)
    sink = run.http.sink
    run.http.sink = pop.exchanges  # kept apart; a check attaches them when it uses the population
    try:
        user_ids: list[str] = []
        if pop.users_rt is not None:
            for i in range(len(USERS)):
                user_ids.append(_create(run, pop, pop.users_rt, user_body(run.discovery, pop.users_rt, pop.prefix, i)))
        if pop.groups_rt is not None:
            for i in range(len(GROUPS)):
                _create(run, pop, pop.groups_rt,
                        group_body(run.discovery, pop.groups_rt, pop.prefix, i, user_ids))
        with deferred_interrupts():
            for rt, rid in pop.created:  # the stored copies, after every membership change
                reply = run.http.get(f"{rt.path}/{rid}")
                data = reply.maybe_json()
                if reply.status != 200 or not isinstance(data, dict):
                    raise PopulationError(f"GET {rt.endpoint}/{rid} of a new population member answered "
                                          f"{reply.status}")
                (pop.users if rt is pop.users_rt else pop.groups).append(Member(rt, rid, data))
        for rt in (pop.users_rt, pop.groups_rt):  # the scope itself must be understood, or nothing is bounded
            if rt is not None and pop.members(rt):
                reply = run.http.get(rt.path, params={"filter": pop.scope(rt), "count": "1"})
                if reply.status != 200:
                    raise PopulationError(f"the scoping query GET {rt.endpoint}?filter={pop.scope(rt)} answered "
                                          f"{reply.status}; without it the query checks cannot bound their queries "
                                          "to the suite's own data")
    except PopulationError as exc:
        pop.problem = str(exc)
    except ExchangeError as exc:
        pop.problem = f"making the population: {exc.message}"
    finally:
        run.http.sink = sink
    return pop


def _create(run, pop: Population, rt: ResourceType, body: dict[str, Any]) -> str:
    from .engine import deferred_interrupts

    with deferred_interrupts():
        created = run.post_resource(rt, body)
        if created.id:
            pop.created.append((rt, created.id))
    if created.reply.status not in (200, 201) or not created.id:
        raise PopulationError(f"creating population {rt.name} {body.get('userName') or body.get('displayName')} "
                              f"answered {created.reply.status}; see the create checks")
    return created.id


def get(ctx, rt: ResourceType | None = None) -> Population:
    """The run's population (made on first use); skips the calling check when it could not be made or
    holds no member of ``rt``."""
    run = ctx.run
    with run.lock:  # one population per run, also when checks run in parallel (-n)
        if getattr(run, "population", None) is None:
            run.population = build(run)
    pop: Population = run.population
    for exchange in pop.exchanges[:1]:
        ctx.attach(exchange)
    if pop.problem:
        raise NotApplicable(f"precondition: {pop.problem}")
    if rt is not None and not pop.members(rt):
        raise NotApplicable(f"the suite's query population has no {rt.name} (only User and Group are populated)")
    return pop
