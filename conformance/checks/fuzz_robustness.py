"""Robustness under generated input (RFC 7644 §3.12, RFC 7643 §2, RFC 7644 §1.2): schemathesis fuzzing from
the target's own /ResourceTypes and /Schemas. Off by default: ``scim-conformance run --fuzz`` or
``scim-conformance fuzz``. The campaign and its false-positive rules are in conformance/fuzz.py.
"""

from __future__ import annotations

from ..fuzz import Campaign, campaign
from ..registry import check
from ..verdicts import NotApplicable, Violation

ATTACHED = 5  # exchanges shown per check; the message counts them all


def _campaign(ctx, rt) -> Campaign:
    try:
        import schemathesis  # noqa: F401
    except ImportError:  # pragma: no cover - a dependency
        raise NotApplicable("schemathesis is not installed") from None
    camp = campaign(ctx.run, rt)
    if not sum(camp.sent.values()):
        raise NotApplicable("no request could be generated: " + "; ".join(camp.problems[:3]))
    return camp


def _grade(ctx, camp: Campaign, kind: str, what: str) -> None:
    found = [f for f in camp.findings if f.kind == kind]
    for f in found[:ATTACHED]:
        ctx.attach(f.exchange)
    if found:
        first = found[0]
        ops = sorted({f.operation for f in found})
        raise Violation(
            f"{len(found)} of {sum(camp.sent.values())} requests {what} (on {', '.join(ops)}); first: "
            f"{first.message}; reproduce: {first.curl}"
        )
    ctx.passed(camp.summary() + f"; none {what}")


@check(
    "fuzz.no-server-error",
    "Generated requests, valid or not, never get a 5xx",
    requirements=["7644-3.12-05"],
    level="SHOULD",
    per_resource_type=True,
    tags=("fuzz",),
)
def no_server_error(ctx, rt):
    """Requests schemathesis generates from the target's /Schemas (valid bodies, and invalid ones: wrong
    types, missing members, unexpected values) are answered with a success or a 4xx; a 5xx says the server
    failed on input it should have refused with 400 (RFC 7644 §3.12 Table 8). 501 and 503 are allowed."""
    _grade(ctx, _campaign(ctx, rt), "server-error", "got a 5xx")


@check(
    "fuzz.response-schema",
    "Answers to generated requests match the schemas the target declares",
    requirements=["7643-2.1-01", "7644-3.12-01", "7644-3.12-02"],
    level="MUST",
    per_resource_type=True,
    tags=("fuzz",),
)
def response_schema(ctx, rt):
    """Every answer with a declared body is validated against the OpenAPI document derived from /Schemas:
    a resource is an object with schemas and id whose declared attributes have their declared JSON types, a
    list is a ListResponse, an error a SCIM Error body with a string status. Null and unknown attributes
    are allowed (RFC 7643 §2.5)."""
    _grade(ctx, _campaign(ctx, rt), "schema", "got an answer that breaks the declared schema")


@check(
    "fuzz.header-injection",
    "CR/LF in a request never becomes a response header",
    requirements=["7644-1.2-01"],
    level="MUST",
    per_resource_type=True,
    tags=("fuzz",),
)
def header_injection(ctx, rt):
    """Probes with an encoded CR/LF and a header line in the id of a resource that does not exist (and the
    generated strings of the campaign): a server that echoes the decoded request into Location or
    Content-Location sends the injected line as a header of its own; URLs it builds must stay
    percent-encoded (RFC 7644 §1.2)."""
    _grade(ctx, _campaign(ctx, rt), "header-injection", "had a header injected")
