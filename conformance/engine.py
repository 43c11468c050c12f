"""The engine: one :class:`Run` per target; it discovers, enumerates cases, executes checks and cleans up.

It knows nothing of pytest: the pytest plugin (and so the CLI) drives it case by case, and the
project's own tests drive it directly.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from . import payloads, profiles
from .discovery import GROUP_URN, USER_URN, Discovery, ResourceType, discover
from .http import Reply, ScimHttp
from .model import Exchange, Outcome, Result, outcome_for_violation
from .registry import Check, all_checks
from .verdicts import ExchangeError, NotApplicable, Verdict, Violation

RUN_PREFIX = "sct"
FUZZ_OFF = "fuzzing is opt-in: run with --fuzz, or use `scim-conformance fuzz`"


class TargetUnusable(Exception):
    """The run cannot be made: unreachable, not SCIM, credentials refused. One line says which."""


@dataclass
class Settings:
    url: str
    token: str | None = None
    timeout: float = 10.0
    profile: str = "rfc"
    embedded: bool = False
    select: tuple[str, ...] = ()  # check id prefixes; empty: all
    levels: dict[str, str] = field(default_factory=dict)  # check id -> level, from a profile
    profiles: tuple[str, ...] = ()  # profiles/*.toml by name (conformance/profiles.py); empty: the one in `profile`
    credentials: Any = None  # conformance.auth.Credentials (Basic, OAuth, headers); None: the token above
    read_only: bool = False  # refuse POST/PUT/PATCH/DELETE: checks that write are skipped
    rate: float | None = None  # the most requests per second
    insecure: bool = False  # do not verify the target's TLS certificate (--insecure)
    seed: int | None = None  # generated queries (filter.generated): None = the fixed derandomized stream
    examples: int | None = None  # generated queries tried; None = the check's default budget
    fuzz: bool = False  # run the checks tagged "fuzz" (schemathesis; conformance/fuzz.py)
    fuzz_examples: int = 10  # generated requests per operation and mode
    fuzz_seconds: float = 60.0  # fuzzing time, shared by the resource types
    fuzz_seed: int | None = None  # None: the derandomized stream
    workers: int = 1  # checks run on this many threads (conformance/parallel.py)


@dataclass
class Case:
    check: Check
    rt: ResourceType | None = None
    skip_reason: str | None = None

    @property
    def id(self) -> str:
        return f"{self.check.id}[{self.rt.name}]" if self.rt else self.check.id


@dataclass
class Created:
    """A resource the suite created: the reply to the POST and what it says."""

    rt: ResourceType
    sent: dict[str, Any]
    reply: Reply
    body: dict[str, Any] | None
    id: str | None
    location: str | None

    @property
    def path(self) -> str:
        return f"{self.rt.path}/{self.id}"


def new_run_id() -> str:
    return f"{RUN_PREFIX}{secrets.token_hex(4)}"


class Context:
    """What a check receives: the target, what it declared, and tools to make data safely."""

    def __init__(self, run: Run, result: Result, rt: ResourceType | None):
        self.run = run
        self.result = result
        self.rt = rt
        self.http = run.http
        self.discovery = run.discovery
        self._created: list[Created] = []

    # -- data -------------------------------------------------------------------------------------
    def tag(self, hint: str = "") -> str:
        """A fresh name carrying the run id."""
        return self.run.next_tag(hint)

    def payload(self, rt: ResourceType, *, with_password: bool = False, tag: str | None = None) -> dict[str, Any]:
        body = payloads.build(self.discovery, rt, tag or self.tag(rt.name.lower()), with_password=with_password)
        body = self.run.profile.complete(rt.name, body)  # what a server profile requires on create
        for key, value in body.items():  # the generated password is a secret too: keep it out of artifacts
            if key.lower() == "password" and isinstance(value, str):
                self.http.redactor.add(value)
        return body

    def create(self, rt: ResourceType, body: dict[str, Any] | None = None, **kw: Any) -> Created:
        """POST a new resource; it is deleted when the check ends, whatever the verdict."""
        with deferred_interrupts():  # Ctrl-C waits until the new id is known, so it can be deleted
            created = self.run.post_resource(rt, body if body is not None else self.payload(rt), **kw)
            if created.id:
                self._created.append(created)
        return created

    def created_ok(self, rt: ResourceType, body: dict[str, Any] | None = None) -> Created:
        """Create a resource a check needs as a precondition; a refusal skips the check."""
        created = self.create(rt, body)
        if created.reply.status not in (200, 201) or not created.id:
            raise NotApplicable(
                f"precondition: creating a {rt.name} answered {created.reply.status}; "
                f"see the create checks for that"
            )
        return created

    def sample(self, rt: ResourceType) -> Created:
        """The run's shared sample of ``rt`` (created once, read only by checks, deleted at the end)."""
        created = self.run.sample(rt)
        self.attach(created.reply.exchange)
        return created

    def attach(self, exchange: Exchange | None) -> None:
        """Show an exchange made earlier (discovery, shared sample) as evidence of this check."""
        if exchange is not None and exchange not in self.result.exchanges:
            self.result.exchanges.append(exchange)

    def passed(self, message: str) -> None:
        """Say what was verified; shown with a pass."""
        self.result.message = message

    def resource_types(self, schema: str | None = None) -> list[ResourceType]:
        return [rt for rt in self.discovery.resource_types if schema is None or rt.schema == schema]

    def cleanup(self) -> None:
        with deferred_interrupts():  # an interrupt now would strand what is left to delete
            while self._created:
                self.run.delete_quietly(self._created.pop())


