"""RFC 7644 §3.14 — versioning with ETags, when /ServiceProviderConfig says etag.supported: the ETag
header and meta.version, conditional retrieval (If-None-Match -> 304) and conditional replacement
(If-Match: a stale version -> 412 and nothing changed, the current version -> applied), and a new version
after every change.

§3.14 makes ETag support itself a MAY and says little more than "use HTTP ETags" (RFC 7232): only the
header is a MUST. A server that advertises etag support has opted into what the section describes
(conditional retrieval and protection against overwrites), but the RFC 7232 rules behind it carry no
SCIM requirement id, so those checks cite 7644-3.14-01 and only warn. The rule on weak tags
(7643-3.1-18) cannot be tested over HTTP and is left out.

The read-only checks use the run's shared sample; the checks that write create their own resource.
"""

from __future__ import annotations

from typing import Any

from ..discovery import PATCH_URN
from ..engine import Created
from ..http import Reply
from ..registry import check
from ..support import field, show
from ..verdicts import NotApplicable, Violation, expect
from .rfc7644_s3_3_create import plain_string_attribute, same_value


def _etag(reply: Reply) -> str | None:
    value = reply.headers.get("etag")
    return value.strip() if value and value.strip() else None


def _meta_version(body: Any) -> str | None:
    value = field(field(body, "meta"), "version")
    return value.strip() if isinstance(value, str) and value.strip() else None


def _current(ctx, created: Created) -> tuple[Reply, dict[str, Any], str]:
    """GET the resource: (reply, body, its version — the ETag header, else meta.version), or skip."""
    reply = ctx.http.get(created.path)
    body = reply.maybe_json()
    if reply.status != 200 or not isinstance(body, dict):
        raise NotApplicable(f"precondition: GET {created.rt.endpoint}/{created.id} answered {reply.status}; "
                            "see the retrieve checks")
    version = _etag(reply) or _meta_version(body)
    if version is None:
        raise NotApplicable(f"GET {created.rt.endpoint}/{created.id} gives neither an ETag header nor "
                            "meta.version; see etag.header")
    return reply, body, version


def _change(ctx, created: Created) -> tuple[str, str]:
    """A plain string attribute of the resource to change, and a new value for it."""
    return plain_string_attribute(ctx, created.rt, created.sent), ctx.tag("ver")


def _put(ctx, created: Created, name: str, value: str, headers: dict[str, str] | None = None) -> Reply:
    return ctx.http.put(created.path, {**created.sent, "id": created.id, name: value}, headers=headers)


def _patch(ctx, created: Created, name: str, value: str, headers: dict[str, str] | None = None) -> Reply:
    body = {"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": name, "value": value}]}
    return ctx.http.patch(created.path, body, headers=headers)


def _stored(ctx, created: Created, name: str) -> Any:
    reply = ctx.http.get(created.path)
    expect(reply.status == 200, f"GET {created.rt.endpoint}/{created.id} answered {reply.status}, expected 200")
    return field(reply.json_object(), name)


@check(
    "etag.header",
    "Answers that return a resource carry an ETag header",
    requirements=["7644-3.14-02"],
    level="MUST",
    per_resource_type=True,
    needs=("etag",),
)
def etag_header(ctx, rt):
    """With etag support advertised, the version of a resource travels in the ETag HTTP header: the
    answer to its creation (when it returned the resource) and a GET of it both carry a non-empty
    ETag."""
    sample = ctx.sample(rt)
    if sample.reply.status in (200, 201) and isinstance(sample.body, dict):
        expect(_etag(sample.reply) is not None,
               f"POST {rt.endpoint} answered {sample.reply.status} with the resource but without an ETag header")
    reply = ctx.http.get(sample.path)
    if reply.status != 200:
        raise NotApplicable(f"precondition: GET {rt.endpoint}/{sample.id} answered {reply.status}")
    tag = _etag(reply)
    expect(tag is not None, f"GET {rt.endpoint}/{sample.id} answered 200 without an ETag header")
    ctx.passed(f"ETag {tag} on the create answer and on GET")


@check(
    "etag.meta-version",
    "meta.version holds the same entity-tag as the ETag header",
    # 3.14-02 makes meta.version a SHOULD; the catalogue records the statement as MUST only, so the check
    # also cites 3.14-01 to be allowed a non-failing level (MAY: a violation warns, as a SHOULD would).
    requirements=["7644-3.14-02", "7644-3.14-01"],
    level="MAY",
    per_resource_type=True,
    needs=("etag",),
)
def meta_version(ctx, rt):
    """Besides the header, the version should be in the resource's meta.version, with the same value as
    the ETag header of the answer that carries the resource (the RFC recommends this, it does not
    require it: a violation warns)."""
    sample = ctx.sample(rt)
    reply = ctx.http.get(sample.path)
    body = reply.maybe_json()
    if reply.status != 200 or not isinstance(body, dict):
        raise NotApplicable(f"precondition: GET {rt.endpoint}/{sample.id} answered {reply.status}")
    tag = _etag(reply)
    if tag is None:
        raise NotApplicable("the GET answer has no ETag header to compare with; see etag.header")
    version = field(field(body, "meta"), "version")
    expect(version is not None, f"GET {rt.endpoint}/{sample.id} has ETag {tag} but no meta.version")
    expect(isinstance(version, str) and version.strip() == tag,
           f"meta.version is {show(version)}, the ETag header of the same answer is {tag!r}; they should be equal")
    ctx.passed(f"meta.version and the ETag header are both {tag}")


