"""Faults for the discovery checks (RFC 7644 §4, RFC 7643 §5-7)."""

from .faultkit import Forward, Request, Response, fault, on

SPC_DOC = "the same defect makes the ServiceProviderConfig break its JSON Schema"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


@fault("spc-wrong-schema-urn", proves=["discovery.spc.answers"],
       collateral={"discovery.spc.valid-document": SPC_DOC})
def spc_wrong_schema_urn(req: Request, forward: Forward) -> Response:
    """/ServiceProviderConfig names another schema."""
    resp = forward(req)
    if on(req, "GET", "ServiceProviderConfig") and resp.status == 200:
        resp.data = {**resp.data, "schemas": ["urn:example:wrong"]}
    return resp


@fault("schemas-not-a-list-response", proves=["discovery.schemas.list-response"])
def schemas_not_list(req: Request, forward: Forward) -> Response:
    """/Schemas answers a bare array instead of a ListResponse."""
    resp = forward(req)
    if on(req, "GET", "Schemas", item=False) and resp.status == 200:
        resp.data = {"schemas": ["urn:example:list"], "Resources": resp.data["Resources"]}
    return resp


@fault("resource-types-not-a-list-response", proves=["discovery.resource-types.list-response"])
def rts_not_list(req: Request, forward: Forward) -> Response:
    """/ResourceTypes answers with the wrong message URN."""
    resp = forward(req)
    if on(req, "GET", "ResourceTypes", item=False) and resp.status == 200:
        resp.data = {**resp.data, "schemas": ["urn:example:list"]}
    return resp


@fault("spc-applies-filter", proves=["discovery.filter-forbidden"])
def spc_applies_filter(req: Request, forward: Forward) -> Response:
    """A filter on /ServiceProviderConfig is silently ignored (200) instead of refused."""
    if on(req, "GET", "ServiceProviderConfig") and "filter" in req.query:
        req.query.pop("filter")
    return forward(req)


# -- ServiceProviderConfig (RFC 7643 §5) ----------------------------------------------------------------


def _spc(req: Request, forward: Forward, change) -> Response:
    """Forward; on a 200 GET /ServiceProviderConfig, let ``change`` edit the document in place."""
    resp = forward(req)
    if on(req, "GET", "ServiceProviderConfig") and resp.status == 200:
        data = resp.data
        change(data)
        resp.data = data
    return resp


@fault("disc-spc-patch-without-supported", proves=["discovery.spc.patch"],
       collateral={"discovery.spc.valid-document": SPC_DOC})
def disc_spc_patch_without_supported(req: Request, forward: Forward) -> Response:
    """patch is an empty object: the supported flag is left out."""
    return _spc(req, forward, lambda d: d.__setitem__("patch", {}))


@fault("disc-spc-bulk-max-operations-string", proves=["discovery.spc.bulk"],
       collateral={"discovery.spc.valid-document": SPC_DOC})
def disc_spc_bulk_max_operations_string(req: Request, forward: Forward) -> Response:
    """bulk.maxOperations is sent as the string "1000" instead of an integer."""
    return _spc(req, forward, lambda d: d["bulk"].__setitem__("maxOperations", str(d["bulk"]["maxOperations"])))


@fault("disc-spc-filter-without-max-results", proves=["discovery.spc.filter"],
       collateral={"discovery.spc.valid-document": SPC_DOC})
def disc_spc_filter_without_max_results(req: Request, forward: Forward) -> Response:
    """filter lacks maxResults."""
    return _spc(req, forward, lambda d: d["filter"].pop("maxResults"))


@fault("disc-spc-without-change-password", proves=["discovery.spc.change-password"],
       collateral={"discovery.spc.valid-document": SPC_DOC})
def disc_spc_without_change_password(req: Request, forward: Forward) -> Response:
    """The changePassword block is left out."""
    return _spc(req, forward, lambda d: d.pop("changePassword"))


@fault("disc-spc-sort-supported-string", proves=["discovery.spc.sort"],
       collateral={"discovery.spc.valid-document": SPC_DOC})
