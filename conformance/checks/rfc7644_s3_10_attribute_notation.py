"""RFC 7644 §3.10 (attribute notation) with RFC 7643 §2.1 and §7 — attribute names are case-insensitive and
may be qualified with their schema URN; value case is kept as the attribute's caseExact says.

§3.10 itself holds no statement addressed to the service provider, so the checks cite the statements
that carry its rules: the attribute-name ABNF (RFC 7643 §2.1, case-insensitive), the "attributes"
parameter (RFC 7644 §3.9), the filter ABNF whose attrPath takes an optional schema URN (§3.4.2.2) and
caseExact (RFC 7643 §7). The URN form is only tried where the RFC defines it: in attributes=, in filters
and in PATCH paths, never as a key of a resource body.
"""

from __future__ import annotations

from typing import Any

from ..discovery import PATCH_URN, ResourceType, list_resources
from ..engine import Created
from ..registry import check
from ..support import field, get_ci, show
from ..verdicts import NotApplicable, Violation, expect
from .rfc7644_s3_3_create import mismatches, naming, plain_string_attribute, problems_text, read_back, same_value

# -- helpers ------------------------------------------------------------------------------------------------


def recased(body: dict[str, Any], extensions: set[str]) -> dict[str, Any]:
    """``body`` with every attribute name upper-cased (schemas and extension URN keys kept)."""

    def inner(value: Any) -> Any:
        if isinstance(value, dict):
            return {k.upper(): inner(v) for k, v in value.items()}
        if isinstance(value, list):
            return [inner(v) for v in value]
        return value

    out: dict[str, Any] = {}
    for key, value in body.items():
        if key == "schemas":
            out[key] = value
        elif key.lower() in extensions:
            out[key] = inner(value)
        else:
            out[key.upper()] = inner(value)
    return out


def _where(problem: str) -> str:
    """The attribute path a ``mismatches`` line is about."""
    return problem.split(": ", 1)[0]


def _extensions(rt: ResourceType) -> set[str]:
    return {e.schema.lower() for e in rt.extensions}


def _patch(ctx, created: Created, path: str, value: Any):
    return ctx.http.patch(created.path, {"schemas": [PATCH_URN], "Operations": [
        {"op": "replace", "path": path, "value": value}]})


def _patch_control(ctx, rt: ResourceType, created: Created, name: str) -> None:
    """A replace with the plain path first: a target whose PATCH does not store the attribute as sent
    (whatever the path) is graded by the PATCH checks, not here."""
    value = ctx.tag("control")
    reply = _patch(ctx, created, name, value)
    stored = field(read_back(ctx, created), name) if reply.status in (200, 204) else None
    if not same_value(ctx.discovery.attribute(rt, name), name, value, stored):
        raise NotApplicable(f"a PATCH replace with path {name!r} answered {reply.status} and GET shows {name} "
                            f"{show(stored)}; see the PATCH checks")


def _writable_string(ctx, rt: ResourceType, created: Created) -> str:
    name = plain_string_attribute(ctx, rt, created.sent)
    attr = ctx.discovery.attribute(rt, name)
    if attr is not None and attr.mutability != "readWrite":
        raise NotApplicable(f"{rt.name}.{name} is {attr.mutability}, not readWrite")
    return name


# -- attribute names in any case ------------------------------------------------------------------------------


