"""A model of SCIM PATCH (RFC 7644 §3.5.2): what a resource must become after a PatchOp, and where a
server's resource differs from that.

    schema = ResourceSchema.from_discovery(discovery, rt)
    expected = apply(before, operations, schema)       # a new dict; raises PatchError or Unsupported
    problems = differences(expected, after_get, schema)  # [] when the server agrees

The model follows the RFC's rules for add (§3.5.2.1), remove (§3.5.2.2) and replace (§3.5.2.3):
multi-valued add appends values not already there, replace replaces, a value filter selects values,
remove without a path is noTarget, a replace whose value filter selects nothing is noTarget,
removing a required or readOnly attribute is mutability, a readOnly target is mutability, a value
of the wrong JSON type is invalidValue, a malformed path is invalidPath; setting ``primary`` true on
one value sets it false on the others (§3.5.2). Op names are taken in any case. Where the RFC leaves
the outcome open (add through a value filter, a sub-attribute of a multi-valued attribute without a
filter), :class:`Unsupported` is raised so a caller never grades what the RFC does not decide.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from .discovery import Attribute, Discovery, ResourceType
from .filters import AttrPath, FilterError, PatchPath, matches, parse_path
from .support import get_ci, parse_datetime, show

COMMON_READONLY = ("id", "meta")


class PatchError(Exception):
    """The PATCH must fail: ``scim_type`` is the RFC's detail error keyword (400 unless said)."""

    def __init__(self, scim_type: str, message: str, status: int = 400):
        super().__init__(f"{scim_type}: {message}")
        self.scim_type = scim_type
        self.status = status
        self.message = message


class Unsupported(Exception):
    """The RFC does not decide what this operation does; the model makes no prediction."""


@dataclass
class ResourceSchema:
    """The attributes a resource type has: its core schema and its extensions, by URN."""

    core: str
    schemas: dict[str, list[Attribute]] = field(default_factory=dict)

    @classmethod
    def from_discovery(cls, discovery: Discovery, rt: ResourceType) -> ResourceSchema:
        out = cls(core=rt.schema)
        for urn in [rt.schema, *(e.schema for e in rt.extensions)]:
            schema = discovery.schemas.get(urn)
            out.schemas[urn] = list(schema.attributes) if schema else []
        return out.with_common()

    def with_common(self) -> ResourceSchema:
        """externalId is a common attribute of every resource (RFC 7643 §3.1), declared or not."""
        core = self.schemas.setdefault(self.core, [])
        if not any(a.name.lower() == "externalid" for a in core):
            core.append(Attribute(name="externalId", case_exact=True))
        return self

    @classmethod
    def from_raw(cls, core: str, raw: dict[str, list[dict[str, Any]]]) -> ResourceSchema:
        """From /Schemas-style attribute lists (tests and fixed data): {urn: [attribute, ...]}."""
        schemas = {urn: [Attribute.parse(a) for a in attrs] for urn, attrs in raw.items()}
        return cls(core=core, schemas=schemas).with_common()

    @property
    def extensions(self) -> list[str]:
        return [u for u in self.schemas if u.lower() != self.core.lower()]

    def extension(self, name: str) -> str | None:
        return next((u for u in self.extensions if u.lower() == name.lower()), None)

    def urn_of(self, path: AttrPath) -> str:
        if path.urn is None or path.urn.lower() == self.core.lower():
            return self.core
        urn = self.extension(path.urn)
        if urn is None:
            raise PatchError("invalidPath", f"{path.urn} is not a schema of this resource type")
        return urn

    def attribute(self, urn: str, name: str) -> Attribute | None:
        lowered = name.lower()
        return next((a for a in self.schemas.get(urn, []) if a.name.lower() == lowered), None)

    def lookup(self, path: AttrPath) -> Attribute | None:
        """The attribute (or sub-attribute) ``path`` names, or None."""
        attr = self.attribute(self.urn_of(path), path.attr)
        if attr is not None and path.sub:
            return attr.sub(path.sub)
        return attr

    def case_exact(self, path: AttrPath) -> bool:
        try:
            attr = self.lookup(path)
        except PatchError:
            return False
        return attr.case_exact if attr is not None else path.dotted().lower() == "id"

    def type_of(self, path: AttrPath) -> str | None:
        try:
            attr = self.lookup(path)
        except PatchError:
            return None
        return attr.type if attr is not None else None


