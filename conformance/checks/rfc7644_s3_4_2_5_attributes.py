"""RFC 7644 §3.4.2.5 and §3.9 with RFC 7643 §7 ("returned") — attributes and excludedAttributes.

Each check first reads the resource in its default form (a plain GET), then asks for a partial form
and compares the two: with ``attributes`` the answer holds the minimum set (``id``, ``schemas`` and
every attribute the target's /Schemas declares returned "always") plus what was named, and none of
the other attributes the default form shows; with ``excludedAttributes`` it holds the default form
minus what was named, but never loses an "always" attribute. "returned" comes from the target's own
/Schemas; the common attributes keep the characteristics RFC 7643 §3.1 gives them (id always,
externalId and meta default), whatever an older schema says. Attributes returned "never" must be
absent from every form.

Already graded elsewhere, so not repeated here: a URN-qualified core name in ``attributes``
(names.attributes-parameter-urn) and a returned="never" attribute in the create answer, a GET and a
GET naming it (attributes.returned-never).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..discovery import PATCH_URN, Discovery, ResourceType, list_resources
from ..engine import Created
from ..registry import check
from ..support import SHOWN, get_ci, said, show
from ..verdicts import NotApplicable, Violation, expect
from .rfc7644_s3_3_create import naming

COMMON = {"id": "always", "externalid": "default", "meta": "default"}  # RFC 7643 §3.1
EMPTY = (None, "", [], {})

# -- the model: what a partial representation must and must not hold -------------------------------------------


@dataclass(frozen=True)
class Path:
    """An attribute reference: ``urn`` is None for the core schema, else the extension's URN."""

    urn: str | None
    name: str
    sub: str | None = None

    def __str__(self) -> str:
        base = f"{self.urn}:{self.name}" if self.urn else self.name
        return f"{base}.{self.sub}" if self.sub else base

    @property
    def top(self) -> Path:
        return Path(self.urn, self.name)

    def same(self, other: Path) -> bool:
        return (str(self).lower() == str(other).lower())


def parse_path(rt: ResourceType, text: str) -> Path:
    """``name``, ``name.sub``, or either prefixed with the core or an extension schema URN."""
    lowered = text.lower()
    urn: str | None = None
    for schema in sorted([rt.schema, *(e.schema for e in rt.extensions)], key=len, reverse=True):
        if lowered.startswith(schema.lower() + ":"):
            urn = None if schema == rt.schema else schema
            text = text[len(schema) + 1:]
            break
    name, _, sub = text.partition(".")
    return Path(urn, name, sub or None)


def lookup(body: Any, path: Path) -> Any:
    """The value at ``path`` in a resource (names case-insensitive); for a sub-attribute of a
    multi-valued attribute, the list of the elements' values. None when absent."""
    container = body
    if path.urn is not None:
        container = get_ci(body, path.urn)[1]
    value = get_ci(container, path.name)[1]
    if path.sub is None or value is None:
        return value
    if isinstance(value, list):
        subs = [get_ci(v, path.sub)[1] for v in value if isinstance(v, dict)]
        subs = [s for s in subs if s not in EMPTY]
        return subs or None
    return get_ci(value, path.sub)[1]


def present(body: Any, path: Path) -> bool:
    return lookup(body, path) not in EMPTY


def returned_of(discovery: Discovery, rt: ResourceType, path: Path) -> str | None:
    """The "returned" characteristic of ``path`` per the target's /Schemas (RFC 7643 §3.1 for the
    common attributes); None when the schema does not declare the attribute."""
    if path.urn is None and path.name.lower() in COMMON:
        return COMMON[path.name.lower()]
    schema = discovery.schemas.get(path.urn or rt.schema)
    attr = schema.attribute(path.name) if schema else None
    if attr is None:
        return None
    if path.sub is not None:
        sub = attr.sub(path.sub)
        if attr.returned.lower() in ("always", "never"):
            return attr.returned.lower()
        return sub.returned.lower() if sub is not None else None
    return attr.returned.lower()


