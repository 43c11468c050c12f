"""``scim-conformance explain ID``: what a check (or requirement) is about and how servers usually fix it.

For a check id (or a result id such as ``create.status-201[User]``): its title and description (the
check's docstring), level, RFC section with a link, the requirements it cites, and a fix hint: the check's
own ``fix`` when it has one, else a general hint for its RFC section (where in a server the behaviour
usually lives). For a requirement id: its summary, level and link, and the checks that cite it.
"""

from __future__ import annotations

import difflib
import textwrap

from . import ReportError, section_url

# General hints per RFC section (longest prefix wins): where a server usually implements the behaviour.
# They point at the place to look; the requirement summary and the check's message say what to change.
SECTION_HINTS = {
    "7643-2": "Check how the server serialises attribute values: JSON types per the schema's attribute type "
    "(string, boolean, integer, dateTime, reference, complex), case handling per caseExact, and "
    "that multi-valued attributes are arrays.",
    "7643-3": "Check the resource serialiser: every resource carries 'schemas', 'id' and 'meta' "
    "(resourceType, created, lastModified, location, version), and extension data sits under its "
    "schema URN.",
    "7643-4": "Check the User/Group mapping against the core schema: attribute names, sub-attributes and "
    "multi-valued 'type'/'primary' handling.",
    "7643-5": "Check the /ServiceProviderConfig document: it should describe what the server really supports "
    "(patch, bulk, filter, changePassword, sort, etag, authenticationSchemes).",
    "7643-6": "Check the /ResourceTypes document: each type's id, name, endpoint, schema and "
    "schemaExtensions must match the endpoints the server serves.",
    "7643-7": "Check the /Schemas document against the attributes the server really returns and accepts "
    "(type, multiValued, required, mutability, returned, uniqueness, caseExact).",
    "7644-3.1": "Check the response framing: status codes, the SCIM media type and the Location header.",
    "7644-3.3": "Check the POST handler of the resource endpoint: status 201, the created resource in the body, "
    "a Location header, server-assigned id/meta, and 409 with scimType uniqueness for duplicates.",
    "7644-3.4.1": "Check the GET-by-id handler: 200 with the resource, 404 with a SCIM error for unknown ids.",
    "7644-3.4.2": "Check the list/query handler: the ListResponse envelope (totalResults, Resources, "
    "startIndex, itemsPerPage), filter parsing and evaluation, sorting and paging.",
    "7644-3.4.3": "Check the POST /.search handler: it should accept the SearchRequest body and answer like a "
    "GET query.",
    "7644-3.5.1": "Check the PUT handler: it replaces the resource, keeps id and readOnly attributes, and "
    "answers 200 with the new representation.",
    "7644-3.5.2": "Check the PATCH handler: PatchOp schema, add/replace/remove semantics per path (including "
    "value filters and multi-valued attributes), atomicity, and the error scimTypes "
    "(invalidPath, noTarget, mutability).",
    "7644-3.6": "Check the DELETE handler: 204 on success, and 404 for the resource afterwards.",
    "7644-3.7": "Check the /Bulk handler: bulkId resolution, failOnErrors, per-operation status and the "
    "limits advertised in /ServiceProviderConfig.",
    "7644-3.8": "Check content negotiation: accept and answer application/scim+json.",
    "7644-3.9": "Check the handling of the attributes/excludedAttributes query parameters.",
    "7644-3.10": "Check attribute-path parsing: schema-URN-qualified names and sub-attribute notation.",
    "7644-3.11": "Check the /Me alias: it maps to the authenticated subject's resource, or answers 501.",
    "7644-3.12": "Check the error responses: a SCIM Error body (schemas, status as a string, scimType, detail) "
    "with the matching HTTP status.",
    "7644-3.13": "Check how the router handles a version segment in the path (e.g. /v2/Users) and requests "
    "without one.",
    "7644-3.14": "Check ETag support: meta.version equals the ETag header, and If-Match/If-None-Match are "
    "honoured (412 on a mismatch, 304 when unchanged).",
    "7644-4": "Check the discovery endpoints (/ServiceProviderConfig, /ResourceTypes, /Schemas): their "
    "envelopes, and how they treat query parameters such as filter.",
}