@check(
    "etag.if-none-match-304",
    "A GET with If-None-Match holding the current version answers 304",
    requirements=["7644-3.14-01"],
    level="MAY",
    per_resource_type=True,
    needs=("etag",),
)
def if_none_match(ctx, rt):
    """Conditional retrieval: a GET carrying If-None-Match with the resource's current version answers
    304 Not Modified with an empty body, and a GET with If-None-Match naming another version answers
    200 with the resource."""
    sample = ctx.sample(rt)
    _, _, version = _current(ctx, sample)
    reply = ctx.http.get(sample.path, headers={"If-None-Match": version})
    expect(reply.status == 304, f"GET {rt.endpoint}/{sample.id} with If-None-Match: {version} (its current "
                                f"version) answered {reply.status}; expected 304 Not Modified")
    expect(not reply.text.strip(), f"the 304 answer has a body ({reply.text[:60]!r}); a 304 has none")
    other = ctx.http.get(sample.path, headers={"If-None-Match": 'W/"sct-not-the-version"'})
    expect(other.status == 200, f"GET {rt.endpoint}/{sample.id} with If-None-Match naming another version "
                                f"answered {other.status}; expected 200 with the resource")
    ctx.passed(f"304 for If-None-Match: {version}, 200 for another version")


def _stale_refused(ctx, rt, method: str) -> None:
    created = ctx.created_ok(rt)
    _, _, old = _current(ctx, created)
    name, first = _change(ctx, created)
    send = _put if method == "PUT" else _patch
    reply = send(ctx, created, name, first)
    if not 200 <= reply.status < 300:
        raise NotApplicable(f"precondition: a {method} without If-Match answered {reply.status}")
    _, _, new = _current(ctx, created)
    if new == old:
        raise NotApplicable(f"the version stayed {old} after the {method}, so no version is stale; "
                            "see etag.version-changes")
    second = ctx.tag("stale")
    reply = send(ctx, created, name, second, headers={"If-Match": old})
    stored = _stored(ctx, created, name)
    attr = ctx.discovery.attribute(rt, name)
    expect(not same_value(attr, name, second, stored),
           f"a {method} with the stale If-Match: {old} (current: {new}) was applied: {name} is now {show(stored)}")
    expect(reply.status == 412, f"a {method} with the stale If-Match: {old} (current: {new}) answered "
                                f"{reply.status}; expected 412 Precondition Failed")
    ctx.passed(f"{method} with stale If-Match: 412, {name} unchanged")


@check(
    "etag.if-match-stale-put",
    "A PUT with a stale If-Match answers 412 and changes nothing",
    requirements=["7644-3.14-01"],
    level="MAY",
    per_resource_type=True,
    needs=("etag",),
)
def if_match_stale_put(ctx, rt):
    """A resource is changed once (so its first version is stale); a PUT carrying If-Match with that
    first version is refused with 412 Precondition Failed, and a GET shows the change was not made."""
    _stale_refused(ctx, rt, "PUT")


@check(
    "etag.if-match-stale-patch",
    "A PATCH with a stale If-Match answers 412 and changes nothing",
    requirements=["7644-3.14-01"],
    level="MAY",
    per_resource_type=True,
    needs=("etag", "patch"),
)
def if_match_stale_patch(ctx, rt):
    """As etag.if-match-stale-put, with PATCH: after one change, a PATCH carrying If-Match with the
    first version is refused with 412, and a GET shows the value it would have set is not there."""
    _stale_refused(ctx, rt, "PATCH")


@check(
    "etag.if-match-current",
    "A PUT with If-Match holding the current version succeeds",
    requirements=["7644-3.14-01"],
    level="MAY",
    per_resource_type=True,
    needs=("etag",),
)
def if_match_current(ctx, rt):
    """A PUT carrying If-Match with the resource's current version (as a GET gives it) is applied: it
    answers 2xx and a GET shows the new value."""
    created = ctx.created_ok(rt)
    _, _, version = _current(ctx, created)
    name, value = _change(ctx, created)
    reply = _put(ctx, created, name, value, headers={"If-Match": version})
    expect(200 <= reply.status < 300, f"a PUT with If-Match: {version} (the current version) answered "
                                      f"{reply.status}; expected 200")
    stored = _stored(ctx, created, name)
    expect(same_value(ctx.discovery.attribute(rt, name), name, value, stored),
           f"the PUT with If-Match: {version} answered {reply.status} but GET shows {name} {show(stored)}; "
           f"{show(value)} was sent")
    ctx.passed(f"PUT with If-Match: {version} applied")


@check(
    "etag.version-changes",
    "Every change gives the resource a new version",
    requirements=["7644-3.14-01"],
    level="MAY",
    per_resource_type=True,
    needs=("etag",),
)
def version_changes(ctx, rt):
    """The version is what conditional requests compare, so it changes whenever the resource does: after
    each of two PUTs changing a value, a GET shows a version different from every earlier one."""
    created = ctx.created_ok(rt)
    _, _, version = _current(ctx, created)
    seen = [version]
    for _ in range(2):
        name, value = _change(ctx, created)
        reply = _put(ctx, created, name, value)
        if not 200 <= reply.status < 300:
            raise NotApplicable(f"precondition: the PUT answered {reply.status}; see replace.value-stored")
        _, body, version = _current(ctx, created)
        if not same_value(ctx.discovery.attribute(rt, name), name, value, field(body, name)):
            raise NotApplicable(f"the PUT did not store the new {name}; see replace.value-stored")
        if version in seen:
            raise Violation(f"after a PUT changed {name}, the version is still {version} (versions so far: "
                            f"{', '.join(seen)})")
        seen.append(version)
    ctx.passed("versions " + " -> ".join(seen))