def paths_of(discovery: Discovery, rt: ResourceType, body: dict[str, Any]) -> list[Path]:
    """Every attribute and sub-attribute ``body`` holds whose "returned" the target declares."""
    extensions = {e.schema.lower(): e.schema for e in rt.extensions}
    out: list[Path] = []

    def add(urn: str | None, key: str, value: Any) -> None:
        top = Path(urn, key)
        if returned_of(discovery, rt, top) is None or value in EMPTY:
            return
        out.append(top)
        items = value if isinstance(value, list) else [value]
        subs = {k for item in items if isinstance(item, dict) for k, v in item.items() if v not in EMPTY}
        for sub in sorted(subs):
            path = Path(urn, key, sub)
            if returned_of(discovery, rt, path) is not None:
                out.append(path)

    for key, value in body.items():
        if not isinstance(key, str) or key.lower() == "schemas":
            continue
        if key.lower() in extensions and isinstance(value, dict):
            for ext_key, ext_value in value.items():
                add(extensions[key.lower()], ext_key, ext_value)
        else:
            add(None, key, value)
    return out


@dataclass
class Expectation:
    """What a partial representation must hold (``must``) and must not hold (``must_not``)."""

    must: list[Path] = field(default_factory=list)
    must_not: list[Path] = field(default_factory=list)


def _covers(asked: Path, path: Path) -> bool:
    """Does naming ``asked`` ask for ``path``? (a whole attribute covers its sub-attributes)"""
    if asked.same(path):
        return True
    return asked.sub is None and path.sub is not None and asked.same(path.top)


def _contains(asked: Path, path: Path) -> bool:
    """Is ``path`` a parent whose sub-attribute ``asked`` names? (it must then be there, partly)"""
    return path.sub is None and asked.sub is not None and asked.top.same(path)


def expectation(discovery: Discovery, rt: ResourceType, full: dict[str, Any], *,
                attributes: list[str] | None = None, excluded: list[str] | None = None) -> Expectation:
    """What the answer to a request with ``attributes`` or ``excludedAttributes`` must hold, given
    the resource's default representation ``full`` (RFC 7644 §3.9, RFC 7643 §7)."""
    out = Expectation()
    asked = [parse_path(rt, a) for a in attributes or []]
    dropped = [parse_path(rt, a) for a in excluded or []]
    for path in paths_of(discovery, rt, full):
        returned = returned_of(discovery, rt, path)
        if returned == "always":
            out.must.append(path)
        elif returned == "never":
            out.must_not.append(path)
        elif attributes is not None:
            wanted = any(_covers(a, path) or _contains(a, path) for a in asked)
            (out.must if wanted else out.must_not).append(path)
        elif returned == "request":
            continue  # not in the default set; when it shows anyway, projection.returned-request says so
        elif excluded is not None:
            gone = any(_covers(d, path) for d in dropped)
            (out.must_not if gone else out.must).append(path)
        else:
            out.must.append(path)
    if not any(p.urn is None and p.name.lower() == "id" and p.sub is None for p in out.must):
        out.must.insert(0, Path(None, "id"))
    return out


def view_problems(full: dict[str, Any], view: Any, expected: Expectation, *, listed: bool = False) -> list[str]:
    """How ``view`` breaks ``expected``: missing minimum/requested attributes, values that differ
    from the default representation, attributes that should have been left out. A resource of a
    list (``listed``) is not asked for schemas: RFC 7644's own list examples with attributes= (§3.4.2,
    §3.4.3) leave it out."""
    if not isinstance(view, dict):
        return [f"the answer is {show(view)}, not a resource"]
    problems = []
    schemas = get_ci(view, "schemas")[1]
    if not listed and (not isinstance(schemas, list) or not schemas):
        problems.append("schemas is missing")
    for path in expected.must:
        if not present(view, path):
            problems.append(f"{path} is missing")
        elif path.sub is not None or not isinstance(lookup(full, path), (dict, list)):
            if _normal(lookup(view, path)) != _normal(lookup(full, path)) and path.name.lower() != "meta":
                problems.append(f"{path} is {show(lookup(view, path), 50)}, the default form shows "
                                f"{show(lookup(full, path), 50)}")
    for path in expected.must_not:
        shown_whole = path.sub is not None and path.top in expected.must_not and present(view, path.top)
        if present(view, path) and not shown_whole:
            problems.append(f"{path} is returned")
    return problems