# -- values ----------------------------------------------------------------------------------------------


def _key(obj: dict[str, Any], name: str) -> str | None:
    """The key of ``obj`` that spells ``name`` in any case."""
    if name in obj:
        return name
    return next((k for k in obj if isinstance(k, str) and k.lower() == name.lower()), None)


def _set(obj: dict[str, Any], name: str, value: Any) -> None:
    key = _key(obj, name)
    if key is not None and key != name:
        del obj[key]
    obj[name] = value


def _delete(obj: dict[str, Any], name: str) -> None:
    key = _key(obj, name)
    if key is not None:
        del obj[key]


def same_simple(attr: Attribute | None, a: Any, b: Any) -> bool:
    """Two simple values equal as the schema says: strings by caseExact, dateTimes as instants,
    booleans and numbers typed."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    if isinstance(a, str) and isinstance(b, str):
        if attr is not None and attr.type == "dateTime":
            da, db = parse_datetime(a), parse_datetime(b)
            if da is not None and db is not None:
                return da == db
        if attr is not None and (attr.case_exact or attr.type in ("reference", "binary")):
            return a == b
        if attr is None:
            return a == b
        return a.casefold() == b.casefold()
    return a == b


def _unassigned(value: Any) -> bool:
    return value is None or value == [] or value == {}


def same_value(attr: Attribute | None, a: Any, b: Any) -> bool:
    """Equal as SCIM values: complex by sub-attributes (an absent ``primary`` is false), multi-valued
    as sets."""
    if attr is not None and attr.multi_valued and (isinstance(a, list) or isinstance(b, list)):
        la = a if isinstance(a, list) else ([] if _unassigned(a) else [a])
        lb = b if isinstance(b, list) else ([] if _unassigned(b) else [b])
        item = _single(attr)
        return len(la) == len(lb) and all(any(same_value(item, x, y) for y in lb) for x in la) and all(
            any(same_value(item, y, x) for x in la) for y in lb)
    if isinstance(a, dict) and isinstance(b, dict):
        names = {k.lower() for k in [*a, *b] if isinstance(k, str)}
        for name in names:
            sub = attr.sub(name) if attr is not None else None
            va, vb = get_ci(a, name)[1], get_ci(b, name)[1]
            if name == "primary":
                va, vb = va is True, vb is True
            if _unassigned(va) and _unassigned(vb):
                continue
            if not same_value(sub, va, vb):
                return False
        return True
    return same_simple(attr, a, b)


def _single(attr: Attribute) -> Attribute:
    return Attribute(**{**attr.__dict__, "multi_valued": False})


# -- type checks ---------------------------------------------------------------------------------------


_JSON_TYPES = {
    "string": (str,), "reference": (str,), "binary": (str,), "dateTime": (str,),
    "boolean": (bool,), "integer": (int,), "decimal": (int, float), "complex": (dict,),
}


def _check_type(attr: Attribute, value: Any, where: str) -> None:
    if value is None:
        return
    if attr.multi_valued:
        for item in value if isinstance(value, list) else [value]:
            _check_type(_single(attr), item, where)
        return
    allowed = _JSON_TYPES.get(attr.type)
    ok = allowed is None or (isinstance(value, allowed) and not (attr.type in ("integer", "decimal")
                                                                 and isinstance(value, bool)))
    if ok and attr.type == "dateTime" and parse_datetime(value) is None:
        ok = False
    if not ok:
        raise PatchError("invalidValue", f"{where}: {show(value)} is not a {attr.type} value")
    if attr.type == "complex":
        for key, sub_value in value.items():
            sub = attr.sub(key)
            if sub is not None:
                _check_type(sub, sub_value, f"{where}.{sub.name}")


# -- applying operations -------------------------------------------------------------------------------


def apply(resource: dict[str, Any], operations: list[dict[str, Any]], schema: ResourceSchema) -> dict[str, Any]:
    """The resource after the operations, applied in order to a copy; raises :class:`PatchError` when
    the request must fail as a whole (so the resource stays as it was), :class:`Unsupported` when
    the RFC does not decide the result."""
    out = copy.deepcopy(resource)
    for number, operation in enumerate(operations, 1):
        if not isinstance(operation, dict):
            raise PatchError("invalidSyntax", f"operation {number} is not an object")
        op = str(get_ci(operation, "op")[1] or "").lower()
        if op not in ("add", "remove", "replace"):
            raise PatchError("invalidSyntax", f"operation {number}: op {show(get_ci(operation, 'op')[1])}")
        has_path, path_text = get_ci(operation, "path")
        value = get_ci(operation, "value")[1]
        if not has_path or path_text in (None, ""):
            if op == "remove":
                raise PatchError("noTarget", f"operation {number}: remove needs a path")
            _apply_map(out, op, value, schema, number)
            continue
        try:
            path = parse_path(path_text)
        except FilterError as exc:
            raise PatchError("invalidPath", f"operation {number}: {exc}") from None
        _apply_path(out, op, path, value, schema, number)
    return out


def _apply_map(res: dict[str, Any], op: str, value: Any, schema: ResourceSchema, number: int) -> None:
    if not isinstance(value, dict):
        raise PatchError("invalidValue", f"operation {number}: {op} without a path needs an object of attributes")
    for key, item in value.items():
        if key.lower() == "schemas":
            raise Unsupported("a path-less operation setting schemas")
        urn = schema.extension(key)
        if urn is not None and isinstance(item, dict):
            for sub_key, sub_value in item.items():
                _apply_path(res, op, _parse(f"{urn}:{sub_key}", number), sub_value, schema, number)
            continue
        _apply_path(res, op, _parse(key, number), item, schema, number)


def _parse(text: str, number: int) -> PatchPath:
    try:
        return parse_path(text)
    except FilterError as exc:
        raise PatchError("invalidPath", f"operation {number}: {exc}") from None


def _apply_path(res: dict[str, Any], op: str, path: PatchPath, value: Any, schema: ResourceSchema,
                number: int) -> None:
    ap = path.attr
    where = f"operation {number} ({op} {path})"
    if ap.urn is None and ap.attr.lower() in COMMON_READONLY or (
        ap.urn is not None and ap.urn.lower() == schema.core.lower() and ap.attr.lower() in COMMON_READONLY
    ):
        raise PatchError("mutability", f"{where}: {ap.attr} is readOnly")
    if ap.attr.lower() == "schemas" and ap.urn is None:
        raise Unsupported("an operation on schemas")
    urn = schema.urn_of(ap)
    attr = schema.attribute(urn, ap.attr)
    if attr is None:
        raise PatchError("invalidPath", f"{where}: {ap.attr} is not an attribute of {urn}")
    sub_name = ap.sub or path.sub
    sub = attr.sub(sub_name) if sub_name else None
    if sub_name and sub is None:
        raise PatchError("invalidPath", f"{where}: {sub_name} is not a sub-attribute of {attr.name}")
    target = sub or attr
    if target.mutability == "readOnly" or attr.mutability == "readOnly":
        raise PatchError("mutability", f"{where}: {target.name} is readOnly")
    if path.filter is not None and not attr.multi_valued:
        raise PatchError("invalidPath", f"{where}: a value filter on the single-valued {attr.name}")
    if op != "remove":
        _check_type(target if sub is None else _single(sub), value, where)

    if urn == schema.core:
        container = res
    else:
        container = res.get(_key(res, urn) or urn)
        if not isinstance(container, dict):
            if op == "remove":
                return
            container = {}
            res[urn] = container
            schemas = res.get("schemas")
            if isinstance(schemas, list) and not any(str(s).lower() == urn.lower() for s in schemas):
                schemas.append(urn)
    current = get_ci(container, attr.name)[1]

    if attr.mutability == "immutable" and op != "remove" and not _unassigned(current):
        if not (op == "add" and same_value(attr, current, value)):
            raise PatchError("mutability", f"{where}: {attr.name} is immutable and has a value")

    if op == "remove":
        _remove(container, attr, sub, path, schema, where)
    elif path.filter is not None:
        if op == "add":
            raise Unsupported("add through a value filter")
        _replace_filtered(container, attr, sub, path, value, schema, where)
    elif attr.multi_valued:
        if ap.sub:
            raise Unsupported("a sub-attribute of a multi-valued attribute without a value filter")
        items = value if isinstance(value, list) else [value]
        if op == "add":
            existing = list(current) if isinstance(current, list) else ([] if _unassigned(current) else [current])
            for item in items:
                if not any(same_value(_single(attr), item, old) for old in existing):
                    existing.append(copy.deepcopy(item))
        else:
            existing = copy.deepcopy(items)
        _primary(attr, existing, items)
        _assign(container, attr, existing)
    elif sub is not None:
        parent = current if isinstance(current, dict) else {}
        _set(parent, sub.name, copy.deepcopy(value))
        _assign(container, attr, parent)
    elif attr.type == "complex":
        parent = copy.deepcopy(current) if isinstance(current, dict) else {}
        for key, sub_value in (value or {}).items():
            known = attr.sub(key)
            _set(parent, known.name if known else key, copy.deepcopy(sub_value))
        _assign(container, attr, parent)
    else:
        _assign(container, attr, copy.deepcopy(value))
    if urn != schema.core and not container:
        _delete(res, urn)


def _assign(container: dict[str, Any], attr: Attribute, value: Any) -> None:
    if _unassigned(value):
        _delete(container, attr.name)
    else:
        _set(container, attr.name, value)


def _primary(attr: Attribute, values: list[Any], chosen: list[Any]) -> None:
    """One value set primary true makes every other value's primary false (RFC 7644 §3.5.2)."""
    winners = [c for c in chosen if isinstance(c, dict) and get_ci(c, "primary")[1] is True]
    if not winners or attr.sub("primary") is None:
        return
    winner = winners[-1]
    for item in values:
        if isinstance(item, dict) and get_ci(item, "primary")[1] is True and not same_value(
                _single(attr), item, winner):
            _set(item, _key(item, "primary") or "primary", False)


