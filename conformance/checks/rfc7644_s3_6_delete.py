"""RFC 7644 §3.6 — deleting resources: 204, then 404 for everything on the deleted resource, gone
from queries, and its name free for a new resource.

Each check creates the resource it deletes; the suite's cleanup deleting it again is harmless.
"""

from __future__ import annotations

import json

from ..discovery import PATCH_URN
from ..engine import Created
from ..registry import check
from ..support import field, show
from ..verdicts import NotApplicable, Violation, expect
from .rfc7644_s3_3_create import naming


def _deleted(ctx, rt) -> Created:
    """A resource of ``rt`` created and deleted for the check (a failed DELETE skips)."""
    created = ctx.created_ok(rt)
    reply = ctx.http.delete(created.path)
    if not 200 <= reply.status < 300:
        raise NotApplicable(f"precondition: DELETE {rt.endpoint}/{created.id} answered {reply.status}; "
                            "see delete.status-204")
    return created


def _gone(reply, what: str) -> None:
    expect(reply.status == 404, f"{what} on the deleted resource answered {reply.status}; expected 404 Not Found")


@check(
    "delete.status-204",
    "A successful DELETE answers 204 No Content",
    requirements=["7644-3.6-05"],
    level="MUST",
    per_resource_type=True,
)
def status_204(ctx, rt):
    """DELETE /{endpoint}/{id} of a resource the suite created answers 204 No Content."""
    created = ctx.created_ok(rt)
    reply = ctx.http.delete(created.path)
    expect(reply.status == 204, f"DELETE {rt.endpoint}/{created.id} answered {reply.status}; expected 204 No Content")
    ctx.passed("204 No Content")


@check(
    "delete.then-get-404",
    "GET on a deleted resource answers 404",
    requirements=["7644-3.6-01"],
    level="MUST",
    per_resource_type=True,
)
def then_get_404(ctx, rt):
    """After a DELETE, reading the resource answers 404 Not Found (a server that only marks
    resources deleted must still answer 404)."""
    created = _deleted(ctx, rt)
    _gone(ctx.http.get(created.path), f"GET {rt.endpoint}/{created.id}")
    ctx.passed("404 after the delete")


@check(
    "delete.then-put-404",
    "PUT on a deleted resource answers 404",
    requirements=["7644-3.6-01"],
    level="MUST",
    per_resource_type=True,
)
def then_put_404(ctx, rt):
    """After a DELETE, replacing the resource with PUT answers 404 Not Found and does not bring it back."""
    created = _deleted(ctx, rt)
    _gone(ctx.http.put(created.path, {**created.sent, "id": created.id}), f"PUT {rt.endpoint}/{created.id}")
    ctx.passed("404 after the delete")


@check(
    "delete.then-patch-404",
    "PATCH on a deleted resource answers 404",
    requirements=["7644-3.6-01"],
    level="MUST",
    per_resource_type=True,
    needs=("patch",),
)
def then_patch_404(ctx, rt):
    """After a DELETE, a PATCH of the resource (replacing its naming attribute) answers 404 Not Found."""
    name = naming(ctx, rt)
    created = _deleted(ctx, rt)
    body = {"schemas": [PATCH_URN],
            "Operations": [{"op": "replace", "path": name, "value": created.sent.get(name, ctx.tag())}]}
    _gone(ctx.http.patch(created.path, body), f"PATCH {rt.endpoint}/{created.id}")
    ctx.passed("404 after the delete")


@check(
    "delete.then-delete-404",
    "A second DELETE of a deleted resource answers 404",
    requirements=["7644-3.6-01"],
    level="MUST",
    per_resource_type=True,
)
def then_delete_404(ctx, rt):
    """Deleting a resource that was already deleted answers 404 Not Found, not another 204."""
    created = _deleted(ctx, rt)
    _gone(ctx.http.delete(created.path), f"a second DELETE {rt.endpoint}/{created.id}")
    ctx.passed("404 after the delete")


@check(
    "delete.omitted-from-queries",
    "A deleted resource is no longer found by a query",
    requirements=["7644-3.6-02"],
    level="MUST",
    per_resource_type=True,
    needs=("filter",),
)
def omitted_from_queries(ctx, rt):
    """A filter on the naming attribute finds the new resource; after the DELETE the same query no
    longer returns it."""
    name = naming(ctx, rt)
    created = ctx.created_ok(rt)
    value = created.sent.get(name)
    if not isinstance(value, str):
        raise NotApplicable(f"the {rt.name} was created without a string {name}")
    params = {"filter": f"{name} eq {json.dumps(value)}"}
    asked = f"GET {rt.endpoint}?filter={params['filter']}"

    def ids(reply) -> list[str] | None:
        body = reply.maybe_json()
        if reply.status != 200 or not isinstance(body, dict):
            return None
        return [field(r, "id") for r in field(body, "Resources") or [] if isinstance(r, dict)]

    found = ids(ctx.http.get(rt.path, params=params))
    if found is None or created.id not in found:
        raise NotApplicable(f"precondition: {asked} does not find the resource before the delete")
    reply = ctx.http.delete(created.path)
    if not 200 <= reply.status < 300:
        raise NotApplicable(f"precondition: DELETE answered {reply.status}; see delete.status-204")
    after = ctx.http.get(rt.path, params=params)
    found = ids(after)
    if found is None:
        raise NotApplicable(f"{asked} answered {after.status} after the delete, not a ListResponse; "
                            "see the list checks")
    expect(created.id not in found, f"{asked} still returns the deleted resource {created.id}")
    ctx.passed(f"found before the delete, not after ({len(found)} results)")


@check(
    "delete.recreate-same-name",
    "After a DELETE, a new resource may take the deleted one's name",
    requirements=["7644-3.6-03", "7644-3.6-04"],
    level="SHOULD",
    per_resource_type=True,
)
def recreate_same_name(ctx, rt):
    """A deleted resource does not count in uniqueness checks: creating a resource with the same
    body (same userName, displayName...) right after the DELETE succeeds instead of a 409 Conflict."""
    created = _deleted(ctx, rt)
    again = ctx.create(rt, dict(created.sent))
    name = naming_or_none(ctx, rt)
    said = f" with {name} {show(created.sent.get(name))}" if name else ""
    if again.reply.status == 409:
        raise Violation(f"creating again{said} after the delete answered 409 Conflict; "
                        "a deleted resource should not count as a conflict")
    expect(200 <= again.reply.status < 300,
           f"creating again{said} after the delete answered {again.reply.status}; the first create succeeded")
    ctx.passed(f"created again{said}: {again.reply.status}")


def naming_or_none(ctx, rt) -> str | None:
    try:
        return naming(ctx, rt)
    except NotApplicable:
        return None
