"""Replay steps: the requests a vendor sends, from a profile's ``[[step]]`` data, run as checks.

A step is a list of actions (``[[step.do]]``), each one HTTP request::

    [[step.do]]
    method = "PATCH"                       # default GET
    path = "Users/${user.id}"              # ${name} takes a value saved by an earlier action
    json = '''{"Operations": [{"op": "Replace", "path": "active", "value": "False"}]}'''  # or body = {...}
    status = [200, 204]                    # the answers the vendor accepts (default: any 2xx)
    expect = [{ at = "active", equals = false }]
    as = "user"                            # save the answer's JSON (a POST to a resource endpoint is
                                           # made with ctx.create, so it is deleted when the step ends)
    precondition = true                    # a refusal skips the step instead of failing it

Values: ``${tag}`` a fresh name carrying the run id, ``${guid}`` a random GUID, ``${run}`` the run id,
``${user.id}`` / ``${user.userName|upper}`` saved answers (filters: upper, lower, slug). Assertions take
``at`` (a SCIM path, ``emails[type eq "work"].value`` included; ``in = "Resources"`` looks inside the first
listed resource) and one of equals, equals_any, count, present, absent, type, contains, excludes, same_as;
or ``header = "Content-Type"`` with ``contains``.
``do = "capabilities"`` compares the target's /ServiceProviderConfig with the profile's [capabilities].
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from . import filters
from .catalog import requirements as catalogue
from .discovery import ResourceType
from .http import Reply
from .profiles import Profile, ProfileError, Step, available
from .registry import check
from .support import field, is_integer, json_type, said, show
from .verdicts import NotApplicable, Violation

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.\-]*)(?:\|([a-z]+))?\}")
ASSERTIONS = ("equals", "equals_any", "count", "present", "absent", "type", "contains", "excludes", "same_as")


# -- registration ------------------------------------------------------------------------------------------


def register_all() -> None:
    """Register every step of every shipped profile as a check ``profile.<name>.<step>``."""
    for prof in available().values():
        for step in prof.steps:
            _register(prof, step)


def _register(prof: Profile, step: Step) -> None:
    reqs = catalogue()
    unknown = [r for r in step.requirements if r not in reqs]
    if unknown:
        raise ProfileError(f"profile {prof.name}: step {step.id} cites unknown requirement ids {unknown}")

    def replay_step(ctx: Any) -> None:
        run_step(ctx, prof, step)

    replay_step.__doc__ = f"{prof.title}: {step.need} Source: {step.cite}"
    check(
        step.check_id,
        step.title,
        requirements=list(step.requirements),
        level=reqs[step.requirements[0]].level,  # the RFC tier; the profile grades the step (Selection.level)
        tags=(f"profile:{prof.name}",),
        fix=step.need,
    )(replay_step)


# -- running a step ----------------------------------------------------------------------------------------


class _Failed(Exception):
    def __init__(self, message: str, reply: Reply | None = None):
        super().__init__(message)
        self.message = message
        self.reply = reply


def run_step(ctx: Any, prof: Profile, step: Step) -> None:
    env: dict[str, Any] = {
        "tag": ctx.tag(prof.name),
        "guid": str(uuid.uuid4()),
        "run": ctx.run.run_id,
        "unknown": uuid.uuid4().hex,
    }
    done: list[str] = []
    for action in step.actions:
        try:
            if action.get("do") == "capabilities":
                done.append(_capabilities(ctx, prof))
            else:
                done.append(_request(ctx, prof, step, action, env))
        except _Failed as exc:
            if action.get("precondition"):
                raise NotApplicable(f"precondition: {exc.message}; see the step that tests it") from None
            verb = "needs" if prof.kind == "client" else "documents"
            raise Violation(f"{prof.title} {verb}: {step.need} — {exc.message} [{step.cite}]") from None
    verb = "gets what it needs" if prof.kind == "client" else "behaves as documented"
    ctx.passed(f"{prof.title} {verb}: {'; '.join(done)} [{step.cite}]")


def _request(ctx: Any, prof: Profile, step: Step, action: dict[str, Any], env: dict[str, Any]) -> str:
    method = str(action.get("method", "GET")).upper()
    path = str(_fill(action.get("path", ""), env))
    query = {k: str(v) for k, v in _fill(action.get("query", {}), env).items()}
    headers = dict(prof.client_headers) if prof.kind == "client" else {}
    headers.update({k: str(v) for k, v in _fill(action.get("headers", {}), env).items()})
    auth = True
    if "authorization" in action:
        headers["Authorization"] = str(_fill(action["authorization"], env))
        auth = False
    content_type = action.get("content_type") or (prof.client_content_type if prof.kind == "client" else None)
    body: Any = None
    if "json" in action:
        try:
            body = json.loads(action["json"])
        except ValueError as exc:
            raise ProfileError(f"profile {prof.name}: step {step.id}: json is not JSON ({exc})") from None
        body = _fill(body, env)
    elif "body" in action:
        body = _fill(action["body"], env)
    kw: dict[str, Any] = {"headers": headers, "auth": auth}
    if content_type:
        kw["content_type"] = content_type
    rt = _resource_type(ctx, path)
    shown = f"{method} /{path.lstrip('/')}"
    if method == "POST" and rt is not None:
        created = ctx.create(rt, body, params=query or None, **kw)  # tracked: deleted when the step ends
        reply = created.reply
    else:
        reply = ctx.http.request(method, path, json_body=body, params=query or None, **kw)
    if query:
        shown += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    statuses = action.get("status")
    ok = reply.status in statuses if statuses else 200 <= reply.status < 300
    if not ok:
        want = " or ".join(str(s) for s in statuses) if statuses else "a 2xx status"
        raise _Failed(f"{shown} answered {said(reply)}, not {want}", reply)
    parsed = reply.maybe_json()
    if action.get("as"):
        env[action["as"]] = parsed if parsed is not None else {}
    for assertion in action.get("expect", []):
        problem = _header(assertion, reply) if "header" in assertion else _assert(assertion, parsed, env)
        if problem:
            raise _Failed(f"{shown} answered {reply.status}: {problem}", reply)
    return f"{shown} → {reply.status}"


def _resource_type(ctx: Any, path: str) -> ResourceType | None:
    clean = path.strip("/").split("?")[0]
    return next((rt for rt in ctx.discovery.resource_types if rt.path == clean), None)


def _capabilities(ctx: Any, prof: Profile) -> str:
    disc = ctx.discovery
    ctx.attach(disc.spc_reply.exchange if disc.spc_reply is not None else None)
    if not disc.spc:
        raise _Failed("/ServiceProviderConfig gave no document to compare with the documented capabilities")
    wrong = [
        f"{feature}.supported is {disc.supports(feature)}, documented {want}"
        for feature, want in prof.capabilities.items()
        if disc.supports(feature) != want
    ]
    if wrong:
        raise _Failed("/ServiceProviderConfig differs from the documentation: " + "; ".join(wrong))
    return "/ServiceProviderConfig advertises " + ", ".join(
        f"{f}={'yes' if v else 'no'}" for f, v in prof.capabilities.items()
    )


# -- templates ---------------------------------------------------------------------------------------------


def _lookup(env: dict[str, Any], name: str) -> Any:
    head, *rest = name.split(".")
    if head not in env:
        raise NotApplicable(f"the step needs {name}, which no earlier answer gave")
    value = env[head]
    for part in rest:
        if isinstance(value, list) and part.isdigit():
            value = value[int(part)] if int(part) < len(value) else None
        else:
            value = field(value, part)
        if value is None:
            raise NotApplicable(f"the step needs {name}, which no earlier answer gave")
    return value


def _filter(value: Any, how: str | None) -> Any:
    if how is None:
        return value
    text = str(value)
    if how == "upper":
        return text.upper()
    if how == "lower":
        return text.lower()
    if how == "slug":
        return re.sub(r"[^A-Za-z0-9]", "-", text)
    raise ValueError(f"unknown template filter {how!r}")


def _fill(value: Any, env: dict[str, Any]) -> Any:
    if isinstance(value, str):
        whole = _VAR.fullmatch(value)
        if whole:
            return _filter(_lookup(env, whole.group(1)), whole.group(2))
        return _VAR.sub(lambda m: str(_filter(_lookup(env, m.group(1)), m.group(2))), value)
    if isinstance(value, list):
        return [_fill(v, env) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, env) for k, v in value.items()}
    return value


# -- assertions --------------------------------------------------------------------------------------------


def values(body: Any, at: str) -> list[Any]:
    """Every value ``at`` (a SCIM attribute path, value filters included) reaches in ``body``."""
    if not isinstance(body, dict):
        return []
    path = filters.parse_path(at)
    if path.filter is None:
        return filters.values_at(body, path.attr)
    container = filters._container(body, path.attr.urn, None)
    items = field(container, path.attr.attr)
    items = items if isinstance(items, list) else [items]
    chosen = [i for i in items if isinstance(i, dict) and filters.matches(path.filter, i)]
    if not path.sub:
        return chosen
    out = [field(i, path.sub) for i in chosen]
    return [v for v in out if v is not None]


def _header(assertion: dict[str, Any], reply: Reply) -> str | None:
    """``{ header = "Content-Type", contains = "application/scim+json" }``: a response header holds a text."""
    name, want = assertion["header"], assertion.get("contains")
    if not isinstance(want, str):
        raise ValueError(f"a header assertion needs contains = <text>: {assertion}")
    got = reply.headers.get(name)
    if got is None or want.lower() not in got.lower():
        return f"the {name} header is {show(got)}, expected it to hold {show(want)}"
    return None


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    return json_type(a) == json_type(b) and a == b


def _assert(assertion: dict[str, Any], body: Any, env: dict[str, Any]) -> str | None:
    """None when the assertion holds, else what is wrong (one line)."""
    kinds = [k for k in ASSERTIONS if k in assertion]
    if len(kinds) != 1 or "at" not in assertion:
        raise ValueError(f"an assertion needs 'at' and one of {', '.join(ASSERTIONS)}: {assertion}")
    kind, at = kinds[0], assertion["at"]
    where = body
    if "in" in assertion:
        listed = field(body, assertion["in"]) if isinstance(body, dict) else None
        where = listed[0] if isinstance(listed, list) and listed else None
        at_shown = f"{assertion['in']}[0].{at}"
    else:
        at_shown = at
    got = values(where, at)
    want = _fill(assertion[kind], env)
    why = f" ({assertion['why']})" if assertion.get("why") else ""
    if kind == "equals":
        if len(got) != 1 or not _same(got[0], want):
            return f"{at_shown} is {show(got[0] if len(got) == 1 else got)}, expected {show(want)}{why}"
    elif kind == "equals_any":
        if len(got) != 1 or not any(_same(got[0], w) for w in want):
            return f"{at_shown} is {show(got[0] if len(got) == 1 else got)}, expected one of {show(want)}{why}"
    elif kind == "count":
        if len(got) != want:
            return f"{at_shown} holds {len(got)} value(s), expected {want}{why}"
    elif kind == "present":
        if bool(got) != bool(want):
            return f"{at_shown} is {'missing' if want else 'present: ' + show(got)}{why}"
    elif kind == "absent":
        if bool(got) == bool(want):
            return f"{at_shown} is {'still there: ' + show(got) if want else 'missing'}{why}"
    elif kind == "type":
        bad = [g for g in got if (json_type(g) != want and not (want == "integer" and is_integer(g)))]
        if not got or bad:
            return f"{at_shown} is {show(bad[0]) if bad else 'missing'}, expected a JSON {want}{why}"
    elif kind == "contains":
        if not any(_same(g, want) for g in got):
            return f"{at_shown} ({show(got)}) does not hold {show(want)}{why}"
    elif kind == "excludes":
        if any(_same(g, want) for g in got):
            return f"{at_shown} still holds {show(want)}{why}"
    elif kind == "same_as":
        before = values(env.get(want), at)
        if got != before:
            return f"{at_shown} is {show(got)}, the same request gave {show(before)} before{why}"
    return None
