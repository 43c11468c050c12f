"""Fuzzing from discovery: schemathesis generates requests from the OpenAPI document the target's own
/ResourceTypes and /Schemas describe (conformance/openapi.py), and the suite sends and grades them.

One *campaign* runs per resource type and run, the first time a fuzz check asks for it; the three fuzz
checks (conformance/checks/fuzz_robustness.py) each grade one kind of finding:

- ``server-error``: a 5xx answer (501 Not Implemented and 503 Service Unavailable are allowed by RFC 7644
  §3.12 Table 8 and are not findings);
- ``schema``: an answer that breaks the derived response schema (a resource whose declared attributes have
  another JSON type, a ListResponse or SCIM Error body without its required members, a body that is not
  JSON where the status declares one);
- ``header-injection``: a CR/LF the request carried came back as a response header of its own.

**Safety on live tenants.** Item endpoints (``/{id}``) only ever get ids of resources the campaign created
itself (tagged with the run id, via :func:`payloads.build`); a generated create or replace body gets the
run-id tag as a prefix of its naming attribute (userName, displayName, ...); list and ``/.search`` requests
carry a filter bounded to the run's own data (``userName sw "<run id>"``), whatever filter was generated;
every resource a 2xx create answered is deleted when the campaign ends.

**False positives.** A finding the RFC allows is not a failure: 4xx answers are never findings (400 to
negative data is right, and 404, 409, 412 or 413 to generated positive data are allowed answers too: a
uniqueness clash, a resource a generated DELETE removed, a size limit); statuses the document does not
declare are counted, not graded; response bodies are validated leniently (null and unknown attributes
allowed, RFC 7643 §2.5) and only on the statuses the document declares a body for.

Budget: ``examples`` generated requests per operation and mode (positive, negative) and ``seconds`` per
resource type; ``seed`` makes another stream (default: derandomized, the same requests every run).
"""

from __future__ import annotations

import json
import shlex
import threading
import time
import weakref
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import openapi, payloads
from .http import REDACTED
from .model import Exchange
from .verdicts import ExchangeError

if TYPE_CHECKING:
    from .discovery import ResourceType
    from .engine import Run

DEFAULT_EXAMPLES = 10
DEFAULT_SECONDS = 60.0
INJECTED_HEADER = "x-sct-injected"
# Generated headers the suite never sends as generated: it sets them itself.
OWN_HEADERS = frozenset(
    {
        "authorization",
        "content-type",
        "content-length",
        "host",
        "accept",
        "transfer-encoding",
        "connection",
        "cookie",
        "expect",
        "te",
        "upgrade",
    }
)
ALLOWED_5XX = (501, 503)
METHOD_ORDER = {"get": 0, "post": 1, "put": 3, "patch": 4, "delete": 5}


@dataclass
class Finding:
    kind: str  # server-error | schema | header-injection
    operation: str  # e.g. "POST /Users"
    mode: str  # positive | negative | probe
    message: str
    exchange: Exchange

    @property
    def curl(self) -> str:
        return curl_for(self.exchange)