@check(
    "names.create-any-case",
    "A create whose attribute names are upper-cased is stored under the schema's attributes",
    requirements=["7643-2.1-02"],
    level="MUST",
    per_resource_type=True,
)
def create_any_case(ctx, rt):
    """Attribute names are case-insensitive: a resource POSTed with its attribute names upper-cased
    ("NAME": {"GIVENNAME": ...}, "DISPLAYNAME"; the naming attribute that carries the run id is left as
    is) is created, and a GET shows each value under the attribute the schema defines."""
    canonical = ctx.payload(rt)
    body = recased(canonical, _extensions(rt))
    tagged = naming(ctx, rt)  # kept as spelled: the suite finds its data by it (names.replace-any-case
    body.pop(tagged.upper(), None)  # upper-cases it too)
    body[tagged] = canonical.get(tagged)
    if len(body) < 3:  # nothing else to send: the common attribute externalId (RFC 7643 §3.1)
        canonical["externalId"] = body["EXTERNALID"] = f"{canonical.get(tagged)}-ext"
    created = ctx.create(rt, body)
    expect(200 <= created.reply.status < 300 and created.id,
           f"POST {rt.endpoint} with upper-cased attribute names answered {created.reply.status}; attribute "
           "names are case-insensitive")
    got = read_back(ctx, created)
    problems = mismatches(ctx.discovery, rt, canonical, got)
    if problems:  # what differs for the sample too, created with the schema's names, is not about names
        sample = ctx.sample(rt)
        reply = ctx.http.get(sample.path)
        control = reply.maybe_json() if reply.status == 200 else None
        known = {_where(p) for p in mismatches(ctx.discovery, rt, sample.sent, control)} \
            if isinstance(control, dict) else set()
        problems = [p for p in problems if _where(p) not in known]
    expect(not problems, f"after a create with upper-cased names, GET differs: {problems_text(problems)}")
    odd = [k for k in got if isinstance(k, str) and k != "schemas" and k.isupper() and len(k) > 2]
    note = f" (returned under the names {', '.join(odd)})" if odd else ""
    ctx.passed("created and stored under the schema's attributes" + note)


@check(
    "names.replace-any-case",
    "A PUT whose attribute names are upper-cased replaces the schema's attributes",
    requirements=["7643-2.1-02", "7644-3.5.1-04"],
    level="MUST",
    per_resource_type=True,
)
def replace_any_case(ctx, rt):
    """A resource is replaced by PUT with every attribute name upper-cased and a new value for one
    attribute; the PUT succeeds and a GET shows the new value under the schema's attribute. (A first PUT
    with the schema's own names makes sure the target stores PUTs at all.)"""
    created = ctx.created_ok(rt)
    name = _writable_string(ctx, rt, created)
    attr = ctx.discovery.attribute(rt, name)
    control = ctx.tag("control")  # the same PUT with the schema's names first: does a PUT store at all?
    first = ctx.http.put(created.path, {**created.sent, name: control})
    if not 200 <= first.status < 300 or not same_value(attr, name, control, field(read_back(ctx, created), name)):
        raise NotApplicable(f"a PUT with the schema's own names did not store {name} ({first.status}); "
                            "see replace.value-stored")
    new = ctx.tag("recased")
    reply = ctx.http.put(created.path, recased({**created.sent, name: new}, _extensions(rt)))
    expect(200 <= reply.status < 300,
           f"PUT {rt.endpoint}/{created.id} with upper-cased attribute names answered {reply.status}")
    stored = field(read_back(ctx, created), name)
    expect(same_value(attr, name, new, stored),
           f"after a PUT sending {name.upper()} = {new!r}, GET shows {name} {show(stored)}")
    ctx.passed(f"{name.upper()} stored as {name}")


@check(
    "names.patch-path-any-case",
    "A PATCH path naming an attribute in another case targets that attribute",
    requirements=["7643-2.1-02"],
    level="MUST",
    per_resource_type=True,
    needs=("patch",),
)
def patch_path_any_case(ctx, rt):
    """A PATCH replace whose path is the attribute's name upper-cased (e.g. "DISPLAYNAME") succeeds and
    a GET shows the new value under the schema's attribute."""
    created = ctx.created_ok(rt)
    name = _writable_string(ctx, rt, created)
    _patch_control(ctx, rt, created, name)
    new = ctx.tag("recased")
    reply = _patch(ctx, created, name.upper(), new)
    expect(reply.status in (200, 204), f"PATCH replace with path {name.upper()!r} answered {reply.status}")
    stored = field(read_back(ctx, created), name)
    expect(same_value(ctx.discovery.attribute(rt, name), name, new, stored),
           f"after a PATCH replace of {name.upper()!r} with {new!r}, GET shows {name} {show(stored)}")
    ctx.passed(f"path {name.upper()!r} replaced {name}")


