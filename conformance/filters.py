"""SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2, Figure 7): a parser and an evaluator.

    ast = parse('emails[type eq "work" and value co "@example.com"] or userName sw "J"')
    matches(ast, resource, case_exact=lambda path: path.dotted() in {"id"})
    path = parse_path('emails[type eq "work"].value')   # PatchPath(attr, filter, sub)

Precedence follows the RFC: grouping, then ``not`` before ``and`` before ``or``. Attribute names,
operators and logical words are case-insensitive; URN-qualified attribute paths are understood.
String values compare without case unless ``case_exact(path)`` says the attribute is caseExact;
values that both read as xsd:dateTime compare as instants (or as the type ``types(path)`` names);
booleans and numbers compare typed. Malformed input raises :class:`FilterError` with the column.

Choices where the RFC is silent, applied consistently: a multi-valued attribute matches when any of
its values does; a complex value compared without a sub-attribute is compared on its ``value``;
``ne`` is the negation of ``eq`` (so an absent attribute is ``ne`` anything but null); ``eq null``
matches an absent or null attribute; ordering (gt/ge/lt/le) on a boolean raises FilterError, as
the RFC makes it an invalidFilter.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union

COMPARE_OPS = ("eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le")


class FilterError(ValueError):
    """A filter or path that does not follow the ABNF; ``column`` is 1-based."""

    def __init__(self, message: str, text: str = "", column: int | None = None):
        where = f" at column {column}" if column is not None else ""
        super().__init__(f"{message}{where}" + (f" in {text!r}" if text else ""))
        self.column = column


# -- the AST ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttrPath:
    """``[urn:]attr[.sub]``; names are kept as written (compare them with :meth:`same`)."""

    urn: str | None
    attr: str
    sub: str | None = None

    def dotted(self) -> str:
        """``attr.sub`` without the URN (the form schema lookups use)."""
        return f"{self.attr}.{self.sub}" if self.sub else self.attr

    def __str__(self) -> str:
        return (f"{self.urn}:" if self.urn else "") + self.dotted()

    def same(self, other: AttrPath) -> bool:
        def low(v: str | None) -> str | None:
            return v.lower() if v else v
        return (low(self.urn), low(self.attr), low(self.sub)) == (low(other.urn), low(other.attr), low(other.sub))


@dataclass(frozen=True)
class Compare:
    path: AttrPath
    op: str  # one of COMPARE_OPS, lower case
    value: Any  # str, int, float, bool or None


@dataclass(frozen=True)
class Present:
    path: AttrPath


@dataclass(frozen=True)
class And:
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Or:
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Not:
    expr: Expr


@dataclass(frozen=True)
class ValuePath:
    """``attr[filter]``: some value of the multi-valued ``attr`` matches ``filter`` (whose paths are
    sub-attributes of ``attr``)."""

    path: AttrPath
    filter: Expr


Expr = Union[Compare, Present, And, Or, Not, ValuePath]  # noqa: UP007 (a runtime alias, used before 3.12)


@dataclass(frozen=True)
class PatchPath:
    """A PATCH path: ``attrPath`` or ``valuePath [subAttr]`` (RFC 7644 Figure 7)."""

    attr: AttrPath
    filter: Expr | None = None
    sub: str | None = None  # only with a filter: emails[type eq "work"].value

    def __str__(self) -> str:
        text = str(self.attr)
        if self.filter is not None:
            text += f"[{unparse(self.filter)}]"
        return text + (f".{self.sub}" if self.sub else "")


# -- the tokenizer ---------------------------------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z$][A-Za-z0-9_$-]*")
_WORD = re.compile(r"[A-Za-z0-9_$:.\-]+")  # an attribute path, URN included ("2.0" has a dot)
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")


@dataclass
class _Tok:
    kind: str  # word, string, number, lparen, rparen, lbracket, rbracket, dot, end
    text: str
    pos: int
    value: Any = None


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t\r\n":
            i += 1
        elif c in "()[]":
            kind = {"(": "lparen", ")": "rparen", "[": "lbracket", "]": "rbracket"}[c]
            out.append(_Tok(kind, c, i))
            i += 1
        elif c == '"':
            j, escaped = i + 1, False
            while j < n and (escaped or text[j] != '"'):
                escaped = not escaped and text[j] == "\\"
                j += 1
            if j >= n:
                raise FilterError("unterminated string", text, i + 1)
            try:
                value = json.loads(text[i : j + 1])
            except ValueError:
                raise FilterError("invalid string escape", text, i + 1) from None
            out.append(_Tok("string", text[i : j + 1], i, value))
            i = j + 1
        elif c == "-" or c.isdigit():
            m = _NUMBER.match(text, i)
            if not m:
                raise FilterError("invalid number", text, i + 1)
            raw = m.group()
            value = float(raw) if any(ch in raw for ch in ".eE") else int(raw)
            out.append(_Tok("number", raw, i, value))
            i = m.end()
        elif c == "." and out and out[-1].kind == "rbracket":
            out.append(_Tok("dot", c, i))
            i += 1
        else:
            m = _WORD.match(text, i)
            if not m:
                raise FilterError(f"unexpected character {c!r}", text, i + 1)
            out.append(_Tok("word", m.group(), i))
            i = m.end()
    out.append(_Tok("end", "", n))
    return out


def _attr_path(tok: _Tok, text: str) -> AttrPath:
    word = tok.text
    urn: str | None = None
    if ":" in word:
        urn, _, word = word.rpartition(":")
        if not urn.lower().startswith("urn:") or not urn[4:]:
            raise FilterError(f"{tok.text!r} is not an attribute path", text, tok.pos + 1)
    parts = word.split(".")
    if len(parts) > 2 or not all(_NAME.fullmatch(p) for p in parts):
        raise FilterError(f"{tok.text!r} is not an attribute path", text, tok.pos + 1)
    return AttrPath(urn, parts[0], parts[1] if len(parts) == 2 else None)


# -- the parser ------------------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def fail(self, message: str, tok: _Tok | None = None) -> FilterError:
        tok = tok or self.tok
        return FilterError(message, self.text, tok.pos + 1)

    def take(self, kind: str, what: str) -> _Tok:
        if self.tok.kind != kind:
            found = self.tok.text or "the end"
            raise self.fail(f"expected {what}, found {found!r}")
        tok = self.tok
        self.i += 1
        return tok

    def is_word(self, *words: str) -> bool:
        return self.tok.kind == "word" and self.tok.text.lower() in words

    def expr(self, inner: bool) -> Expr:
        left = self.conj(inner)
        while self.is_word("or"):
            self.i += 1
            left = Or(left, self.conj(inner))
        return left

    def conj(self, inner: bool) -> Expr:
        left = self.unary(inner)
        while self.is_word("and"):
            self.i += 1
            left = And(left, self.unary(inner))
        return left

    def unary(self, inner: bool) -> Expr:
        if self.is_word("not") and self.toks[self.i + 1].kind == "lparen":
            self.i += 1
            return Not(self.group(inner))
        if self.tok.kind == "lparen":
            return self.group(inner)
        return self.attr_exp(inner)

    def group(self, inner: bool) -> Expr:
        self.take("lparen", "'('")
        expr = self.expr(inner)
        self.take("rparen", "')'")
        return expr

    def attr_exp(self, inner: bool) -> Expr:
        tok = self.take("word", "an attribute path")
        path = _attr_path(tok, self.text)
        if self.tok.kind == "lbracket":
            if inner:
                raise self.fail("a value filter cannot be nested in another")
            if path.sub:
                raise self.fail("a value filter applies to an attribute, not to a sub-attribute")
            self.i += 1
            inside = self.expr(inner=True)
            self.take("rbracket", "']'")
            return ValuePath(path, inside)
        op_tok = self.take("word", "an operator")
        op = op_tok.text.lower()
        if op == "pr":
            return Present(path)
        if op not in COMPARE_OPS:
            raise self.fail(f"unknown operator {op_tok.text!r}", op_tok)
        return Compare(path, op, self.comp_value())

    def comp_value(self) -> Any:
        tok = self.tok
        if tok.kind in ("string", "number"):
            self.i += 1
            return tok.value
        if tok.kind == "word" and tok.text.lower() in ("true", "false", "null"):
            self.i += 1
            return {"true": True, "false": False, "null": None}[tok.text.lower()]
        raise self.fail(f"expected a value (a string, number, true, false or null), found {tok.text or 'the end'!r}")

    def end(self) -> None:
        if self.tok.kind != "end":
            raise self.fail(f"unexpected {self.tok.text!r}")


def parse(text: str) -> Expr:
    """Parse a filter; raise :class:`FilterError` when it does not follow the ABNF."""
    if not isinstance(text, str) or not text.strip():
        raise FilterError("empty filter")
    parser = _Parser(text)
    expr = parser.expr(inner=False)
    parser.end()
    return expr


def parse_path(text: str) -> PatchPath:
    """Parse a PATCH path (``attrPath`` / ``valuePath [subAttr]``); raise :class:`FilterError`."""
    if not isinstance(text, str) or not text.strip():
        raise FilterError("empty path")
    parser = _Parser(text)
    attr = _attr_path(parser.take("word", "an attribute path"), text)
    if parser.tok.kind != "lbracket":
        parser.end()
        return PatchPath(attr)
    if attr.sub:
        raise parser.fail("a value filter applies to an attribute, not to a sub-attribute")
    parser.i += 1
    inside = parser.expr(inner=True)
    parser.take("rbracket", "']'")
    sub = None
    if parser.tok.kind == "dot":
        parser.i += 1
        name = parser.take("word", "a sub-attribute name")
        if not _NAME.fullmatch(name.text):
            raise parser.fail(f"{name.text!r} is not a sub-attribute name", name)
        sub = name.text
    parser.end()
    return PatchPath(attr, inside, sub)


def unparse(expr: Expr) -> str:
    """The filter as text (fully parenthesised where precedence needs it)."""
    if isinstance(expr, Present):
        return f"{expr.path} pr"
    if isinstance(expr, Compare):
        return f"{expr.path} {expr.op} {json.dumps(expr.value)}"
    if isinstance(expr, Not):
        return f"not ({unparse(expr.expr)})"
    if isinstance(expr, ValuePath):
        return f"{expr.path}[{unparse(expr.filter)}]"
    word = "and" if isinstance(expr, And) else "or"
    parts = []
    for side in (expr.left, expr.right):
        text = unparse(side)
        parts.append(f"({text})" if isinstance(side, Or) and word == "and" else text)
    return f" {word} ".join(parts)


# -- the evaluator ---------------------------------------------------------------------------------------

CaseExact = Callable[[AttrPath], bool]
Types = Callable[[AttrPath], "str | None"]


def never_case_exact(path: AttrPath) -> bool:
    return False


def _get_ci(obj: Any, name: str) -> Any:
    if not isinstance(obj, dict):
        return None
    if name in obj:
        return obj[name]
    lowered = name.lower()
    return next((v for k, v in obj.items() if isinstance(k, str) and k.lower() == lowered), None)


def _container(resource: dict[str, Any], urn: str | None, core_schema: str | None) -> Any:
    """Where the attributes of ``urn`` live in ``resource``: an extension's object, or the top level."""
    if urn is None or (core_schema and urn.lower() == core_schema.lower()):
        return resource
    ext = _get_ci(resource, urn)
    if isinstance(ext, dict):
        return ext
    return None if core_schema else resource  # without knowing the core URN, assume it names the core