@dataclass
class Campaign:
    """The fuzzing of one resource type in one run."""

    run: Run
    rt: ResourceType
    examples: int = DEFAULT_EXAMPLES
    seconds: float = DEFAULT_SECONDS
    seed: int | None = None
    findings: list[Finding] = field(default_factory=list)
    sent: Counter = field(default_factory=Counter)  # mode -> requests
    statuses: Counter = field(default_factory=Counter)
    undeclared: Counter = field(default_factory=Counter)  # "METHOD path status" not in the document
    skipped_cases: int = 0
    problems: list[str] = field(default_factory=list)
    done: bool = False
    _created: list[str] = field(default_factory=list)  # ids of every resource made, deleted at the end
    _live: list[str] = field(default_factory=list)  # ids of the campaign's own resources still there

    # -- running -----------------------------------------------------------------------------------
    def execute(self) -> None:
        http = self.run.http
        sink = http.sink
        http.sink = None  # ~100 exchanges per campaign: only the findings are attached to the checks
        try:
            self._execute()
        finally:
            try:
                self._cleanup()
            finally:
                http.sink = sink
                self.done = True

    def _execute(self) -> None:
        from hypothesis import HealthCheck, Phase, given, settings
        from hypothesis import seed as hypothesis_seed
        from schemathesis import GenerationMode

        schema, doc = loaded_schema(self.run)
        self.validator = ResponseValidator(doc)
        self.deadline = time.perf_counter() + self.seconds
        self.filter = bounded_filter(self.run, self.rt)
        self._probe_header_injection()
        base = "/" + self.rt.path
        ops = [r.ok() for r in schema.get_all_operations()]
        ops = [op for op in ops if op.path == base or op.path.startswith(base + "/")]
        ops.sort(key=lambda op: (METHOD_ORDER.get(op.method, 9), op.path))
        for op in ops:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                if time.perf_counter() > self.deadline:
                    self.problems.append("the time budget ran out before every operation was fuzzed")
                    return
                fixed = {"id": "placeholder"} if "{id}" in op.path else None
                try:
                    strategy = op.as_strategy(generation_mode=mode, path_parameters=fixed)
                except Exception as exc:  # an operation schemathesis cannot generate for in this mode
                    self.problems.append(f"{op.method.upper()} {op.path} ({mode.value}): {type(exc).__name__}")
                    continue
                label = f"{op.method.upper()} {op.path}"
                one = given(strategy)(self._runner(label, mode.value))
                one = settings(
                    max_examples=self.examples,
                    deadline=None,
                    database=None,
                    phases=[Phase.generate],
                    derandomize=self.seed is None,
                    suppress_health_check=list(HealthCheck),
                    report_multiple_bugs=False,
                )(one)
                if self.seed is not None:
                    one = hypothesis_seed(self.seed)(one)
                try:
                    one()
                except ExchangeError as exc:
                    self.problems.append(f"{label}: {exc.message}")
                except Exception as exc:  # generation trouble in schemathesis/hypothesis, not the target's
                    self.problems.append(f"{label} ({mode.value}): {type(exc).__name__}: {exc}"[:200])

    def _runner(self, label: str, mode: str) -> Any:
        def one(case: Any) -> None:
            if time.perf_counter() <= self.deadline:
                self._one(case, label, mode)

        return one

    def _one(self, case: Any, label: str, mode: str) -> None:
        from schemathesis.core import NotSet

        method = case.method.upper()
        path = case.formatted_path
        query = {k: _text(v) for k, v in (case.query or {}).items()}
        headers = {
            str(k): str(v)
            for k, v in (case.headers or {}).items()
            if str(k).lower() not in OWN_HEADERS and _latin1(str(k)) and _latin1(str(v)) and str(k).strip()
        }
        body = None if isinstance(case.body, NotSet) else case.body
        item = "{id}" in case.path
        search = case.path.endswith("/.search")
        if item:
            rid = self._item_id()
            if rid is None:
                self.skipped_cases += 1
                return
            path = case.path.replace("{id}", rid)
        if search:
            if not isinstance(body, dict):  # never send a search the server might read as unbounded
                self.skipped_cases += 1
                return
            body = {**body, "filter": self.filter}
        elif method == "GET" and not item:
            query["filter"] = self.filter
        if method in ("POST", "PUT") and not search and isinstance(body, dict):
            body = self._tagged(body)
        self._send(
            method,
            path,
            label,
            mode,
            query=query,
            headers=headers,
            body=body,
            has_body=not isinstance(case.body, NotSet),
            media_type=case.media_type,
        )

    def _send(
        self,
        method: str,
        path: str,
        label: str,
        mode: str,
        *,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        body: Any = None,
        has_body: bool = False,
        media_type: str | None = None,
    ) -> None:
        http = self.run.http
        content = None
        if has_body:
            try:
                content = json.dumps(body, allow_nan=False).encode()
            except (TypeError, ValueError):
                self.skipped_cases += 1
                return
        self.sent[mode] += 1
        try:
            reply = http.request(
                method,
                path,
                content=content,
                params=query or None,
                headers=headers or None,
                content_type=media_type or openapi.SCIM_JSON,
            )
        except ExchangeError as exc:
            # A broken exchange on input with CR/LF may be a header the server could not even send whole.
            self.problems.append(f"{label} ({mode}): {exc.message}")
            return
        status = reply.status
        self.statuses[status] += 1
        self._track(method, path, reply)
        if status >= 500 and status not in ALLOWED_5XX:
            self._found("server-error", label, mode, f"{label} answered {status} to generated {mode} data", reply)
        injected = [
            (k, v) for k, v in reply.headers.multi_items() if k.lower() == INJECTED_HEADER or "\r" in v or "\n" in v
        ]
        if injected:
            name, value = injected[0]
            self._found(
                "header-injection",
                label,
                mode,
                f"{label} answered with a header made from the request's CR/LF: {name}: {value!r}",
                reply,
            )
        template = _template(path, self.rt)
        problem = self.validator.check(template, method, status, reply)
        if problem == "undeclared":
            self.undeclared[f"{method} {template} {status}"] += 1
        elif problem:
            self._found(
                "schema",
                label,
                mode,
                f"{label} answered {status} with a body that breaks the schema "
                f"the target's /Schemas declare: {problem}",
                reply,
            )

    def _found(self, kind: str, label: str, mode: str, message: str, reply: Any) -> None:
        self.findings.append(Finding(kind, label, mode, message, reply.exchange))

    # -- the campaign's own resources -----------------------------------------------------------------
    def _tagged(self, body: dict[str, Any]) -> dict[str, Any]:
        """The naming attribute carries the run-id tag, so the resource is recognisably the suite's."""
        naming = payloads.naming_attribute(self.run.discovery, self.rt)
        if not naming:
            return body
        tag = self.run.next_tag("fuzz")
        key = next((k for k in body if k.lower() == naming.lower()), naming)
        value = body.get(key)
        if isinstance(value, str):
            return {**body, key: f"{tag}-{value}"}
        if value is None:
            return {**body, key: tag}
        return body  # negative data of another type: the server should refuse it; if not, it is deleted

    def _item_id(self) -> str | None:
        if not self._live:
            body = payloads.build(self.run.discovery, self.rt, self.run.next_tag("fuzz"))
            try:
                created = self.run.post_resource(self.rt, body)
            except ExchangeError as exc:
                self.problems.append(f"creating a {self.rt.name} to fuzz: {exc.message}")
                return None
            if not created.id:
                self.problems.append(f"creating a {self.rt.name} to fuzz answered {created.reply.status}")
                return None
            self._created.append(created.id)
            self._live.append(created.id)
        return self._live[-1]

    def _track(self, method: str, path: str, reply: Any) -> None:
        segments = path.strip("/").split("/")
        if method == "POST" and len(segments) == 1 and reply.status in (200, 201):
            body = reply.maybe_json()
            rid = body.get("id") if isinstance(body, dict) else None
            if not isinstance(rid, str) or not rid:
                location = reply.headers.get("location") or ""
                rid = location.rstrip("/").rsplit("/", 1)[-1] or None
            if rid:
                self._created.append(rid)
        if method == "DELETE" and len(segments) == 2 and 200 <= reply.status < 300 and segments[1] in self._live:
            self._live.remove(segments[1])

    def _probe_header_injection(self) -> None:
        """Ids that no resource has, with an encoded CR/LF and a header line after it: a server that echoes
        the decoded path into a header (Location, Content-Location) sends that header line."""
        tag = self.run.next_tag("inject")
        rid = f"{tag}%0D%0A{INJECTED_HEADER}:%20{tag}"
        for method in ("GET", "PUT", "PATCH", "DELETE"):
            body = None
            if method == "PUT":
                body = payloads.build(self.run.discovery, self.rt, tag)
            elif method == "PATCH":
                body = {
                    "schemas": [openapi.PATCH_URN],
                    "Operations": [{"op": "replace", "path": "externalId", "value": tag}],
                }
            self._send(
                method,
                f"{self.rt.path}/{rid}",
                f"{method} /{self.rt.path}/{{id}}",
                "probe",
                body=body,
                has_body=body is not None,
            )

    def _cleanup(self) -> None:
        from .engine import Created

        for rid in self._created:
            self.run.delete_quietly(
                Created(
                    rt=self.rt,
                    sent={},
                    reply=None,
                    body=None,
                    id=rid,  # type: ignore[arg-type]
                    location=None,
                )
            )
        self._created.clear()
        self._live.clear()

    def summary(self) -> str:
        total = sum(self.sent.values())
        codes = ", ".join(f"{n}×{s}" for s, n in sorted(self.statuses.items()))
        return (
            f"{total} generated requests on /{self.rt.path} ({self.sent['positive']} positive, "
            f"{self.sent['negative']} negative, {self.sent['probe']} probes); answers: {codes or 'none'}"
        )