class Run:
    """A run of the suite against one target."""

    def __init__(self, settings: Settings, http: ScimHttp | None = None):
        self.settings = settings
        self.run_id = new_run_id()
        self.profile = profiles.select(settings.profiles or tuple(settings.profile.split(",")))
        settings.profile = self.profile.label
        self.http = http or self.profile.http(settings.url, settings.token, timeout=settings.timeout,
                                              credentials=settings.credentials, read_only=settings.read_only,
                                              rate=settings.rate, verify=not settings.insecure)
        self.discovery = Discovery()
        self.results: list[Result] = []
        self.started = dt.datetime.now(dt.UTC)
        self._t0 = time.perf_counter()
        self._seq = 0
        self._samples: dict[str, Created] = {}
        self.lock = threading.RLock()  # tags and shared data made once per run, for parallel runs (-n)
        self._once: dict[Any, list[Any]] = {}  # key -> [lock, outcome]: see once()
        self.population: Any = None  # conformance.population.Population, made by the first query check
        self.leftovers: list[str] = []  # resources the suite created but could not delete
        self.cleanup_log: list[Exchange] = []

    def once(self, key: Any, make: Callable[[], Any]) -> Any:
        """``make()`` once per run for ``key`` (probes or requests several checks judge). In a parallel run a
        second caller waits for the first rather than sending the same requests again; it gets the value, or
        the skip or broken exchange ``make`` raised, again."""
        with self.lock:
            entry = self._once.setdefault(key, [threading.Lock(), None])
        with entry[0]:
            if entry[1] is None:
                try:
                    entry[1] = (True, make())
                except (NotApplicable, ExchangeError) as exc:
                    entry[1] = (False, exc)
                    raise
                return entry[1][1]
        made, value = entry[1]
        if not made:
            raise type(value)(value.message)
        return value

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> None:
        """Discover the target; raise :class:`TargetUnusable` when no run can be made."""
        self.discovery = discover(self.http)
        diagnose(self.settings.url, self.discovery)
        if not self.discovery.resource_types:
            self.discovery.resource_types = fallback_resource_types()
            self.discovery.problems.append(
                "no usable /ResourceTypes: resource checks run on /Users and /Groups"
            )

    def finish(self) -> None:
        """Delete the shared samples (also after Ctrl-C)."""
        with deferred_interrupts():
            for created in reversed(list(self._samples.values())):
                self.delete_quietly(created)
            self._samples.clear()
            if self.population is not None:
                self.population.delete(self)
                self.population = None
            self.sweep()

    def sweep(self) -> None:
        """Delete whatever still carries this run's id: a create or bulk request that an interrupt cut
        off before the suite learnt the new id, or an id a check lost (conformance/cleanup.py; needs
        filter support; only names starting with ``<run id>-`` are touched)."""
        from . import cleanup

        if self.settings.read_only or not self.discovery.resource_types or not self.discovery.supports("filter"):
            return
        try:
            _, failed = cleanup.remove(self.http, self.discovery, self.run_id, say=lambda line: None)
        except (cleanup.CleanupError, ExchangeError):
            return  # the search itself failed: nothing is known to be left
        self.leftovers.extend(failed)

    @property
    def duration_s(self) -> float:
        return time.perf_counter() - self._t0

    # -- cases ------------------------------------------------------------------------------------
    def cases(self) -> list[Case]:
        out: list[Case] = []
        for chk in all_checks():
            if self.settings.select and not any(chk.id.startswith(p) for p in self.settings.select):
                continue
            if not self.profile.selects(chk.id, chk.tags):  # a profile's replay steps: only with --profile
                continue
            off = FUZZ_OFF if "fuzz" in chk.tags and not self.settings.fuzz else None  # opt-in: --fuzz
            if not chk.per_resource_type:
                out.append(Case(chk, skip_reason=off))
                continue
            rts = [
                rt for rt in self.discovery.resource_types
                if not chk.resource_types or rt.schema in chk.resource_types
            ]
            if not rts:
                names = ", ".join(s.rsplit(":", 1)[-1] for s in chk.resource_types)
                out.append(Case(chk, skip_reason=f"the target declares no {names} resource type"))
            out.extend(Case(chk, rt, skip_reason=off) for rt in rts)
        for case in out:  # documented vendor limits (profile [[skip]])
            case.skip_reason = case.skip_reason or self.profile.skip_reason(case.check.id)
        return out

    def level_for(self, chk: Check) -> str:
        """The check's level, changed by --profile or settings; "INFO": a finding that never warns or fails."""
        return self.settings.levels.get(chk.id) or self.profile.level(chk.id, chk.requirements, chk.level) or chk.level

    def execute(self, case: Case) -> Result:
        chk = case.check
        result = Result(
            id=case.id,
            check=chk.id,
            title=chk.title,
            section=chk.section,
            requirements=list(chk.requirements),
            level=self.level_for(chk),
            resource_type=case.rt.name if case.rt else None,
        )
        info = result.level == "INFO"
        if info:  # reported as a MAY-level finding, marked "info: " (profiles.is_info)
            result.level = "MAY"
        ctx = Context(self, result, case.rt)
        started = time.perf_counter()
        self.http.sink = result.exchanges
        try:
            if case.skip_reason:
                raise NotApplicable(case.skip_reason)
            missing = [f for f in chk.needs if not self.discovery.supports(f)]
            if missing:
                raise NotApplicable(
                    "not advertised: /ServiceProviderConfig does not say "
                    + ", ".join(f"{f}.supported=true" for f in missing)
                )
            if chk.per_resource_type:
                chk.func(ctx, case.rt)
            else:
                chk.func(ctx)
            result.outcome = Outcome.PASS
            result.message = result.message or "conforms"
        except Violation as exc:
            result.outcome = outcome_for_violation(result.level)
            result.message = (profiles.INFO_PREFIX if info else "") + exc.message
        except NotApplicable as exc:
            result.outcome, result.message = Outcome.SKIP, exc.message
        except ExchangeError as exc:
            result.outcome, result.message = Outcome.ERROR, exc.message
        except Verdict as exc:  # pragma: no cover - no other kinds exist
            result.outcome, result.message = Outcome.ERROR, exc.message
        except Exception as exc:  # a defect of the suite, never blamed on the target
            result.outcome = Outcome.ERROR
            result.message = f"internal error in the suite ({type(exc).__name__}: {exc})"
        finally:
            self._blame_credentials(result)
            self._blame_server_errors(result, chk)
            self.http.sink = self.cleanup_log
            try:
                ctx.cleanup()
            finally:
                self.http.sink = None
                result.duration_s = time.perf_counter() - started
        self.results.append(result)
        return result

    def _blame_credentials(self, result: Result) -> None:
        """A verdict reached while the target refused the suite's own credentials is no verdict on the
        requirement: say the credentials were refused (outcome error). Secrets never reach a message."""
        result.message = self.http.redactor.text(result.message) or ""
        statuses = (401, 403) if result.outcome in (Outcome.FAIL, Outcome.WARN) else (401,)
        if result.outcome not in (Outcome.FAIL, Outcome.WARN, Outcome.SKIP):
            return
        refused = [e for e in result.exchanges if self.http.rejected.get(id(e)) is e and e.status in statuses]
        if refused:
            first = refused[0]
            result.outcome = Outcome.ERROR
            result.message = (f"credentials refused: {first.method} {first.url} answered {first.status} to the "
                              f"suite's credentials, so no verdict ({result.message})")

    def _blame_server_errors(self, result: Result, chk: Check) -> None:
        """A fail or warn reached on a 5xx answer the check did not provoke is no verdict on the requirement:
        the target broke the exchange (outcome error). Checks in a group of their own (tagged: robustness,
        fuzz, vendor profile replays) judge server errors themselves and keep their verdict."""
        if result.outcome not in (Outcome.FAIL, Outcome.WARN) or chk.tags:
            return
        marked = getattr(self.http, "server_errors", set())
        failed = [e for e in result.exchanges if id(e) in marked]
        if failed:
            first = failed[0]
            result.outcome = Outcome.ERROR
            result.message = (f"server error: {first.method} {first.url} answered {first.status}, so no verdict "
                              f"({result.message})")

    def run_all(self) -> list[Result]:
        try:
            for case in self.cases():
                self.execute(case)
        finally:
            self.finish()
        return self.results

    # -- data helpers used by Context ------------------------------------------------------------
    def next_tag(self, hint: str = "") -> str:
        with self.lock:
            self._seq += 1
            seq = self._seq
        hint = "".join(c for c in hint.lower() if c.isalnum())[:10]
        return f"{self.run_id}-{seq:04d}{'-' + hint if hint else ''}"

    def post_resource(self, rt: ResourceType, body: dict[str, Any], **kw: Any) -> Created:
        reply = self.http.post(rt.path, body, **kw)
        parsed = reply.maybe_json() if reply.status in (200, 201) else None
        body_out = parsed if isinstance(parsed, dict) else None
        location = reply.headers.get("location")
        rid = None
        if body_out and isinstance(body_out.get("id"), str) and body_out["id"]:
            rid = body_out["id"]
        elif reply.status in (200, 201) and location:
            rid = location.rstrip("/").rsplit("/", 1)[-1]
        return Created(rt=rt, sent=body, reply=reply, body=body_out, id=rid, location=location)

    def sample(self, rt: ResourceType) -> Created:
        with self.lock:  # one sample per type, also when checks run in parallel
            if rt.name not in self._samples:
                sink = self.http.sink
                self.http.sink = None  # the exchange is attached to every check that uses the sample
                try:
                    tag = self.next_tag("sample")  # shown as such on the tenant
                    with deferred_interrupts():
                        body = self.profile.complete(rt.name, payloads.build(self.discovery, rt, tag))
                        self._samples[rt.name] = self.post_resource(rt, body)
                finally:
                    self.http.sink = sink
        created = self._samples[rt.name]
        if created.reply.status not in (200, 201) or not created.id:
            raise NotApplicable(
                f"precondition: creating a sample {rt.name} answered {created.reply.status}; "
                "see the create checks for that"
            )
        return created

    def delete_quietly(self, created: Created) -> None:
        if not created.id:
            return
        try:
            reply = self.http.delete(created.path)
            if reply.status not in (200, 204, 404):
                self.leftovers.append(f"{created.path} (DELETE answered {reply.status})")
        except ExchangeError as exc:
            self.leftovers.append(f"{created.path} ({exc.message})")