def values_at(resource: dict[str, Any], path: AttrPath, core_schema: str | None = None) -> list[Any]:
    """Every value ``path`` reaches in ``resource`` (flattened over multi-valued attributes)."""
    value = _get_ci(_container(resource, path.urn, core_schema), path.attr)
    items = value if isinstance(value, list) else [value]
    if path.sub:
        subs = [_get_ci(item, path.sub) for item in items if isinstance(item, dict)]
        items = []
        for sub in subs:
            items.extend(sub if isinstance(sub, list) else [sub])
    return [v for v in items if v is not None]


def _datetime(value: Any) -> dt.datetime | None:
    from .support import parse_datetime  # the suite's xsd:dateTime reader

    return parse_datetime(value)


def _compare_one(op: str, got: Any, want: Any, case_exact: bool, kind: str | None) -> bool:
    if isinstance(got, dict):  # a complex value without a sub-attribute: its "value"
        got = _get_ci(got, "value")
    if want is None:
        return got is None if op == "eq" else False
    if isinstance(want, bool) or isinstance(got, bool):
        if op in ("gt", "ge", "lt", "le"):
            raise FilterError(f"'{op}' cannot order boolean values (invalidFilter)")
        if op in ("co", "sw", "ew"):
            return False
        return isinstance(got, bool) and isinstance(want, bool) and got is want
    if isinstance(want, int | float):
        if not isinstance(got, int | float):
            return False
        return _order(op, got, want)
    if not isinstance(want, str) or not isinstance(got, str):
        return False
    if kind in (None, "dateTime") and op in ("eq", "gt", "ge", "lt", "le"):
        a, b = _datetime(got), _datetime(want)
        if a is not None and b is not None:
            return _order(op, a, b)
    if kind == "binary" and op in ("gt", "ge", "lt", "le"):
        raise FilterError(f"'{op}' cannot order binary values (invalidFilter)")
    if not case_exact:
        got, want = got.casefold(), want.casefold()
    if op == "co":
        return want in got
    if op == "sw":
        return got.startswith(want)
    if op == "ew":
        return got.endswith(want)
    return _order(op, got, want)