# -- fully qualified names (schema URN prefix) ---------------------------------------------------------------------


@check(
    "names.attributes-parameter-urn",
    "attributes= accepts a name qualified with its schema URN",
    requirements=["7644-3.9-02"],
    level="MUST",
    per_resource_type=True,
)
def attributes_parameter_urn(ctx, rt):
    """GET of the sample with attributes=<schema URN>:<naming attribute> returns that attribute and,
    like the short form does, leaves out the other default attributes. Skipped when the target does
    not honour attributes= even with the short name."""
    sample = ctx.sample(rt)
    name = naming(ctx, rt)
    others = [k for k in sample.sent if k not in ("schemas", name) and k.lower() not in _extensions(rt)
              and (a := ctx.discovery.attribute(rt, k)) is not None and a.returned == "default"]
    short = ctx.http.get(sample.path, params={"attributes": name})
    short_body = short.maybe_json()
    if short.status != 200 or not isinstance(short_body, dict) or not get_ci(short_body, name)[0]:
        raise NotApplicable(f"GET with attributes={name} answered {short.status} without {name}; "
                            "the attributes parameter itself is graded elsewhere")
    cut = [k for k in others if not get_ci(short_body, k)[0]]
    full = f"{rt.schema}:{name}"
    reply = ctx.http.get(sample.path, params={"attributes": full})
    expect(reply.status == 200, f"GET {rt.endpoint}/{sample.id}?attributes={full} answered {reply.status}")
    body = reply.json_object()
    value = field(body, name)
    expect(value is not None and same_value(ctx.discovery.attribute(rt, name), name, sample.sent.get(name), value),
           f"GET with attributes={full} shows {name} {show(value)}; expected {show(sample.sent.get(name))}")
    kept = [k for k in cut if get_ci(body, k)[0]]
    expect(not kept, f"GET with attributes={full} still returns {', '.join(kept)}, which attributes={name} leaves "
                     "out: the qualified name was not understood")
    ctx.passed(f"attributes={full} returned {name} only, as the short form does")


@check(
    "names.filter-urn",
    "A filter naming an attribute with its schema URN finds the resource",
    requirements=["7644-3.4.2.2-17", "7644-3.4.2.2-04"],
    level="MUST",
    per_resource_type=True,
    needs=("filter",),
)
def filter_urn(ctx, rt):
    """The filter grammar lets an attribute path carry its schema URN: filter=<schema URN>:<naming
    attribute> eq "<the sample's value>" returns the sample, as the short form does."""
    sample = ctx.sample(rt)
    name = naming(ctx, rt)
    value = sample.sent.get(name)
    if not isinstance(value, str):
        raise NotApplicable(f"the sample {rt.name} has no string {name}")
    short = ctx.http.get(rt.path, params={"filter": f'{name} eq "{value}"'})
    if short.status != 200 or sample.id not in [field(r, "id") for r in list_resources(short.maybe_json())]:
        raise NotApplicable(f"filter={name} eq ... answered {short.status} without the sample; filtering is graded "
                            "elsewhere")
    expr = f'{rt.schema}:{name} eq "{value}"'
    reply = ctx.http.get(rt.path, params={"filter": expr})
    expect(reply.status == 200, f"GET {rt.endpoint}?filter={expr} answered {reply.status}; expected 200")
    ids = [field(r, "id") for r in list_resources(reply.json())]
    expect(sample.id in ids, f"GET {rt.endpoint}?filter={expr} returned ids {show(ids)}, not the sample {sample.id}")
    ctx.passed("the URN-qualified filter found the sample")