# -- the derived document, loaded once per run ---------------------------------------------------------


_LOCK = threading.Lock()
_STATE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _state(run: Run) -> dict[str, Any]:
    with _LOCK:
        return _STATE.setdefault(run, {"lock": threading.Lock(), "campaigns": {}})


def loaded_schema(run: Run) -> tuple[Any, dict[str, Any]]:
    state = _state(run)
    with state["lock"]:
        if "schema" not in state:
            import schemathesis

            doc = openapi.derive(run.discovery, run.settings.url)
            state["doc"] = doc
            state["schema"] = schemathesis.openapi.from_dict(doc)
        return state["schema"], state["doc"]


def campaign(run: Run, rt: ResourceType) -> Campaign:
    """The campaign of ``rt`` in ``run``, run on first use (the fuzz checks share it)."""
    state = _state(run)
    with state["lock"]:
        entry = state["campaigns"].get(rt.name)
        if entry is None:
            settings = run.settings
            n_rts = max(1, len(run.discovery.resource_types))
            entry = state["campaigns"][rt.name] = (
                Campaign(
                    run,
                    rt,
                    examples=int(getattr(settings, "fuzz_examples", DEFAULT_EXAMPLES)),
                    seconds=float(getattr(settings, "fuzz_seconds", DEFAULT_SECONDS)) / n_rts,
                    seed=getattr(settings, "fuzz_seed", None),
                ),
                threading.Lock(),
            )
    camp, lock = entry
    with lock:
        if not camp.done:
            camp.execute()
    return camp