def _normal(value: Any) -> Any:
    return sorted(json.dumps(v, sort_keys=True) for v in value) if isinstance(value, list) else value


def problems_text(problems: list[str]) -> str:
    more = f" (and {len(problems) - SHOWN} more)" if len(problems) > SHOWN else ""
    return "; ".join(problems[:SHOWN]) + more


# -- choosing what to ask for ---------------------------------------------------------------------------------


def default_form(ctx, created: Created) -> dict[str, Any]:
    """The resource as a plain GET shows it (the reference every partial form is compared with)."""
    reply = ctx.http.get(created.path)
    body = reply.maybe_json()
    if reply.status != 200 or not isinstance(body, dict):
        raise NotApplicable(f"precondition: GET {created.rt.endpoint}/{created.id} answered {said(reply)}; "
                            "see the retrieve checks")
    return body


def _defaults(ctx, rt: ResourceType, full: dict[str, Any]) -> list[Path]:
    return [p for p in paths_of(ctx.discovery, rt, full)
            if p.sub is None and returned_of(ctx.discovery, rt, p) == "default"]


def exclusion_candidate(ctx, rt: ResourceType, full: dict[str, Any]) -> Path:
    """A default attribute of ``full`` to leave out: a schema attribute other than the naming one
    when there is one, else meta or externalId, else the naming attribute."""
    name = naming(ctx, rt).lower()
    defaults = _defaults(ctx, rt, full)
    for path in defaults:
        if path.urn is None and path.name.lower() not in (name, "meta", "externalid"):
            return path
    for path in defaults:
        if path.name.lower() != name:
            return path
    if defaults:
        return defaults[0]
    raise NotApplicable(f"the {rt.name} holds no attribute returned by default to exclude")


def _pick_sub(ctx, rt: ResourceType, full: dict[str, Any]) -> Path:
    """A sub-attribute of a complex attribute ``full`` holds with at least one other sub-attribute."""
    paths = paths_of(ctx.discovery, rt, full)
    tops = [p for p in paths if p.sub is None and returned_of(ctx.discovery, rt, p) == "default"]
    tops.sort(key=lambda p: p.urn is None and p.name.lower() in COMMON)  # the schema's own attributes first
    for top in tops:
        subs = [p for p in paths if p.sub is not None and p.top == top
                and returned_of(ctx.discovery, rt, p) == "default"]
        if len(subs) >= 2:
            return subs[0]
    raise NotApplicable(f"the {rt.name} holds no complex attribute with two sub-attributes returned by default")


def _grade(ctx, rt: ResourceType, full: dict[str, Any], reply, asked: str, **kw: list[str]) -> None:
    expect(reply.status == 200, f"{asked} answered {said(reply)}; expected 200")
    expected = expectation(ctx.discovery, rt, full, **kw)
    problems = view_problems(full, reply.json(), expected)
    expect(not problems, f"{asked}: {problems_text(problems)}")


def _qs(params: dict[str, str]) -> str:
    return "&".join(f"{k}={v}" for k, v in params.items())


# -- GET by id -----------------------------------------------------------------------------------------------


@check(
    "projection.attributes-get",
    "attributes= on GET returns the minimum set and the named attribute, nothing else",
    requirements=["7644-3.4.2.5-01", "7644-3.4.2.5-02", "7644-3.9-02"],
    level="MUST",
    per_resource_type=True,
)
def attributes_get(ctx, rt):
    """GET of the run's sample with attributes=<naming attribute> holds id, schemas, every attribute
    declared returned "always", and the naming attribute with the value the default form shows;
    none of the other attributes the default form holds (meta and externalId included: they are
    returned "default")."""
    sample = ctx.sample(rt)
    full = default_form(ctx, sample)
    name = naming(ctx, rt)
    params = {"attributes": name}
    reply = ctx.http.get(sample.path, params=params)
    _grade(ctx, rt, full, reply, f"GET {rt.endpoint}/{sample.id}?{_qs(params)}", attributes=[name])
    ctx.passed(f"attributes={name}: minimum set and {name} only")