def disc_spc_sort_supported_string(req: Request, forward: Forward) -> Response:
    """sort.supported is the string "true" instead of a boolean."""
    return _spc(req, forward, lambda d: d["sort"].__setitem__("supported", "true"))


@fault("disc-spc-without-etag", proves=["discovery.spc.etag"],
       collateral={"discovery.spc.valid-document": SPC_DOC})
def disc_spc_without_etag(req: Request, forward: Forward) -> Response:
    """The etag block is left out."""
    return _spc(req, forward, lambda d: d.pop("etag"))


@fault("disc-spc-scheme-without-description", proves=["discovery.spc.authentication-schemes"],
       collateral={"discovery.spc.valid-document": SPC_DOC})
def disc_spc_scheme_without_description(req: Request, forward: Forward) -> Response:
    """The authentication scheme has no description."""
    return _spc(req, forward, lambda d: [s.pop("description", None) for s in d["authenticationSchemes"]])


@fault("disc-spc-needs-credentials", proves=["discovery.spc.authentication-schemes-public"])
def disc_spc_needs_credentials(req: Request, forward: Forward) -> Response:
    """/ServiceProviderConfig answers 401 to a request without credentials."""
    if on(req, "GET", "ServiceProviderConfig") and "authorization" not in req.headers:
        body = b'{"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "401"}'
        return Response(401, [("Content-Type", "application/scim+json"),
                              ("WWW-Authenticate", 'Bearer realm="scim"')], body)
    return forward(req)


@fault("disc-spc-duplicate-schema-urn", proves=["discovery.spc.valid-document"])
def disc_spc_duplicate_schema_urn(req: Request, forward: Forward) -> Response:
    """The ServiceProviderConfig lists its schema URN twice in schemas."""
    return _spc(req, forward, lambda d: d.__setitem__("schemas", d["schemas"] * 2))


# -- ResourceTypes (RFC 7643 §6) ----------------------------------------------------------------------------


def _resource_types(req: Request, forward: Forward, change, item: bool = False) -> Response:
    """Forward; on a 200 GET /ResourceTypes (or one of them, with ``item``), let ``change`` edit each
    resource type in place."""
    resp = forward(req)
    if on(req, "GET", "ResourceTypes", item=item) and resp.status == 200:
        data = resp.data
        for rt in (data.get("Resources", []) if not item else [data]):
            change(rt)
        resp.data = data
    return resp


@fault("disc-rt-without-name", proves=["discovery.resource-types.required-attributes"])
def disc_rt_without_name(req: Request, forward: Forward) -> Response:
    """The Group resource type in the /ResourceTypes list has no name."""
    return _resource_types(req, forward, lambda rt: rt.pop("name") if rt.get("schema") == GROUP else None)


@fault("disc-rt-schema-not-listed", proves=["discovery.resource-types.schema-known"])
def disc_rt_schema_not_listed(req: Request, forward: Forward) -> Response:
    """/Schemas leaves out the Group schema that the Group resource type names."""
    resp = forward(req)
    if on(req, "GET", "Schemas", item=False) and resp.status == 200:
        data = resp.data
        data["Resources"] = [s for s in data["Resources"] if s.get("id") != GROUP]
        data["totalResults"] = data["itemsPerPage"] = len(data["Resources"])
        resp.data = data
    return resp


@fault("disc-rt-extension-unknown", proves=["discovery.resource-types.extension-schema-known"])
def disc_rt_extension_unknown(req: Request, forward: Forward) -> Response:
    """The User resource type names an extension schema that /Schemas does not list."""

    def change(rt):
        for ext in rt.get("schemaExtensions") or []:
            ext["schema"] = "urn:example:scim:schemas:extension:unknown:2.0:User"

    return _resource_types(req, forward, change)