def _filtered_indexes(items: list[Any], path: PatchPath, attr: Attribute) -> list[int]:
    from .filters import ValuePath

    def case_exact(p: AttrPath) -> bool:
        found = attr.sub(p.sub) if p.sub else None
        return bool(found and found.case_exact)

    def types(p: AttrPath) -> str | None:
        found = attr.sub(p.sub) if p.sub else None
        return found.type if found else None

    expr = ValuePath(AttrPath(None, "__item__"), path.filter)
    out = []
    for i, item in enumerate(items):
        wrapped = {"__item__": [item if isinstance(item, dict) else {"value": item}]}
        if matches(expr, wrapped, case_exact, types=types):
            out.append(i)
    return out


def _replace_filtered(container: dict[str, Any], attr: Attribute, sub: Attribute | None, path: PatchPath,
                      value: Any, schema: ResourceSchema, where: str) -> None:
    current = get_ci(container, attr.name)[1]
    items = list(current) if isinstance(current, list) else []
    chosen = _filtered_indexes(items, path, attr)
    if not chosen:
        raise PatchError("noTarget", f"{where}: no value of {attr.name} matches the filter")
    items = copy.deepcopy(items)
    for i in chosen:
        if sub is not None:
            if isinstance(items[i], dict):
                _set(items[i], sub.name, copy.deepcopy(value))
        else:
            items[i] = copy.deepcopy(value)
    _primary(attr, items, [items[i] for i in chosen])
    _assign(container, attr, items)