@check(
    "names.patch-path-urn",
    "A PATCH path qualified with the schema URN targets the attribute",
    requirements=["7644-3.4.2.2-17"],
    level="MUST",
    per_resource_type=True,
    needs=("patch",),
)
def patch_path_urn(ctx, rt):
    """A PATCH path is an attribute path of the filter grammar, which may carry the schema URN: a
    replace with path "<schema URN>:<attribute>" succeeds and a GET shows the new value."""
    created = ctx.created_ok(rt)
    name = _writable_string(ctx, rt, created)
    _patch_control(ctx, rt, created, name)
    new = ctx.tag("urnpath")
    path = f"{rt.schema}:{name}"
    reply = _patch(ctx, created, path, new)
    expect(reply.status in (200, 204), f"PATCH replace with path {path!r} answered {reply.status}")
    stored = field(read_back(ctx, created), name)
    expect(same_value(ctx.discovery.attribute(rt, name), name, new, stored),
           f"after a PATCH replace of {path!r} with {new!r}, GET shows {name} {show(stored)}")
    ctx.passed(f"path {path!r} replaced {name}")


# -- the case of values -----------------------------------------------------------------------------------------------


def _mixed(tag: str) -> str:
    return "MiXeD-" + tag + "-CaSe"


def _case_exact_attribute(ctx, rt: ResourceType) -> str:
    """A writable top-level string the schema declares caseExact, else the common externalId."""
    schema = ctx.discovery.schema_of(rt)
    for attr in schema.attributes if schema else []:
        if (attr.case_exact and attr.type == "string" and not attr.multi_valued and attr.mutability == "readWrite"
                and attr.uniqueness == "none" and not attr.canonical_values and attr.returned in ("default", "always")
                and not attr.reference_types):
            return attr.name
    return "externalId"  # a common attribute, caseExact (RFC 7643 §3.1)


@check(
    "names.case-exact-value-preserved",
    "A caseExact attribute keeps the case of the value sent",
    requirements=["7643-7-14"],
    level="MUST",
    per_resource_type=True,
)
def case_exact_preserved(ctx, rt):
    """A resource is created with a mixed-case value for a caseExact attribute (one the schema declares
    caseExact, else externalId); a GET shows the value with its case unchanged."""
    name = _case_exact_attribute(ctx, rt)
    value = _mixed(ctx.tag("exact"))
    created = ctx.created_ok(rt, {**ctx.payload(rt), name: value})
    stored = field(read_back(ctx, created), name)
    if stored is None:
        raise NotApplicable(f"{rt.name}.{name} was not stored or not returned; nothing to compare")
    expect(stored == value, f"{name} is caseExact, sent {value!r}, GET shows {show(stored)}")
    ctx.passed(f"{name} kept as {value!r}")


@check(
    "names.case-insensitive-value-kept",
    "A caseExact=false value comes back in the case it was sent",
    requirements=["7643-7-15"],
    level="MAY",
    per_resource_type=True,
)
def case_insensitive_value_kept(ctx, rt):
    """A mixed-case value for a readWrite string attribute that is not caseExact (e.g. displayName) is
    read back as sent. The server may alter the case of such values, so a change only warns."""
    created = ctx.created_ok(rt)
    name = _writable_string(ctx, rt, created)
    attr = ctx.discovery.attribute(rt, name)
    if attr is not None and attr.case_exact:
        raise NotApplicable(f"{rt.name}.{name} is caseExact; see names.case-exact-value-preserved")
    value = _mixed(ctx.tag("case"))
    reply = ctx.http.put(created.path, {**created.sent, name: value})
    if not 200 <= reply.status < 300:
        raise NotApplicable(f"the PUT answered {reply.status}; see replace.value-stored")
    stored = field(read_back(ctx, created), name)
    if not isinstance(stored, str) or stored.lower() != value.lower():
        raise NotApplicable(f"GET shows {name} {show(stored)}, not the value sent; see replace.value-stored")
    if stored != value:
        raise Violation(f"{name} (caseExact false) was sent as {value!r} and comes back as {stored!r}; altering "
                        "the case is allowed, keeping it is friendlier to clients")
    ctx.passed(f"{name} kept as {value!r}")