@fault("disc-rt-extension-without-required", proves=["discovery.resource-types.extension-required-flag"])
def disc_rt_extension_without_required(req: Request, forward: Forward) -> Response:
    """The schema extension of the User resource type has no required flag."""

    def change(rt):
        for ext in rt.get("schemaExtensions") or []:
            ext.pop("required", None)

    return _resource_types(req, forward, change)


@fault("disc-rt-single-as-list", proves=["discovery.resource-types.single"])
def disc_rt_single_as_list(req: Request, forward: Forward) -> Response:
    """GET /ResourceTypes/{id} answers a ListResponse holding the resource type."""
    resp = forward(req)
    if on(req, "GET", "ResourceTypes", item=True) and resp.status == 200:
        resp.data = {"schemas": [LIST], "totalResults": 1, "itemsPerPage": 1, "startIndex": 1,
                     "Resources": [resp.data]}
    return resp


@fault("disc-rt-unknown-plain-404", proves=["discovery.resource-types.unknown-id"])
def disc_rt_unknown_plain_404(req: Request, forward: Forward) -> Response:
    """An unknown resource type id is answered 404 with a plain-text body, not a SCIM Error."""
    resp = forward(req)
    if on(req, "GET", "ResourceTypes", item=True) and resp.status == 404:
        return Response(404, [("Content-Type", "text/plain")], b"Not Found")
    return resp


# -- Schemas (RFC 7643 §7, RFC 7644 §3.1) ---------------------------------------------------------------------


def _schemas(req: Request, forward: Forward, change) -> Response:
    """Forward; on a 200 GET /Schemas list, let ``change`` edit each schema in place."""
    resp = forward(req)
    if on(req, "GET", "Schemas", item=False) and resp.status == 200:
        data = resp.data
        for schema in data.get("Resources", []):
            change(schema)
        resp.data = data
    return resp


def _attribute(schema: dict, name: str) -> dict:
    return next((a for a in schema.get("attributes", []) if a.get("name") == name), {})


@fault("disc-schemas-without-id", proves=["discovery.schemas.id"],
       collateral={"discovery.resource-types.extension-schema-known":
                   "the enterprise extension no longer matches a listed schema id"})
def disc_schemas_without_id(req: Request, forward: Forward) -> Response:
    """The enterprise extension schema in the /Schemas list has no id."""
    return _schemas(req, forward, lambda s: s.pop("id") if s.get("id") == ENTERPRISE else None)


@fault("disc-schemas-attribute-without-mutability", proves=["discovery.schemas.attribute-characteristics"])
def disc_schemas_attribute_without_mutability(req: Request, forward: Forward) -> Response:
    """Group.displayName is defined without its mutability."""
    return _schemas(req, forward, lambda s: _attribute(s, "displayName").pop("mutability", None)
                    if s.get("id") == GROUP else None)


@fault("disc-schemas-complex-without-sub-attributes", proves=["discovery.schemas.complex-sub-attributes"])
def disc_schemas_complex_without_sub_attributes(req: Request, forward: Forward) -> Response:
    """User.x509Certificates is complex but lists no subAttributes."""
    return _schemas(req, forward, lambda s: _attribute(s, "x509Certificates").pop("subAttributes", None)
                    if s.get("id") == USER else None)


@fault("disc-schemas-without-descriptions", proves=["discovery.schemas.names-and-descriptions"])
def disc_schemas_without_descriptions(req: Request, forward: Forward) -> Response:
    """The Group schema has no name, and its displayName definition no description."""
    return _schemas(req, forward, lambda s: (s.pop("name", None), _attribute(s, "displayName").pop("description", None))
                    if s.get("id") == GROUP else None)


@fault("disc-schemas-lists-message-schema", proves=["discovery.schemas.no-message-schemas"])
def disc_schemas_lists_message_schema(req: Request, forward: Forward) -> Response:
    """/Schemas also lists the ListResponse message schema."""
    resp = forward(req)
    if on(req, "GET", "Schemas", item=False) and resp.status == 200:
        data = resp.data
        data["Resources"].append({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": LIST, "name": "ListResponse", "description": "List response",
            "attributes": [{"name": "totalResults", "type": "integer", "multiValued": False,
                            "description": "Number of results", "required": True, "caseExact": False,
                            "mutability": "readOnly", "returned": "always", "uniqueness": "none"}],
        })
        data["totalResults"] = data["itemsPerPage"] = len(data["Resources"])
        resp.data = data
    return resp