@check(
    "projection.excluded-get",
    "excludedAttributes= on GET leaves out the named attribute and keeps the rest",
    requirements=["7644-3.4.2.5-01", "7644-3.4.2.5-02", "7644-3.9-03"],
    level="MUST",
    per_resource_type=True,
)
def excluded_get(ctx, rt):
    """GET of the run's sample with excludedAttributes=<a default attribute it holds> leaves that
    attribute out and still holds every other attribute of the default form, with the same values."""
    sample = ctx.sample(rt)
    full = default_form(ctx, sample)
    gone = str(exclusion_candidate(ctx, rt, full))
    params = {"excludedAttributes": gone}
    reply = ctx.http.get(sample.path, params=params)
    _grade(ctx, rt, full, reply, f"GET {rt.endpoint}/{sample.id}?{_qs(params)}", excluded=[gone])
    ctx.passed(f"excludedAttributes={gone}: left out, the rest kept")


@check(
    "projection.excluded-always",
    'excludedAttributes cannot remove an attribute returned "always" (id)',
    requirements=["7644-3.4.2.5-04", "7644-3.9-03"],
    level="MUST",
    per_resource_type=True,
)
def excluded_always(ctx, rt):
    """GET of the run's sample with excludedAttributes naming id and every attribute the target
    declares returned "always" still holds each of them (and schemas)."""
    sample = ctx.sample(rt)
    full = default_form(ctx, sample)
    always = [p for p in paths_of(ctx.discovery, rt, full)
              if returned_of(ctx.discovery, rt, p) == "always" and p.sub is None]
    names = [str(p) for p in always] or ["id"]
    params = {"excludedAttributes": ",".join(names)}
    reply = ctx.http.get(sample.path, params=params)
    asked = f"GET {rt.endpoint}/{sample.id}?{_qs(params)}"
    expect(reply.status == 200, f"{asked} answered {said(reply)}; expected 200")
    view = reply.json()
    missing = [n for n in ["schemas", *names] if not present(view, parse_path(rt, n))]
    expect(not missing, f"{asked}: {', '.join(missing)} left out; returned \"always\" is not excludable")
    ctx.passed(f"{', '.join(names)} kept despite excludedAttributes")


@check(
    "projection.sub-attribute",
    "attributes=<attr>.<sub> returns that sub-attribute only; excludedAttributes=<attr>.<sub> drops it only",
    requirements=["7644-3.9-02", "7644-3.4.2.5-01"],
    level="MUST",
    per_resource_type=True,
)
def sub_attribute(ctx, rt):
    """For a complex attribute the sample holds with two or more sub-attributes (a User's name), GET
    with attributes=<attr>.<sub> (e.g. name.givenName) returns the attribute holding that
    sub-attribute only; GET with excludedAttributes=<attr>.<sub> keeps the other sub-attributes and
    drops that one."""
    sample = ctx.sample(rt)
    full = default_form(ctx, sample)
    path = str(_pick_sub(ctx, rt, full))
    for key in ("attributes", "excludedAttributes"):
        params = {key: path}
        reply = ctx.http.get(sample.path, params=params)
        kw = {"attributes": [path]} if key == "attributes" else {"excluded": [path]}
        _grade(ctx, rt, full, reply, f"GET {rt.endpoint}/{sample.id}?{_qs(params)}", **kw)
    ctx.passed(f"attributes={path} and excludedAttributes={path} select the sub-attribute")