def bounded_filter(run: Run, rt: ResourceType) -> str:
    naming = payloads.naming_attribute(run.discovery, rt) or "externalId"
    return f"{naming} sw {json.dumps(run.run_id)}"


class ResponseValidator:
    """Validates a response body against the schema the derived document declares for its status."""

    def __init__(self, doc: dict[str, Any]):
        from jsonschema import Draft202012Validator
        from referencing import Registry, Resource

        self.doc = doc
        uri = "urn:scim-conformance:openapi"
        self.registry = Registry().with_resource(uri, Resource.from_contents(doc, default_specification=_spec()))
        self.uri = uri
        self._validators: dict[str, Any] = {}
        self._cls = Draft202012Validator

    def check(self, path: str, method: str, status: int, reply: Any) -> str | None:
        """None when fine, "undeclared" for a status the document does not list, else the problem."""
        op = self.doc["paths"].get(path, {}).get(method.lower())
        if op is None:
            return None
        declared = op["responses"].get(str(status))
        if declared is None:
            return None if status >= 500 else "undeclared"
        content = declared.get("content")
        if not content or status >= 500:
            return None
        body = reply.maybe_json()
        if body is None:
            return f"the body is not JSON ({reply.content_type or 'no Content-Type'})"
        ref = content[openapi.SCIM_JSON]["schema"]["$ref"]
        validator = self._validators.get(ref)
        if validator is None:
            validator = self._validators[ref] = self._cls({"$ref": self.uri + ref}, registry=self.registry)
        error = next(iter(sorted(validator.iter_errors(body), key=lambda e: len(e.path))), None)
        if error is None:
            return None
        where = "/".join(str(p) for p in error.absolute_path) or "(the body)"
        return f"at {where}: {error.message[:200]}"


def _spec() -> Any:
    from referencing.jsonschema import DRAFT202012

    return DRAFT202012