def _remove(container: dict[str, Any], attr: Attribute, sub: Attribute | None, path: PatchPath,
            schema: ResourceSchema, where: str) -> None:
    current = get_ci(container, attr.name)[1]
    if path.filter is None and sub is None:
        if attr.required:
            raise PatchError("mutability", f"{where}: {attr.name} is required")
        _delete(container, attr.name)
        return
    if path.filter is None:  # name.givenName
        if attr.multi_valued:
            raise Unsupported("a sub-attribute of a multi-valued attribute without a value filter")
        if sub is not None and sub.required and isinstance(current, dict) and get_ci(current, sub.name)[0]:
            raise PatchError("mutability", f"{where}: {attr.name}.{sub.name} is required")
        if isinstance(current, dict):
            current = copy.deepcopy(current)
            _delete(current, sub.name)
            _assign(container, attr, current)
        return
    items = list(current) if isinstance(current, list) else []
    chosen = set(_filtered_indexes(items, path, attr))
    if sub is None:
        remaining = [copy.deepcopy(v) for i, v in enumerate(items) if i not in chosen]
    else:
        remaining = copy.deepcopy(items)
        for i in chosen:
            if isinstance(remaining[i], dict):
                _delete(remaining[i], sub.name)
        remaining = [v for v in remaining if not _unassigned(v)]
    if attr.required and not remaining:
        raise PatchError("mutability", f"{where}: {attr.name} is required")
    _assign(container, attr, remaining)