@check(
    "projection.names-any-case",
    "attributes and excludedAttributes match attribute names case-insensitively",
    requirements=["7644-3.4.2.5-01", "7643-2.1-02"],
    level="MUST",
    per_resource_type=True,
)
def names_any_case(ctx, rt):
    """Attribute names are case-insensitive (RFC 7643 §2.1): GET with attributes=<NAMING ATTRIBUTE
    upper-cased> returns it as attributes=<naming attribute> would, and excludedAttributes with an
    upper-cased name leaves that attribute out."""
    sample = ctx.sample(rt)
    full = default_form(ctx, sample)
    name = naming(ctx, rt).upper()
    gone = str(exclusion_candidate(ctx, rt, full))
    gone = gone[: len(gone) - len(gone.rsplit(":", 1)[-1])] + gone.rsplit(":", 1)[-1].upper()
    for key, value in (("attributes", name), ("excludedAttributes", gone)):
        params = {key: value}
        reply = ctx.http.get(sample.path, params=params)
        kw = {"attributes": [value]} if key == "attributes" else {"excluded": [value]}
        _grade(ctx, rt, full, reply, f"GET {rt.endpoint}/{sample.id}?{_qs(params)}", **kw)
    ctx.passed(f"attributes={name} and excludedAttributes={gone} understood")


@check(
    "projection.extension-attribute",
    "attributes and excludedAttributes select an extension attribute by its URN-qualified name",
    requirements=["7644-3.4.2.5-01", "7644-3.9-02"],
    level="MUST",
    per_resource_type=True,
)
def extension_attribute(ctx, rt):
    """For an extension attribute the sample holds (e.g. the enterprise employeeNumber), GET with
    attributes=<extension URN>:<attr> returns the extension holding that attribute and none of the
    core attributes returned by default; excludedAttributes=<extension URN>:<attr> drops it only."""
    sample = ctx.sample(rt)
    full = default_form(ctx, sample)
    ext = [p for p in paths_of(ctx.discovery, rt, full)
           if p.urn is not None and p.sub is None and returned_of(ctx.discovery, rt, p) == "default"]
    if not ext:
        raise NotApplicable(f"the sample {rt.name} holds no extension attribute returned by default")
    path = str(ext[0])
    for key in ("attributes", "excludedAttributes"):
        params = {key: path}
        reply = ctx.http.get(sample.path, params=params)
        kw = {"attributes": [path]} if key == "attributes" else {"excluded": [path]}
        _grade(ctx, rt, full, reply, f"GET {rt.endpoint}/{sample.id}?{_qs(params)}", **kw)
    ctx.passed(f"attributes={path} and excludedAttributes={path} select the extension attribute")


# -- returned "request" and "never" ------------------------------------------------------------------------------


def _request_attributes(ctx, rt: ResourceType) -> list[tuple[str | None, Any]]:
    out = []
    for urn in [None, *(e.schema for e in rt.extensions)]:
        schema = ctx.discovery.schemas.get(urn or rt.schema)
        for attr in schema.attributes if schema else []:
            if attr.returned.lower() == "request":
                out.append((urn, attr))
    return out


@check(
    "projection.returned-request",
    'An attribute returned "request" is left out by default and returned when named',
    requirements=["7644-3.4.2.5-01", "7644-3.9-02"],
    level="MUST",
    per_resource_type=True,
)
def returned_request(ctx, rt):
    """For each attribute the target's /Schemas declares returned "request", a resource is created
    with a value for it where the client can write one; a plain GET leaves it out, and GET with
    attributes=<it> returns it."""
    declared = _request_attributes(ctx, rt)
    if not declared:
        raise NotApplicable(f'the schemas of {rt.name} declare no attribute returned "request"')
    body = ctx.payload(rt)
    written = []
    for urn, attr in declared:
        target = body if urn is None else body.setdefault(urn, {})
        if not get_ci(target, attr.name)[0]:
            if attr.multi_valued or attr.type != "string" or attr.mutability not in ("readWrite", "immutable") \
                    or attr.canonical_values or attr.uniqueness != "none":
                continue
            target[attr.name] = ctx.tag("request")
        if urn is not None and urn not in body["schemas"]:
            body["schemas"].append(urn)
        written.append(Path(urn, attr.name))
    for key in [k for k, v in body.items() if v == {}]:
        del body[key]
    if not written:
        raise NotApplicable(f'no attribute of {rt.name} returned "request" can be given a value by the suite')
    created = ctx.created_ok(rt, body)
    full = default_form(ctx, created)
    shown = [str(p) for p in written if present(full, p)]
    expect(not shown, f"GET {rt.endpoint}/{created.id} returns {', '.join(shown)}, declared returned \"request\"")
    for path in written:
        reply = ctx.http.get(created.path, params={"attributes": str(path)})
        asked = f"GET {rt.endpoint}/{created.id}?attributes={path}"
        expect(reply.status == 200, f"{asked} answered {said(reply)}; expected 200")
        expect(present(reply.json(), path), f"{asked} does not return {path}, which was set on create")
    ctx.passed(f"{', '.join(str(p) for p in written)}: absent by default, returned when named")