def _template(path: str, rt: ResourceType) -> str:
    segments = path.strip("/").split("/")
    base = "/" + rt.path
    if len(segments) == 1:
        return base
    if segments[-1] == ".search":
        return base + "/.search"
    return base + "/{id}"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    return str(value)


def _latin1(value: str) -> bool:
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return "\r" not in value and "\n" not in value and "\x00" not in value


def curl_for(exchange: Exchange) -> str:
    """A curl command that replays ``exchange`` (the token as $SCIM_TOKEN)."""
    parts = ["curl", "-sS", "-i", "-X", exchange.method, shlex.quote(exchange.url)]
    for name, value in exchange.request_headers.items():
        if name.lower() in ("host", "content-length", "accept-encoding", "connection", "user-agent"):
            continue
        if name.lower() == "authorization" and REDACTED in value:
            value = "Bearer $SCIM_TOKEN"
            parts += ["-H", f'"{name}: {value}"']
            continue
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    if exchange.request_body is not None:
        parts += ["--data-binary", shlex.quote(exchange.request_body)]
    return " ".join(parts)


# -- the `scim-conformance fuzz` command ---------------------------------------------------------------


def add_parser(sub: Any, add_auth_options: Any) -> None:
    p = sub.add_parser("fuzz", help="fuzz the target with schemathesis, from its own /ResourceTypes and /Schemas")
    p.add_argument("url", nargs="?", help="base URL of the SCIM service provider (no URL: the embedded scim2-server)")
    p.add_argument(
        "--examples",
        type=int,
        default=DEFAULT_EXAMPLES,
        metavar="N",
        help=f"generated requests per operation and mode (default {DEFAULT_EXAMPLES})",
    )
    p.add_argument(
        "--seconds",
        type=float,
        default=DEFAULT_SECONDS,
        metavar="S",
        help=f"time budget, shared by the resource types (default {DEFAULT_SECONDS:g})",
    )
    p.add_argument("--seed", type=int, help="draw another stream of requests (default: the same every run)")
    p.add_argument("--json", metavar="PATH", help="write the JSON report here")
    p.add_argument("--openapi", metavar="PATH", help="also write the derived OpenAPI document here")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds allowed per request (default: 10)")
    add_auth_options(p)


def cmd_fuzz(args: Any) -> int:
    """Exit 0: no finding; 1: a finding (fail or warn) or a broken exchange; 2: no run could be made."""
    from . import report
    from .auth import CredentialError, OAuthError
    from .cli import EXIT_FAILED, EXIT_OK, EXIT_UNUSABLE, _err, open_run
    from .engine import TargetUnusable
    from .model import Outcome

    if args.examples < 1 or not args.seconds > 0:
        _err("--examples and --seconds must be positive")
        return EXIT_UNUSABLE
    try:
        run, target = open_run(
            args,
            fuzz=True,
            select=("fuzz.",),
            fuzz_examples=args.examples,
            fuzz_seconds=args.seconds,
            fuzz_seed=args.seed,
        )
    except (TargetUnusable, CredentialError, OAuthError) as exc:
        _err(str(exc))
        return EXIT_UNUSABLE
    try:
        if args.openapi:
            from pathlib import Path

            Path(args.openapi).write_text(json.dumps(openapi.derive(run.discovery, run.settings.url), indent=2))
            print(f"OpenAPI document: {args.openapi}")
        results = run.run_all()
        if args.json:
            print(f"JSON report: {report.write(report.build(run), args.json)}")
    finally:
        run.http.close()
        if target:
            target.stop()
    for camp, _ in _state(run)["campaigns"].values():
        print(camp.summary())
        for problem in camp.problems[:5]:
            print(f"  note: {problem}")
    for r in results:
        print(f"{r.outcome.value.upper():5} {r.id} ({r.level} {', '.join(r.requirements)}): {r.message}")
    if run.leftovers:
        print("could not delete: " + "; ".join(run.leftovers))
    bad = any(r.outcome in (Outcome.FAIL, Outcome.WARN, Outcome.ERROR) for r in results)
    return EXIT_FAILED if bad else EXIT_OK