# -- comparing with the server ----------------------------------------------------------------------------


def returned_by_default(attr: Attribute) -> bool:
    return attr.returned not in ("never", "request") and attr.mutability != "writeOnly"


def differences(model: dict[str, Any], server: dict[str, Any], schema: ResourceSchema,
                ignore: tuple[str, ...] = ()) -> list[str]:
    """Where ``server`` differs from ``model`` on every attribute returned by default (meta, schemas,
    readOnly attributes the server manages and names in ``ignore`` aside). Each entry says what the
    model expected and what the server has."""
    out: list[str] = []
    skip = {n.lower() for n in ("meta", "schemas", *ignore)}
    for urn, attrs in schema.schemas.items():
        core = urn == schema.core
        want_c = model if core else get_ci(model, urn)[1]
        got_c = server if core else get_ci(server, urn)[1]
        want_c = want_c if isinstance(want_c, dict) else {}
        got_c = got_c if isinstance(got_c, dict) else {}
        for attr in attrs:
            label = attr.name if core else f"{urn}:{attr.name}"
            if not returned_by_default(attr) or attr.name.lower() in skip or label.lower() in skip:
                continue
            if attr.mutability == "readOnly" and attr.name.lower() != "id":
                continue
            want, got = get_ci(want_c, attr.name)[1], get_ci(got_c, attr.name)[1]
            if _unassigned(want) and _unassigned(got):
                continue
            if _unassigned(want):
                out.append(f"{label}: expected no value, the server has {show(got)}")
            elif _unassigned(got):
                out.append(f"{label}: expected {show(want)}, the server has no value")
            elif not same_value(attr, _visible_value(attr, want), _visible_value(attr, got)):
                out.append(f"{label}: expected {show(want)}, the server has {show(got)}")
    return out


def _visible_value(attr: Attribute, value: Any) -> Any:
    """A value without the sub-attributes that are never returned by default (password-like)."""
    hidden = {s.name.lower() for s in attr.sub_attributes if not returned_by_default(s)}
    if not hidden:
        return value
    if isinstance(value, list):
        return [_visible_value(attr, v) for v in value]
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k.lower() not in hidden}
    return value