def never_attributes(ctx, rt: ResourceType) -> list[Path]:
    out = []
    for urn in [None, *(e.schema for e in rt.extensions)]:
        schema = ctx.discovery.schemas.get(urn or rt.schema)
        for attr in schema.attributes if schema else []:
            if attr.returned.lower() == "never":
                out.append(Path(urn, attr.name))
    return out


@check(
    "projection.never-in-queries-and-writes",
    'Attributes returned "never" are absent from lists, .search, PUT and PATCH answers, even when named',
    requirements=["7643-7-22", "7643-4.1.1-17", "7644-3.9-02"],
    level="MUST",
    per_resource_type=True,
    needs=("filter",),
)
def never_in_queries(ctx, rt):
    """A resource is created with a value for each writable attribute declared returned "never" (a
    User's password); a filtered list with attributes=<it>, POST .search naming it, a PUT that sends
    it and a PATCH that replaces it (both with attributes=<it>) never return it. The create answer
    and GETs are graded by attributes.returned-never, a plain filtered list by
    user.password.not-in-list."""
    never = [p for p in never_attributes(ctx, rt) if p.urn is None]
    if not never:
        raise NotApplicable(f'the core schema of {rt.name} declares no attribute returned "never"')
    body = ctx.payload(rt, with_password=True)
    names = [str(p) for p in never if get_ci(body, p.name)[0]]
    if not names:
        raise NotApplicable(f'the suite cannot give a value to {", ".join(map(str, never))} of {rt.name}')
    created = ctx.created_ok(rt, body)
    name = naming(ctx, rt)
    filt = f"{name} eq {json.dumps(body[name])}"
    joined = ",".join(names)
    views: list[tuple[str, Any]] = []
    params = {"filter": filt, "attributes": joined}
    reply = ctx.http.get(rt.path, params=params)
    if reply.status == 200:
        views += [(f"GET {rt.endpoint}?{_qs(params)}", r) for r in list_resources(reply.maybe_json())]
    search = {"schemas": [SEARCH_URN], "filter": filt, "attributes": names}
    reply = ctx.http.post(f"{rt.path}/.search", search)
    if reply.status == 200:
        views += [(f"POST {rt.endpoint}/.search", r) for r in list_resources(reply.maybe_json())]
    put_body = {k: v for k, v in body.items()}
    reply = ctx.http.put(created.path, put_body, params={"attributes": joined})
    views.append((f"PUT {rt.endpoint}/{created.id}?attributes={joined}", reply.maybe_json()))
    if ctx.discovery.supports("patch"):
        ops = [{"op": "replace", "path": n, "value": body[n]} for n in names]
        reply = ctx.http.patch(created.path, {"schemas": [PATCH_URN], "Operations": ops},
                               params={"attributes": joined})
        views.append((f"PATCH {rt.endpoint}/{created.id}?attributes={joined}", reply.maybe_json()))
    leaks = [f"{label} returns {p}" for label, view in views if isinstance(view, dict) for p in never
             if present(view, p)]
    if leaks:
        raise Violation(problems_text(leaks) + ' (declared returned "never")')
    ctx.passed(f"{joined} absent from {len(views)} answers")


SEARCH_URN = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"


