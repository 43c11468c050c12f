"""RFC 7644 §3.8 and §8.1 — data formats: application/scim+json responses, application/json accepted
both ways, and UTF-8 text that survives a round trip.

The checks that only read use the run's shared sample; those that create send a run-tagged payload
and delete what they made.
"""

from __future__ import annotations

import json
from typing import Any

from ..discovery import ResourceType
from ..engine import Created
from ..http import SCIM_JSON, Reply
from ..registry import check
from ..support import field, is_error, show
from ..verdicts import NotApplicable, expect
from .rfc7644_s3_3_create import plain_string_attribute, same_value

UNICODE_TEXT = " Zoë Ångström Ωμέγα 日本語"  # 2- and 3-byte UTF-8 sequences


def _charset(reply: Reply) -> str | None:
    for part in reply.headers.get("content-type", "").split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return None


@check(
    "media.response-content-type",
    "Responses are labelled application/scim+json",
    requirements=["7644-8.1-01"],
    level="SHOULD",
    per_resource_type=True,
)
def response_content_type(ctx, rt):
    """The create answer and a GET of the resource carry Content-Type application/scim+json, the
    media type registered for SCIM."""
    created = ctx.sample(rt)
    reply = ctx.http.get(created.path)
    for label, answer in ((f"POST {rt.endpoint}", created.reply), (f"GET {rt.endpoint}/{created.id}", reply)):
        expect(answer.content_type == SCIM_JSON,
               f"{label} answered {answer.status} with Content-Type "
               f"{answer.headers.get('content-type') or '(none)'}; {SCIM_JSON} is recommended")
    ctx.passed(f"{SCIM_JSON} on the create and the GET")


@check(
    "media.accept-json",
    "A GET with Accept: application/json is served as JSON",
    requirements=["7644-3.8-05", "7644-8.1-01"],
    level="SHOULD",
    per_resource_type=True,
)
def accept_json(ctx, rt):
    """Besides application/scim+json, a service provider should honour Accept: application/json
    (the plain JSON type older SCIM clients send): the resource comes back as JSON, not 406."""
    created = ctx.sample(rt)
    reply = ctx.http.get(created.path, headers={"Accept": "application/json"})
    expect(reply.status == 200,
           f"GET {rt.endpoint}/{created.id} with Accept: application/json answered {reply.status}; expected 200")
    body = reply.maybe_json()
    expect(isinstance(body, dict) and not is_error(body) and field(body, "id"),
           f"with Accept: application/json the answer is not the resource as JSON "
           f"({reply.content_type or 'no Content-Type'}: {show(reply.text[:60])})")
    ctx.passed(f"200, JSON ({reply.content_type or 'no Content-Type'})")


@check(
    "media.json-request-accepted",
    "A create sent as Content-Type: application/json is accepted",
    requirements=["7644-3.8-01", "7644-8.1-01"],
    level="SHOULD",
    per_resource_type=True,
)
def json_request_accepted(ctx, rt):
    """A JSON request body labelled application/json rather than application/scim+json (clients
    are only asked, not obliged, to use the SCIM type) is processed like any other: the create succeeds."""
    ctx.sample(rt)  # precondition: the same kind of payload is accepted as application/scim+json
    created = ctx.create(rt, ctx.payload(rt), content_type="application/json")
    status = created.reply.status
    expect(200 <= status < 300,
           f"POST {rt.endpoint} with Content-Type: application/json answered {status}; the same payload as "
           f"{SCIM_JSON} is accepted")
    ctx.passed(f"{status} for an application/json request")


def _post_utf8(ctx, rt: ResourceType, body: dict[str, Any]) -> Created:
    """POST ``body`` as raw UTF-8 bytes (non-ASCII characters not escaped as \\uXXXX)."""
    raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
    reply = ctx.http.request("POST", rt.path, content=raw, content_type=f"{SCIM_JSON}; charset=utf-8")
    parsed = reply.maybe_json() if 200 <= reply.status < 300 else None
    rid = field(parsed, "id") if isinstance(parsed, dict) else None
    location = reply.headers.get("location")
    if not rid and 200 <= reply.status < 300 and location:
        rid = location.rstrip("/").rsplit("/", 1)[-1]
    return Created(rt=rt, sent=body, reply=reply, body=parsed if isinstance(parsed, dict) else None,
                   id=rid if isinstance(rid, str) and rid else None, location=location)


@check(
    "media.utf8-round-trip",
    "UTF-8 text in a request is accepted and comes back unchanged",
    requirements=["7644-3.8-01", "7644-3.8-02"],
    level="MUST",
    per_resource_type=True,
)
def utf8_round_trip(ctx, rt):
    """A create whose body is UTF-8 with non-ASCII characters (Zoë, Ångström, Ωμέγα, 日本語) is
    accepted; the create answer and a GET return the text unchanged, in UTF-8."""
    ctx.sample(rt)  # precondition: the payload without the non-ASCII text is accepted
    body = ctx.payload(rt)
    key = plain_string_attribute(ctx, rt, body)
    body[key] = f"{body.get(key, ctx.tag())}{UNICODE_TEXT}"
    created = _post_utf8(ctx, rt, body)
    try:
        status = created.reply.status
        expect(200 <= status < 300,
               f"POST {rt.endpoint} with non-ASCII UTF-8 text in {key} answered {status}; "
               "the same payload in plain ASCII is accepted")
        if not created.id:
            raise NotApplicable("the create answered no id; see common.id-assigned")
        attr = ctx.discovery.attribute(rt, key)
        reply = ctx.http.get(created.path)
        graded = 0
        for label, answer, returned in (
            (f"the POST {rt.endpoint} answer", created.reply, created.body),
            (f"GET {rt.endpoint}/{created.id}", reply, reply.maybe_json() if reply.status == 200 else None),
        ):
            charset = _charset(answer)
            expect(charset in (None, "utf-8", "utf8"), f"{label} is labelled charset={charset}, not UTF-8")
            if not isinstance(returned, dict) or is_error(returned):
                continue
            got = field(returned, key)
            expect(same_value(attr, key, body[key], got),
                   f"{label}: {key} is {show(got)}; {show(body[key])} was sent (UTF-8)")
            graded += 1
        if not graded:
            raise NotApplicable(f"neither the create nor GET (answered {reply.status}) returned the resource")
        ctx.passed(f"{key} {body[key]!r} round-trips")
    finally:
        ctx.run.delete_quietly(created)