def _order(op: str, a: Any, b: Any) -> bool:
    if op == "eq":
        return a == b
    if op == "gt":
        return a > b
    if op == "ge":
        return a >= b
    if op == "lt":
        return a < b
    if op == "le":
        return a <= b
    raise FilterError(f"operator {op!r} cannot compare {a!r}")


def _present(values: list[Any]) -> bool:
    return any(v not in ("", [], {}) for v in values)


def matches(
    expr: Expr,
    resource: dict[str, Any],
    case_exact: CaseExact = never_case_exact,
    *,
    types: Types | None = None,
    core_schema: str | None = None,
) -> bool:
    """Does ``resource`` match ``expr``? ``case_exact(path)`` tells whether string values of the attribute at
    ``path`` compare with case; ``types(path)`` may name its SCIM type ("dateTime", "boolean", ...);
    ``core_schema`` is the resource's core schema URN (paths qualified with another URN look in that
    extension's object)."""
    return _eval(expr, resource, case_exact, types, core_schema, None)


def _eval(expr: Expr, res: Any, ce: CaseExact, types: Types | None, core: str | None,
          parent: AttrPath | None) -> bool:
    if isinstance(expr, And):
        return _eval(expr.left, res, ce, types, core, parent) and _eval(expr.right, res, ce, types, core, parent)
    if isinstance(expr, Or):
        return _eval(expr.left, res, ce, types, core, parent) or _eval(expr.right, res, ce, types, core, parent)
    if isinstance(expr, Not):
        return not _eval(expr.expr, res, ce, types, core, parent)
    if isinstance(expr, ValuePath):
        container = _container(res, expr.path.urn, core)
        value = _get_ci(container, expr.path.attr)
        items = value if isinstance(value, list) else [value]
        return any(
            isinstance(item, dict) and _eval(expr.filter, item, ce, types, core, expr.path) for item in items
        )
    path = expr.path
    if parent is not None:  # a sub-attribute inside [...]: read on the value itself
        full = AttrPath(parent.urn, parent.attr, path.attr if path.sub is None else path.attr)
        values = values_at(res, AttrPath(None, path.attr, path.sub))
    else:
        full = path
        values = values_at(res, path, core)
    if isinstance(expr, Present):
        return _present(values)
    kind = types(full) if types else None
    if expr.op == "ne":
        return not any(_compare_one("eq", v, expr.value, ce(full), kind) for v in values) and not (
            expr.value is None and not values
        )
    if not values:
        return expr.op == "eq" and expr.value is None
    return any(_compare_one(expr.op, v, expr.value, ce(full), kind) for v in values)


# -- schema lookups for the evaluator ---------------------------------------------------------------------


def schema_lookups(discovery: Any, rt: Any) -> tuple[CaseExact, Types]:
    """``case_exact`` and ``types`` callables reading the target's /Schemas for resource type ``rt``
    (a :class:`conformance.discovery.Discovery` and ``ResourceType``). Unknown attributes: not
    caseExact, no type; ``id`` is caseExact (RFC 7643 §3.1)."""

    def find(path: AttrPath) -> Any:
        name = (f"{path.urn}:" if path.urn and path.urn.lower() != rt.schema.lower() else "") + path.dotted()
        return discovery.attribute(rt, name)

    def case_exact(path: AttrPath) -> bool:
        attr = find(path)
        if attr is None:
            return path.dotted().lower() in ("id", "externalid", "meta.version")
        return bool(attr.case_exact)

    def types(path: AttrPath) -> str | None:
        attr = find(path)
        if attr is None and path.dotted().lower() in ("meta.created", "meta.lastmodified"):
            return "dateTime"
        return attr.type if attr is not None else None

    return case_exact, types