@check(
    "projection.filter-on-never",
    'A filter may compare an attribute returned "never" (password)',
    requirements=["7643-7-23"],
    level="MAY",
    per_resource_type=True,
    needs=("filter",),
)
def filter_on_never(ctx, rt):
    """A resource is created with a password (any string attribute declared returned "never" the
    client can write); filter=<naming attribute> eq "<its value>" and password eq "<the password>"
    finds it, without returning the password. RFC 7643 §7 lets the server allow this, so a refusal
    or an empty result only warns; a password in the result is graded by the "never" checks."""
    never = [p for p in never_attributes(ctx, rt) if p.urn is None]
    body = ctx.payload(rt, with_password=True)
    usable = [p for p in never if isinstance(get_ci(body, p.name)[1], str)]
    if not usable:
        raise NotApplicable(f'{rt.name} has no string attribute returned "never" the suite sets')
    created = ctx.created_ok(rt, body)
    name = naming(ctx, rt)
    secret = usable[0]
    filt = f"{name} eq {json.dumps(body[name])} and {secret} eq {json.dumps(get_ci(body, secret.name)[1])}"
    reply = ctx.http.get(rt.path, params={"filter": filt})
    asked = f"GET {rt.endpoint}?filter={name} eq ... and {secret} eq <the value set>"
    if reply.status != 200:
        raise Violation(f"{asked} answered {said(reply)}: filtering on {secret} is not supported (allowed)")
    ids = [get_ci(r, "id")[1] for r in list_resources(reply.maybe_json())]
    expect(created.id in ids, f"{asked} answered 200 without the resource: {secret} is accepted in a filter "
                              "but never matches")
    ctx.passed(f"a filter on {secret} found the resource")


# -- lists -------------------------------------------------------------------------------------------------------


@check(
    "projection.list",
    "attributes and excludedAttributes apply to every resource of a list",
    requirements=["7644-3.4.2.5-01", "7644-3.4.2.5-02", "7644-3.9-02", "7644-3.9-03"],
    level="MUST",
    per_resource_type=True,
    needs=("filter",),
)
def projection_list(ctx, rt):
    """A query bounded to the run's sample (filter on its naming attribute) with attributes=<naming
    attribute> returns the sample with the minimum set and that attribute only; the same query with
    excludedAttributes=<a default attribute> returns it without that attribute and with the rest."""
    sample = ctx.sample(rt)
    full = default_form(ctx, sample)
    name = naming(ctx, rt)
    value = sample.sent.get(name)
    if not isinstance(value, str):
        raise NotApplicable(f"the sample {rt.name} has no string {name}")
    filt = f"{name} eq {json.dumps(value)}"
    gone = str(exclusion_candidate(ctx, rt, full))
    for key, kw in (("attributes", {"attributes": [name]}), ("excludedAttributes", {"excluded": [gone]})):
        params = {"filter": filt, key: name if key == "attributes" else gone}
        reply = ctx.http.get(rt.path, params=params)
        asked = f"GET {rt.endpoint}?{_qs(params)}"
        expect(reply.status == 200, f"{asked} answered {said(reply)}; expected 200")
        found = [r for r in list_resources(reply.json()) if get_ci(r, "id")[1] == sample.id]
        if not found:
            raise NotApplicable(f"{asked} did not return the sample; filtering is graded by the filter checks")
        problems = view_problems(full, found[0], expectation(ctx.discovery, rt, full, **kw), listed=True)
        expect(not problems, f"{asked}: {problems_text(problems)}")
    ctx.passed(f"attributes={name} and excludedAttributes={gone} applied to the listed sample")


# -- answers to POST, PUT and PATCH ---------------------------------------------------------------------------------