# Fixes for single checks whose remedy is plain from the requirement (a check's own ``fix=`` wins over these).
CHECK_FIXES = {
    "create.status-201": "Answer a successful POST with 201 Created; 200 is not the status RFC 7644 §3.3 names.",
    "create.location-header": "Set the Location header of the 201 answer to the new resource's URI, the same "
    "value as meta.location.",
    "create.returns-resource": "Put the created resource, as the server now stores it, in the body of the 201 answer.",
    "create.client-id-ignored": "Ignore an 'id' the client sends on create and assign the server's own.",
    "delete.status-204": "Answer a successful DELETE with 204 No Content and an empty body.",
    "delete.then-get-404": "After a DELETE, answer GET on the resource's URI with 404 and a SCIM Error body.",
    "delete.then-put-404": "After a DELETE, answer PUT on the resource's URI with 404 instead of recreating it.",
    "delete.then-patch-404": "After a DELETE, answer PATCH on the resource's URI with 404.",
    "delete.then-delete-404": "Answer a second DELETE of the same resource with 404.",
    "delete.omitted-from-queries": "Drop deleted resources from query results (GET with filter, POST .search).",
}


def _hint(requirement_id: str) -> str:
    rfc, section, _ = (requirement_id.split("-") + ["", ""])[:3]
    parts = section.split(".")
    for n in range(len(parts), 0, -1):
        hint = SECTION_HINTS.get(f"{rfc}-{'.'.join(parts[:n])}")
        if hint:
            return hint
    return ""


def fix_hint(check_id: str, requirement_ids: list[str]) -> str:
    """The check's own ``fix``, else the general hint for the section of its first requirement."""
    from ..registry import REGISTRY, all_checks

    if not REGISTRY:
        all_checks()
    chk = REGISTRY.get(check_id)
    if chk is not None and chk.fix:
        return chk.fix
    if check_id in CHECK_FIXES:
        return CHECK_FIXES[check_id]
    return _hint(requirement_ids[0]) if requirement_ids else ""


def _wrap(text: str, indent: str = "  ") -> str:
    return textwrap.fill(text, width=100, initial_indent=indent, subsequent_indent=indent)


def explain(ident: str) -> str:
    from ..catalog import requirements
    from ..registry import all_checks

    checks = {c.id: c for c in all_checks()}
    reqs = requirements()
    key = ident.strip().split("[", 1)[0]
    if key in checks:
        c = checks[key]
        lines = [f"{c.id} — {c.title}", "", f"level: {c.level}   section: {c.section}   {section_url(c.section) or ''}"]
        scope = "per resource type" if c.per_resource_type else "once per target"
        if c.resource_types:
            scope += " (" + ", ".join(s.rsplit(":", 1)[-1] for s in c.resource_types) + ")"
        lines.append(
            f"runs: {scope}"
            + (f"; only when /ServiceProviderConfig advertises {', '.join(c.needs)}" if c.needs else "")
        )
        lines += ["", "What it checks:", _wrap(c.description or c.title), "", "Requirements:"]
        for rid in c.requirements:
            req = reqs.get(rid)
            lines.append(f"  {rid} ({req.level if req else '?'}): {req.summary if req else '(not in the catalogue)'}")
            if req:
                lines.append(f"    {req.url}")
        fix = fix_hint(c.id, list(c.requirements))
        if fix:
            source = "" if (c.fix or c.id in CHECK_FIXES) else " (general hint for the section)"
            lines += ["", f"How servers usually fix a failure{source}:", _wrap(fix)]
        return "\n".join(lines) + "\n"
    if key in reqs:
        req = reqs[key]
        citing = [c for c in checks.values() if key in c.requirements]
        lines = [
            f"{req.id} — RFC {req.rfc} §{req.section}, {req.level} ({req.keyword})",
            f"  {req.url}",
            "",
            "What it requires (our summary):",
            _wrap(req.summary),
        ]
        if req.untestable_reason:
            lines += ["", "Not testable from outside:", _wrap(req.untestable_reason)]
        lines += ["", "Checks citing it:" if citing else "No check cites it yet."]
        lines += [f"  {c.id} ({c.level}): {c.title}" for c in citing]
        # one citing check: its fix fits the requirement; several: each fix is about its own check
        own = fix_hint(citing[0].id, []) if len(citing) == 1 else ""
        hint = own or _hint(req.id)
        if hint:
            source = "" if own else " (general hint for the section)"
            lines += ["", f"How servers usually fix a failure{source}:", _wrap(hint)]
        return "\n".join(lines) + "\n"
    close = difflib.get_close_matches(key, [*checks, *reqs], n=3, cutoff=0.6)
    suggestion = f"; did you mean {', '.join(close)}?" if close else " (see `scim-conformance checks`)"
    raise ReportError(f"no check or requirement has the id {ident!r}{suggestion}")
