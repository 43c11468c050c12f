"""RFC 7644 §3.4.1 — retrieving a known resource: GET /{endpoint}/{id} on the run's shared sample.

The statements graded are those of RFC 7643 §3.1 that a read exercises (a stable id, meta.location
matching Content-Location). A GET of an id that does not exist is graded by errors.status-line.
"""

from __future__ import annotations

from ..registry import check
from ..support import field, resolve, show
from ..verdicts import expect


@check(
    "retrieve.same-id",
    "GET on a created resource returns it with the same id",
    requirements=["7643-3.1-07"],
    level="MUST",
    per_resource_type=True,
)
def same_id(ctx, rt):
    """A GET of /{endpoint}/{id} right after the create answers 200 with the resource, and its id is
    the one the create issued: ids are stable from one response to the next."""
    created = ctx.sample(rt)
    reply = ctx.http.get(created.path)
    expect(reply.status == 200,
           f"GET {rt.endpoint}/{created.id} answered {reply.status} right after the create; expected 200")
    body = reply.json_object()
    rid = field(body, "id")
    expect(rid == created.id, f"GET {rt.endpoint}/{created.id} returned id {show(rid)}; the create issued "
                              f"{show(created.id)}")
    ctx.passed(f"200 with id {created.id}")


@check(
    "retrieve.content-location",
    "meta.location equals the Content-Location header",
    requirements=["7643-3.1-17"],
    level="MUST",
    per_resource_type=True,
)
def content_location(ctx, rt):
    """When a response carrying the resource has a Content-Location header, the body's meta.location
    is that same URI (the create answer and a GET are both graded; no header: nothing to compare)."""
    created = ctx.sample(rt)
    reply = ctx.http.get(created.path)
    graded = []
    for label, answer, body in (
        (f"the POST {rt.endpoint} answer", created.reply, created.body),
        (f"GET {rt.endpoint}/{created.id}", reply, reply.maybe_json() if reply.status == 200 else None),
    ):
        header = answer.headers.get("content-location")
        if not header or not isinstance(body, dict):
            continue
        location = field(field(body, "meta"), "location")
        expect(isinstance(location, str) and location,
               f"{label} has Content-Location {header} but no meta.location")
        expect(resolve(answer, header) == resolve(answer, location),
               f"{label}: Content-Location is {header} but meta.location is {location}")
        graded.append(label)
    if not graded:
        ctx.passed("no Content-Location header was sent, so there is nothing to compare meta.location with")
        return
    ctx.passed(f"meta.location equals Content-Location in {' and '.join(graded)}")