def _write_views(ctx, rt: ResourceType, method: str, created: Created | None, body) -> str:
    """Send the write twice (attributes=, then excludedAttributes=) and grade each answer that holds
    a resource against the default form a GET shows after it."""
    name = naming(ctx, rt)
    graded = []
    for key in ("attributes", "excludedAttributes"):
        if method == "POST":
            fresh = ctx.payload(rt)
            params = {key: name if key == "attributes" else default_probe(ctx, rt, fresh)}
            target = ctx.create(rt, fresh, params=params)
            reply = target.reply
            asked = f"POST {rt.endpoint}?{_qs(params)}"
            if reply.status not in (200, 201) or not target.id:
                raise NotApplicable(f"{asked} answered {said(reply)}; see the create checks")
        else:
            assert created is not None
            gone = name if key == "attributes" else str(exclusion_candidate(ctx, rt, default_form(ctx, created)))
            params = {key: gone}
            reply = ctx.http.request(method, created.path, json_body=body(), params=params)
            target = created
            asked = f"{method} {rt.endpoint}/{created.id}?{_qs(params)}"
            if not 200 <= reply.status < 300:
                raise NotApplicable(f"{asked} answered {said(reply)}; the {method} checks grade that")
        view = reply.maybe_json()
        if reply.status == 204 or not isinstance(view, dict):
            continue  # no resource in the answer (a PATCH may answer 204): nothing to select from
        full = default_form(ctx, target)
        kw = {"attributes": [params[key]]} if key == "attributes" else {"excluded": [params[key]]}
        problems = view_problems(full, view, expectation(ctx.discovery, rt, full, **kw))
        expect(not problems, f"{asked}: {problems_text(problems)}")
        graded.append(f"{key}={params[key]}")
    if not graded:
        raise NotApplicable(f"the {method} answers held no resource (204): nothing to select from")
    return " and ".join(graded)


def default_probe(ctx, rt: ResourceType, body: dict[str, Any]) -> str:
    """A default attribute a create with ``body`` will hold, to exclude: not the naming attribute."""
    name = naming(ctx, rt).lower()
    schema = ctx.discovery.schema_of(rt)
    for key in body:
        attr = schema.attribute(key) if schema else None
        if key.lower() not in ("schemas", name) and attr is not None and attr.returned.lower() == "default":
            return attr.name
    return "meta"


@check(
    "projection.post-response",
    "attributes and excludedAttributes apply to the resource a POST answers with",
    requirements=["7644-3.9-02", "7644-3.9-03", "7644-3.4.2.5-01"],
    level="MUST",
    per_resource_type=True,
)
def post_response(ctx, rt):
    """A create with attributes=<naming attribute> answers with the minimum set and that attribute
    only; a create with excludedAttributes=<a default attribute> answers without it. Each answer is
    compared with a GET of the new resource. §3.9 lets a client ask this of any operation that
    returns a resource, and a create does."""
    how = _write_views(ctx, rt, "POST", None, None)
    ctx.passed(f"create answers honour {how}")


@check(
    "projection.put-response",
    "attributes and excludedAttributes apply to the resource a PUT answers with",
    requirements=["7644-3.9-02", "7644-3.9-03", "7644-3.4.2.5-01"],
    level="MUST",
    per_resource_type=True,
)
def put_response(ctx, rt):
    """A PUT (the resource as created) with attributes=<naming attribute> answers with the minimum
    set and that attribute only; with excludedAttributes=<a default attribute> without it. Each
    answer is compared with a GET after the PUT."""
    created = ctx.created_ok(rt)
    how = _write_views(ctx, rt, "PUT", created, lambda: dict(created.sent))
    ctx.passed(f"PUT answers honour {how}")


@check(
    "projection.patch-response",
    "attributes and excludedAttributes apply to the resource a PATCH answers with",
    requirements=["7644-3.9-02", "7644-3.9-03", "7644-3.4.2.5-01"],
    level="MUST",
    per_resource_type=True,
    needs=("patch",),
)
def patch_response(ctx, rt):
    """A PATCH (replace of the naming attribute with its own value) with attributes=<naming
    attribute>, then with excludedAttributes=<a default attribute>: an answer that holds the resource
    (a 204 is allowed) holds what the parameter selects, compared with a GET after the PATCH."""
    created = ctx.created_ok(rt)
    name = naming(ctx, rt)
    ops = {"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": name, "value": created.sent.get(name)}]}
    how = _write_views(ctx, rt, "PATCH", created, lambda: ops)
    ctx.passed(f"PATCH answers honour {how}")