@contextlib.contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM while a resource is being created, and raise them once it is tracked.

    Otherwise an interrupt that lands while the server answers a POST leaves a resource the suite
    never learns the id of, and so cannot delete. The wait is bounded by the request timeout.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if received:
            raise KeyboardInterrupt


def sigterm_as_interrupt() -> None:
    """SIGTERM cleans up like Ctrl-C: it raises KeyboardInterrupt in the main thread."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (the suite driven from a test thread)
        pass


def fallback_resource_types() -> list[ResourceType]:
    return [
        ResourceType(id="User", name="User", endpoint="/Users", schema=USER_URN),
        ResourceType(id="Group", name="Group", endpoint="/Groups", schema=GROUP_URN),
    ]


def diagnose(url: str, found: Discovery) -> None:
    """Decide whether a run can be made at all, from the discovery replies."""
    replies = [r for r in (found.spc_reply, found.rt_reply, found.schemas_reply) if r is not None]
    if not replies:
        reason = found.problems[0] if found.problems else "no answer"
        raise TargetUnusable(f"cannot reach {url}: {_after_colon(reason)}")
    statuses = [r.status for r in replies]
    if all(s in (401, 403) for s in statuses) or (
        found.spc_reply is not None
        and found.spc_reply.status == 200
        and len(replies) == 3
        and all(r.status in (401, 403) for r in (found.rt_reply, found.schemas_reply))
    ):
        refused = [r for r in replies if r.status in (401, 403)]
        raise TargetUnusable(
            f"credentials rejected: {url} answered {refused[0].status} to "
            + ", ".join(_path(r) for r in refused)
            + " (check the credentials: --token, --basic, --oauth-*, --header)"
        )
    if all(s >= 500 and s != 501 for s in statuses):  # a failing server, not a missing endpoint
        raise TargetUnusable(
            f"the target fails: {url} answered " + ", ".join(f"{r.status} to {_path(r)}" for r in replies)
            + (f"; {_after_colon(found.problems[-1])}" if len(replies) < 3 and found.problems else "")
        )
    spc = found.spc_reply
    if spc is not None and spc.status == 200 and not isinstance(spc.maybe_json(), dict):
        raise TargetUnusable(
            f"not a SCIM endpoint: {_path(spc)} answered 200 with "
            f"{spc.content_type or 'no Content-Type'}, not SCIM JSON (is the base URL right?)"
        )
    if not any(r.status == 200 and isinstance(r.maybe_json(), dict) for r in replies):
        raise TargetUnusable(
            f"not a SCIM endpoint: {url} has no /ServiceProviderConfig, /ResourceTypes or /Schemas "
            f"(answered {', '.join(str(s) for s in statuses)}; the base URL usually ends in /scim/v2 or /v2)"
        )


def _path(reply: Reply) -> str:
    return f"GET {reply.exchange.url}"


def _after_colon(message: str) -> str:
    return message.split(": ", 1)[1] if ": " in message else message


def iter_outcomes(results: list[Result]) -> Iterator[tuple[str, int]]:
    for outcome in Outcome:
        yield outcome.value, sum(1 for r in results if r.outcome is outcome)
