"""RFC 7643 §2 — attributes: what a returned resource holds must match the target's own /Schemas.

Every check here grades the run's shared sample of a resource type twice: as the POST answered it
and as a GET of it answers now. The attribute definitions come from the target's /Schemas (read
once by discovery), so the checks work for any resource type, not only User and Group. Common
attributes (id, externalId, meta) are typed as RFC 7643 §3.1 defines them when /Schemas leaves
them out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..discovery import Attribute, Discovery, ResourceType
from ..registry import check
from ..support import SHOWN, is_datetime, is_integer, is_uri, show
from ..verdicts import NotApplicable, Violation

# Common attributes (RFC 7643 §3.1), used when the target's schema does not declare them.
COMMON = {
    "id": Attribute("id", mutability="readOnly", returned="always", case_exact=True),
    "externalId": Attribute("externalId", case_exact=True),
    "meta": Attribute(
        "meta",
        type="complex",
        mutability="readOnly",
        sub_attributes=[
            Attribute("resourceType", mutability="readOnly"),
            Attribute("created", type="dateTime", mutability="readOnly"),
            Attribute("lastModified", type="dateTime", mutability="readOnly"),
            Attribute("location", type="reference", mutability="readOnly"),
            Attribute("version", mutability="readOnly"),
        ],
    ),
}
COMMON_LOWER = {k.lower(): v for k, v in COMMON.items()}
# -- the representations graded --------------------------------------------------------------------


def representations(ctx, rt: ResourceType) -> list[tuple[str, dict[str, Any]]]:
    """The shared sample as the POST answered it and as a GET answers now: (label, body)."""
    sample = ctx.sample(rt)
    out: list[tuple[str, dict[str, Any]]] = []
    if isinstance(sample.body, dict):
        out.append((f"the POST {rt.endpoint} answer", sample.body))
    reply = ctx.http.get(sample.path)
    body = reply.maybe_json() if reply.status == 200 else None
    if isinstance(body, dict):
        out.append((f"GET {rt.endpoint}/{sample.id}", body))
    if not out:
        raise NotApplicable(
            f"precondition: neither the create nor GET {rt.endpoint}/{sample.id} (answered {reply.status}) "
            "returned the resource as a JSON object; see the create and retrieve checks"
        )
    return out


# -- walking a resource along the target's schemas --------------------------------------------------


def top_items(discovery: Discovery, rt: ResourceType, body: dict[str, Any]) -> Iterator[tuple[str, Attribute, Any]]:
    """(path, definition, value) for each top-level attribute of ``body`` the schemas define.

    Attributes of an extension are reached through their URN container and named
    ``urn:...:attribute``; attributes no schema defines are left out.
    """
    core = discovery.schema_of(rt)
    extensions = {e.schema.lower(): e.schema for e in rt.extensions}
    for key, value in body.items():
        lowered = key.lower()
        if lowered == "schemas":
            continue
        if lowered in extensions:
            ext = discovery.schemas.get(extensions[lowered])
            if ext is not None and isinstance(value, dict):
                for sub_key, sub_value in value.items():
                    attr = ext.attribute(sub_key)
                    if attr is not None:
                        yield f"{key}:{sub_key}", attr, sub_value
            continue
        attr = core.attribute(key) if core is not None else None
        if attr is None:
            attr = COMMON_LOWER.get(lowered)
        if attr is not None:
            yield key, attr, value


def elements(path: str, attr: Attribute, value: Any) -> Iterator[tuple[str, Any]]:
    """The single values of an attribute: each element of a multi-valued array, or the value itself."""
    if value is None:
        return
    if attr.multi_valued and isinstance(value, list):
        for i, item in enumerate(value):
            if item is not None:
                yield f"{path}[{i}]", item
    else:
        yield path, value


def leaves(discovery: Discovery, rt: ResourceType, body: dict[str, Any]) -> Iterator[tuple[str, Attribute, Any]]:
    """(path, definition, value) for every single simple value, sub-attributes of complex values included."""
    for path, attr, value in top_items(discovery, rt, body):
        for el_path, element in elements(path, attr, value):
            if attr.type == "complex" and isinstance(element, dict):
                for sub_key, sub_value in element.items():
                    sub = attr.sub(sub_key)
                    if sub is None or sub.type == "complex":
                        continue
                    yield from ((p, sub, v) for p, v in elements(f"{el_path}.{sub_key}", sub, sub_value))
            elif attr.type != "complex":
                yield el_path, attr, element


def grade(ctx, rt: ResourceType, find, what: str, none_found: str) -> None:
    """Run ``find(body) -> (graded count, [problems])`` on each representation of the sample."""
    problems: list[str] = []
    graded = 0
    for label, body in representations(ctx, rt):
        count, found = find(body)
        graded += count
        problems.extend(f"{label}: {p}" for p in found)
    if problems:
        more = f" (and {len(problems) - SHOWN} more)" if len(problems) > SHOWN else ""
        raise Violation("; ".join(problems[:SHOWN]) + more)
    if not graded:
        raise NotApplicable(none_found)
    ctx.passed(f"{graded} {what}")


def typed(ctx, rt: ResourceType, kind: str, test, expected: str) -> None:
    def find(body):
        values = [(p, v) for p, a, v in leaves(ctx.discovery, rt, body) if a.type == kind]
        return len(values), [f"{p} is {show(v)}; {expected}" for p, v in values if not test(v)]

    grade(ctx, rt, find, f"{kind} values checked, all well-formed",
          f"the returned {rt.name} holds no attribute its schema types {kind}")


# -- data types ----------------------------------------------------------------------------------------

@check(
    "attributes.type-integer",
    "Integer attributes come back as JSON integers, without fraction or exponent",
    requirements=["7643-2.3.4-01"],
    level="MUST",
    per_resource_type=True,
)
def type_integer(ctx, rt):
    """Every value of an attribute the target's schema types "integer" is a JSON number with no
    fractional or exponent part (2, not 2.0 or 2e0) in the returned sample."""
    typed(ctx, rt, "integer", is_integer, "an integer is written without fraction or exponent")


@check(
    "attributes.type-datetime",
    "dateTime attributes come back as xsd:dateTime strings with a date and a time",
    requirements=["7643-2.3.5-01", "7643-2.3.5-02"],
    level="MUST",
    per_resource_type=True,
)
def type_datetime(ctx, rt):
    """Every dateTime value (meta.created and meta.lastModified included) is a JSON string in
    xsd:dateTime form holding both a date and a time, e.g. 2008-01-23T04:56:22Z."""
    typed(ctx, rt, "dateTime", is_datetime, "expected an xsd:dateTime string such as 2008-01-23T04:56:22Z")


@check(
    "attributes.type-reference",
    "Reference attributes come back as URI strings",
    requirements=["7643-2.3.7-02"],
    level="MUST",
    per_resource_type=True,
)
def type_reference(ctx, rt):
    """Every value of a reference-typed attribute (meta.location, $ref sub-attributes, profileUrl
    and the like) is a string holding an absolute or relative URI."""
    typed(ctx, rt, "reference", is_uri, "expected an absolute or relative URI string")


# -- shapes: simple, complex, multi-valued ----------------------------------------------------------


@check(
    "attributes.simple-no-sub-attributes",
    "Simple attributes hold plain values, never sub-attributes",
    requirements=["7643-1.2-02"],
    level="MUST",
    per_resource_type=True,
)
def simple_no_sub_attributes(ctx, rt):
    """An attribute the schema declares with a simple type (string, boolean, ...) never comes
    back as a JSON object of sub-attributes."""

    def find(body):
        simple = [(p, a, v) for p, a, v in top_items(ctx.discovery, rt, body) if a.type != "complex"]
        bad = [
            f"{ep} is an object {show(el)}, but the schema types {a.name} {a.type}"
            for p, a, v in simple
            for ep, el in elements(p, a, v)
            if isinstance(el, dict)
        ]
        return len(simple), bad

    grade(ctx, rt, find, "simple attributes checked, none holds sub-attributes",
          f"the returned {rt.name} holds no simple attribute")


@check(
    "attributes.complex-no-nesting",
    "Complex attributes hold simple sub-attributes only",
    requirements=["7643-2.3.8-02"],
    level="MUST",
    per_resource_type=True,
)
def complex_no_nesting(ctx, rt):
    """No sub-attribute of a complex value (name, emails[n], meta, ...) is itself complex: its
    value is never a JSON object nor an array of objects."""

    def find(body):
        complex_items = [(p, a, v) for p, a, v in top_items(ctx.discovery, rt, body) if a.type == "complex"]
        bad = []
        for path, attr, value in complex_items:
            for el_path, element in elements(path, attr, value):
                if not isinstance(element, dict):
                    continue
                for key, sub_value in element.items():
                    nested = isinstance(sub_value, dict) or (
                        isinstance(sub_value, list) and any(isinstance(x, dict) for x in sub_value)
                    )
                    if nested:
                        bad.append(f"{el_path}.{key} is {show(sub_value)}, a complex value inside a complex one")
        return len(complex_items), bad

    grade(ctx, rt, find, "complex attributes checked, none nested",
          f"the returned {rt.name} holds no complex attribute")


@check(
    "attributes.multi-valued-arrays",
    "Multi-valued attributes come back as arrays (of objects when complex), single-valued ones do not",
    requirements=["7643-2.4-01"],
    level="MUST",
    per_resource_type=True,
)
def multi_valued_arrays(ctx, rt):
    """The plurality and type /Schemas declares show in the JSON: a multi-valued attribute is an
    array, whose elements are objects when it is complex; a single-valued attribute is never an
    array, and a single-valued complex one is an object. Sub-attributes are held to the same."""

    def shape(path: str, attr: Attribute, value: Any) -> str | None:
        if value is None:
            return None
        if attr.multi_valued:
            if not isinstance(value, list):
                return f"{path} is {show(value)}; the schema declares it multi-valued, so an array is expected"
            if attr.type == "complex" and any(not isinstance(x, dict) for x in value if x is not None):
                return f"{path} is {show(value)}; the elements of a multi-valued complex attribute are objects"
            return None
        if isinstance(value, list):
            return f"{path} is an array {show(value)}; the schema declares it single-valued"
        if attr.type == "complex" and not isinstance(value, dict):
            return f"{path} is {show(value)}; the schema declares it complex, so an object is expected"
        return None

    def find(body):
        count, bad = 0, []
        for path, attr, value in top_items(ctx.discovery, rt, body):
            count += 1
            problem = shape(path, attr, value)
            if problem:
                bad.append(problem)
                continue
            if attr.type != "complex":
                continue
            for el_path, element in elements(path, attr, value):
                if not isinstance(element, dict):
                    continue
                for key, sub_value in element.items():
                    sub = attr.sub(key)
                    if sub is not None:
                        problem = shape(f"{el_path}.{key}", sub, sub_value)
                        if problem:
                            bad.append(problem)
        return count, bad

    grade(ctx, rt, find, "attributes checked against their declared plurality",
          f"the returned {rt.name} holds no attribute its schemas define")


@check(
    "attributes.primary-at-most-once",
    "At most one value of a multi-valued attribute is primary",
    requirements=["7643-2.4-03"],
    level="MUST",
    per_resource_type=True,
)
def primary_at_most_once(ctx, rt):
    """Within each multi-valued complex attribute (emails, phoneNumbers, ...) no more than one
    element says "primary": true."""

    def find(body):
        lists = [
            (p, v) for p, a, v in top_items(ctx.discovery, rt, body)
            if a.multi_valued and a.type == "complex" and isinstance(v, list)
        ]
        bad = []
        for path, value in lists:
            primaries = [
                i for i, el in enumerate(value)
                if isinstance(el, dict) and any(k.lower() == "primary" and x is True for k, x in el.items())
            ]
            if len(primaries) > 1:
                bad.append(f"{path} has primary=true on elements {primaries}")
        return len(lists), bad

    grade(ctx, rt, find, "multi-valued attributes checked, each with at most one primary value",
          f"the returned {rt.name} holds no multi-valued complex attribute")


# -- returned: never -----------------------------------------------------------------------------------


def _never_attributes(discovery: Discovery, rt: ResourceType) -> list[tuple[str | None, Attribute]]:
    """(extension URN or None, attribute) for every top-level attribute declared returned=never."""
    out: list[tuple[str | None, Attribute]] = []
    core = discovery.schema_of(rt)
    for attr in core.attributes if core else []:
        if attr.returned.lower() == "never":
            out.append((None, attr))
    for ext in rt.extensions:
        schema = discovery.schemas.get(ext.schema)
        for attr in schema.attributes if schema else []:
            if attr.returned.lower() == "never":
                out.append((ext.schema, attr))
    return out


def _secret_value(attr: Attribute, tag: str) -> Any:
    if attr.multi_valued or attr.type not in ("string", "boolean", "integer"):
        return None
    return {"string": f"Sc1m-{tag[-8:]}-Never!", "boolean": True, "integer": 7}[attr.type]


def _returned(body: dict[str, Any], urn: str | None, name: str) -> bool:
    container: Any = body
    if urn is not None:
        container = next((v for k, v in body.items() if k.lower() == urn.lower()), None)
    if not isinstance(container, dict):
        return False
    return any(k.lower() == name.lower() and v not in (None, "", []) for k, v in container.items())


@check(
    "attributes.returned-never",
    'Attributes declared returned "never" (password) are never in a response',
    requirements=["7643-7-22", "7643-4.1.1-17"],
    level="MUST",
    per_resource_type=True,
)
def returned_never(ctx, rt):
    """A resource is created with a value for each writable attribute its schemas declare
    returned "never" (a User's password); neither the create response, nor a GET, nor a GET that
    asks for the attribute by name returns a value for it."""
    never = _never_attributes(ctx.discovery, rt)
    if not never:
        raise NotApplicable(f"the schemas of {rt.name} declare no attribute returned \"never\"")
    body = ctx.payload(rt, with_password=True)
    sent = []
    for urn, attr in never:
        target = body if urn is None else body.get(urn, {})
        if not any(k.lower() == attr.name.lower() for k in target):
            value = _secret_value(attr, ctx.tag())
            if value is None or attr.mutability not in ("readWrite", "writeOnly", "immutable"):
                continue
            target[attr.name] = value
            if urn is not None:
                body[urn] = target
        if urn is not None and urn not in body.get("schemas", []):
            body["schemas"] = [*body.get("schemas", []), urn]
        sent.append((urn, attr))
    if not sent:
        raise NotApplicable(f"no returned=\"never\" attribute of {rt.name} can be written by a client")
    created = ctx.created_ok(rt, body)
    names = ", ".join(a.name if u is None else f"{u}:{a.name}" for u, a in sent)
    views: list[tuple[str, Any]] = [(f"the POST {rt.endpoint} answer", created.body)]
    plain = ctx.http.get(created.path)
    views.append((f"GET {rt.endpoint}/{created.id}", plain.maybe_json() if plain.status == 200 else None))
    for urn, attr in sent:
        full = attr.name if urn is None else f"{urn}:{attr.name}"
        asked = ctx.http.get(created.path, params={"attributes": full})
        views.append((f"GET {rt.endpoint}/{created.id}?attributes={full}",
                      asked.maybe_json() if asked.status == 200 else None))
    leaks = [
        f"{label} returns {a.name if u is None else f'{u}:{a.name}'}"
        for label, view in views if isinstance(view, dict)
        for u, a in sent if _returned(view, u, a.name)
    ]
    if leaks:
        raise Violation("; ".join(leaks) + ' (declared returned "never")')
    ctx.passed(f"{names} sent on create; absent from the create answer and from {len(views) - 1} GETs")