@fault("disc-schemas-single-as-list", proves=["discovery.schemas.single"])
def disc_schemas_single_as_list(req: Request, forward: Forward) -> Response:
    """GET /Schemas/{uri} answers a ListResponse holding the schema."""
    resp = forward(req)
    if on(req, "GET", "Schemas", item=True) and resp.status == 200:
        resp.data = {"schemas": [LIST], "totalResults": 1, "itemsPerPage": 1, "startIndex": 1,
                     "Resources": [resp.data]}
    return resp


@fault("disc-schemas-unknown-as-400", proves=["discovery.schemas.unknown-id"])
def disc_schemas_unknown_as_400(req: Request, forward: Forward) -> Response:
    """An unknown schema URI is answered 400 instead of 404."""
    resp = forward(req)
    if on(req, "GET", "Schemas", item=True) and resp.status == 404:
        resp.status = 400
        resp.data = {**resp.data, "status": "400", "scimType": "invalidValue"}
    return resp


# -- query parameters on discovery lists (RFC 7644 §4) ------------------------------------------------------------


@fault("disc-schemas-applies-filter", proves=["discovery.schemas.filter-forbidden"])
def disc_schemas_applies_filter(req: Request, forward: Forward) -> Response:
    """A filter on /Schemas is silently ignored (200) instead of refused."""
    if on(req, "GET", "Schemas") and "filter" in req.query:
        req.query.pop("filter")
    return forward(req)


@fault("disc-resource-types-applies-filter", proves=["discovery.resource-types.filter-forbidden"])
def disc_resource_types_applies_filter(req: Request, forward: Forward) -> Response:
    """A filter on /ResourceTypes is silently ignored (200) instead of refused."""
    if on(req, "GET", "ResourceTypes") and "filter" in req.query:
        req.query.pop("filter")
    return forward(req)


def _relisted(req: Request, forward: Forward, change) -> Response:
    """Forward; on a 200 GET of the /Schemas or /ResourceTypes list, let ``change`` return new Resources."""
    resp = forward(req)
    if req.method == "GET" and req.endpoint in ("Schemas", "ResourceTypes") and not req.is_item \
            and resp.status == 200:
        data = resp.data
        data["Resources"] = change(data.get("Resources", []))
        data["itemsPerPage"] = len(data["Resources"])
        resp.data = data
    return resp


@fault("disc-applies-pagination", proves=["discovery.ignores-pagination"])
def disc_applies_pagination(req: Request, forward: Forward) -> Response:
    """/Schemas and /ResourceTypes honour count and startIndex."""
    start = int(req.query.get("startIndex") or 1)
    count = int(req.query["count"]) if "count" in req.query else None
    return _relisted(req, forward, lambda r: r[start - 1:][:count] if count is not None else r[start - 1:])


@fault("disc-applies-sort", proves=["discovery.ignores-sort"])
def disc_applies_sort(req: Request, forward: Forward) -> Response:
    """/Schemas and /ResourceTypes honour sortBy=name."""
    if req.query.get("sortBy") != "name":
        return forward(req)
    descending = req.query.get("sortOrder") == "descending"
    return _relisted(req, forward, lambda r: sorted(r, key=lambda e: str(e.get("name", "")).lower(),
                                                    reverse=descending))


@fault("disc-spc-patch-unsupported", proves=["patch.advertised"])
def spc_patch_unsupported(req: Request, forward: Forward) -> Response:
    """/ServiceProviderConfig says PATCH is not supported (the PATCH checks then skip)."""
    resp = forward(req)
    if on(req, "GET", "ServiceProviderConfig") and resp.status == 200:
        resp.data = {**resp.data, "patch": {"supported": False}}
    return resp
