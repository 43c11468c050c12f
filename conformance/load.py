"""A load profile: an identity provider's provisioning burst replayed at a fixed rate (``scim-conformance load``).

The ``entra`` profile follows what Microsoft Entra ID's provisioning service sends for each user it
provisions: a lookup by filter (``userName eq``, expected empty), a create, a PATCH of some attributes, a
second lookup (expected to find it); some users are then deprovisioned (PATCH ``active`` false, then
DELETE), and every tenth user starts a group (lookup ``displayName eq``, create, PATCH adding members).
25 requests/s is what Entra ID asks of gallery applications.

Requests leave at a fixed rate (open loop: a slow answer does not slow the schedule down; the requests in
flight are capped, and the rate reached is reported). The steps of one user are sent in order, so the
expected state is known: at the end every resource the run created is read back and compared with the
run's own model of it (attributes written, members added, deleted ones answering 404), then deleted.

A 429 is counted and retried after the wait its Retry-After asks for (at most ``MAX_WAIT`` s, three
times); a retried request counts once, with its final answer. Only the run's own data is touched: every
name carries the run id, every lookup is an ``eq`` on such a name.
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import payloads
from .discovery import GROUP_URN, PATCH_URN, USER_URN

if TYPE_CHECKING:
    import httpx

    from .discovery import ResourceType
    from .engine import Run

PROFILES = ("entra",)
MAX_WAIT = 30.0  # the longest Retry-After honoured
RETRIES = 3
DEPROVISION_SHARE = 0.4
GROUP_EVERY = 10
MAX_IN_FLIGHT = 64  # requests in flight at most; beyond, the schedule slips (reported as "left late")


@dataclass
class Model:
    """What the run expects a resource it created to hold."""

    rt: ResourceType
    tag: str
    id: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)  # attribute path (a.b) -> value
    members: set[str] = field(default_factory=set)
    deleted: bool = False


@dataclass
class Sample:
    op: str
    status: int | None
    latency_s: float
    error: str | None = None


@dataclass
class Flow:
    """The ordered steps of one user (or group) of the burst."""

    steps: list[Callable[[], None]]
    busy: bool = False

    @property
    def done(self) -> bool:
        return not self.steps


class Throttled(Exception):
    pass


class LoadRun:
    def __init__(
        self,
        run: Run,
        *,
        rate: float,
        duration: float,
        profile: str = "entra",
        seed: int = 0,
        max_in_flight: int = MAX_IN_FLIGHT,
    ):
        self.run = run
        self.rate = rate
        self.duration = duration
        self.profile = profile
        self.rng = random.Random(seed)
        self.users = _rt(run, USER_URN)
        self.groups = _rt(run, GROUP_URN)
        if self.users is None:
            raise ValueError("the target declares no User resource type: the entra profile provisions users")
        self.samples: list[Sample] = []
        self.throttled = 0
        self.waited_s = 0.0
        self.retry_after_missing = 0
        self.models: list[Model] = []
        self.mismatches: list[str] = []
        self.leftovers: list[str] = []
        self.sent = 0
        self.late = 0  # ticks that could not leave on time: every worker busy
        self.elapsed_s = 0.0
        self._lock = threading.RLock()
        self._flows: list[Flow] = []
        self._n_users = 0
        self._recent: list[Model] = []  # users a new group may take as members
        self._max_in_flight = max_in_flight
        self._client = _client(run)

    # -- HTTP ----------------------------------------------------------------------------------------
    def _request(
        self,
        op: str,
        method: str,
        path: str,
        body: Any = None,
        params: dict[str, str] | None = None,
        record: bool = True,
    ) -> httpx.Response | None:
        url = self.run.http.url(path)
        headers = {"Accept": "application/scim+json"}
        content = None
        if body is not None:
            content = json.dumps(body).encode()
            headers["Content-Type"] = "application/scim+json"
        for attempt in range(RETRIES + 1):
            started = time.perf_counter()
            try:
                resp = self._client.request(method, url, content=content, params=params, headers=headers)
            except Exception as exc:  # httpx.HTTPError: a broken exchange counts as an error
                if record:
                    self._add(Sample(op, None, time.perf_counter() - started, f"{type(exc).__name__}: {exc}"))
                return None
            latency = time.perf_counter() - started
            if resp.status_code == 429 and attempt < RETRIES:
                wait = _retry_after(resp.headers.get("retry-after"))
                with self._lock:
                    self.throttled += 1
                    if wait is None:
                        self.retry_after_missing += 1
                    self.waited_s += min(wait if wait is not None else 2.0**attempt, MAX_WAIT)
                time.sleep(min(wait if wait is not None else 2.0**attempt, MAX_WAIT))
                continue
            if record:
                error = None if resp.status_code < 400 else f"{resp.status_code}"
                self._add(Sample(op, resp.status_code, latency, error))
            return resp
        return None  # pragma: no cover - the loop returns

    def _add(self, sample: Sample) -> None:
        with self._lock:
            self.samples.append(sample)

    # -- the entra profile ----------------------------------------------------------------------------
    def _new_flow(self) -> Flow:
        self._n_users += 1
        if self.groups is not None and self._n_users % GROUP_EVERY == 0 and len(self._recent) >= 2:
            return self._group_flow()
        return self._user_flow()

    def _user_flow(self) -> Flow:
        rt = self.users
        assert rt is not None
        tag = self.run.next_tag("load")
        model = Model(rt, tag)
        self.models.append(model)
        naming = payloads.naming_attribute(self.run.discovery, rt) or "userName"
        body = payloads.build(self.run.discovery, rt, tag)
        flt = {"filter": f"{naming} eq {json.dumps(tag)}"}
        deprovision = self.rng.random() < DEPROVISION_SHARE

        def lookup() -> None:
            self._request("lookup", "GET", rt.path, params=flt)

        def create() -> None:
            resp = self._request("create", "POST", rt.path, body=body)
            data = _json(resp)
            if resp is not None and resp.status_code in (200, 201) and isinstance(data, dict) and data.get("id"):
                model.id = str(data["id"])
                model.attrs = {k: body[k] for k in ("userName", "displayName", "active", "externalId") if k in body}
                with self._lock:
                    self._recent.append(model)
            else:
                flow.steps.clear()  # nothing to update: the failed create is counted as an error

        def update() -> None:
            value = f"{tag} updated"
            ops = [{"op": "replace", "path": "displayName", "value": value}]
            resp = self._request("update", "PATCH", f"{rt.path}/{model.id}", body=_patch(ops))
            if resp is not None and resp.status_code in (200, 204):
                model.attrs["displayName"] = value

        def lookup_found() -> None:
            self._request("lookup", "GET", rt.path, params=flt)

        def disable() -> None:
            resp = self._request(
                "disable",
                "PATCH",
                f"{rt.path}/{model.id}",
                body=_patch([{"op": "replace", "path": "active", "value": False}]),
            )
            if resp is not None and resp.status_code in (200, 204):
                model.attrs["active"] = False

        def delete() -> None:
            resp = self._request("delete", "DELETE", f"{rt.path}/{model.id}")
            if resp is not None and resp.status_code in (200, 204):
                model.deleted = True
                with self._lock:
                    if model in self._recent:
                        self._recent.remove(model)

        steps = [lookup, create, update, lookup_found] + ([disable, delete] if deprovision else [])
        flow = Flow(steps)
        return flow

    def _group_flow(self) -> Flow:
        rt = self.groups
        assert rt is not None
        tag = self.run.next_tag("loadgroup")
        model = Model(rt, tag)
        self.models.append(model)
        body = payloads.build(self.run.discovery, rt, tag)
        with self._lock:
            members = [m for m in self._recent[-3:] if m.id and not m.deleted]

        def lookup() -> None:
            self._request("lookup", "GET", rt.path, params={"filter": f"displayName eq {json.dumps(tag)}"})

        def create() -> None:
            resp = self._request("create", "POST", rt.path, body=body)
            data = _json(resp)
            if resp is not None and resp.status_code in (200, 201) and isinstance(data, dict) and data.get("id"):
                model.id = str(data["id"])
                model.attrs = {"displayName": body.get("displayName")}
            else:
                flow.steps.clear()

        def add_members() -> None:
            live = [m for m in members if not m.deleted]
            ops = [{"op": "add", "path": "members", "value": [{"value": m.id} for m in live]}]
            resp = self._request("members", "PATCH", f"{rt.path}/{model.id}", body=_patch(ops))
            if resp is not None and resp.status_code in (200, 204):
                model.members |= {str(m.id) for m in live}

        flow = Flow([lookup, create] + ([add_members] if members else []))
        return flow

    def _next_step(self) -> tuple[Flow, Callable[[], None]]:
        with self._lock:
            ready = [f for f in self._flows if not f.busy and not f.done]
            flow = ready[0] if ready and self.rng.random() < 0.7 else None
            if flow is None:
                flow = self._new_flow()
                self._flows.append(flow)
            flow.busy = True
            step = flow.steps.pop(0)
            self._flows = [f for f in self._flows if not f.done or f.busy]
            return flow, step

    def _run_step(self, flow: Flow, step: Callable[[], None]) -> None:
        try:
            step()
        finally:
            with self._lock:
                flow.busy = False

    # -- the burst --------------------------------------------------------------------------------------
    def execute(self) -> None:
        """Send the burst, then check every resource against the model and delete what is left."""
        total = max(1, int(self.rate * self.duration))
        in_flight = threading.BoundedSemaphore(self._max_in_flight)
        pool = ThreadPoolExecutor(max_workers=self._max_in_flight, thread_name_prefix="scim-load")
        t0 = time.perf_counter()
        try:
            for i in range(total):
                due = t0 + i / self.rate
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                if not in_flight.acquire(blocking=False):
                    self.late += 1
                    in_flight.acquire()
                flow, step = self._next_step()
                self.sent += 1

                def done(_f: Any) -> None:
                    in_flight.release()

                pool.submit(self._run_step, flow, step).add_done_callback(done)
        finally:
            pool.shutdown(wait=True)
            self.elapsed_s = time.perf_counter() - t0
            try:
                self.verify()
            finally:
                self.cleanup()
                self._client.close()

    def verify(self) -> None:
        """Read back every resource the burst created and compare it with the model."""
        for model in self.models:
            if not model.id:
                continue
            path = f"{model.rt.path}/{model.id}"
            resp = self._request("verify", "GET", path, record=False)
            if resp is None:
                self.mismatches.append(f"GET {path}: no answer")
                continue
            if model.deleted:
                if resp.status_code != 404:
                    self.mismatches.append(f"GET {path} answered {resp.status_code} after its DELETE (expected 404)")
                continue
            data = _json(resp)
            if resp.status_code != 200 or not isinstance(data, dict):
                self.mismatches.append(f"GET {path} answered {resp.status_code}; the run created it and kept it")
                continue
            for attr, want in model.attrs.items():
                got = _get_ci(data, attr)
                if got != want and not (
                    isinstance(want, str)
                    and isinstance(got, str)
                    and attr == "userName"
                    and got.lower() == want.lower()
                ):
                    self.mismatches.append(f"{path}: {attr} is {got!r}, the run wrote {want!r}")
            if model.members or model.rt.schema == GROUP_URN:
                got_members = {str(m.get("value")) for m in _get_ci(data, "members") or [] if isinstance(m, dict)}
                gone = {m.id for m in self.models if m.id and m.deleted}
                want = model.members - gone  # a deleted user may leave its groups or not (RFC 7643 §2.3.7 MAY)
                if not want <= got_members:
                    self.mismatches.append(f"{path}: members {sorted(got_members)}, the run added {sorted(want)}")

    def cleanup(self) -> None:
        for model in sorted(self.models, key=lambda m: m.rt.schema != GROUP_URN):  # groups first
            if model.id and not model.deleted:
                resp = self._request("cleanup", "DELETE", f"{model.rt.path}/{model.id}", record=False)
                if resp is None or resp.status_code not in (200, 204, 404):
                    self.leftovers.append(f"{model.rt.path}/{model.id}")

    # -- the figures ------------------------------------------------------------------------------------
    def figures(self) -> dict[str, Any]:
        lat = sorted(s.latency_s for s in self.samples)
        errors = [s for s in self.samples if s.error]
        return {
            "profile": self.profile,
            "rate_requested": self.rate,
            "duration_s": round(self.elapsed_s, 3),
            "requests": len(self.samples),
            "rate_achieved": round(len(self.samples) / self.elapsed_s, 2) if self.elapsed_s else 0.0,
            "late_ticks": self.late,
            "latency_ms": {f"p{p}": round(percentile(lat, p) * 1000, 2) for p in (50, 95, 99)}
            | {"max": round(lat[-1] * 1000, 2) if lat else 0.0},
            "errors": len(errors),
            "error_rate": round(len(errors) / len(self.samples), 4) if self.samples else 0.0,
            "errors_by_status": dict(Counter(str(s.status or s.error) for s in errors)),
            "ops": dict(Counter(s.op for s in self.samples)),
            "throttled_429": self.throttled,
            "retry_after_waited_s": round(self.waited_s, 2),
            "retry_after_missing": self.retry_after_missing,
            "resources_created": sum(1 for m in self.models if m.id),
            "resources_deleted_by_burst": sum(1 for m in self.models if m.deleted),
            "data_correct": not self.mismatches,
            "mismatches": self.mismatches[:20],
            "leftovers": self.leftovers,
        }


def percentile(sorted_values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of sorted values."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), math.ceil(p * len(sorted_values) / 100)))
    return sorted_values[rank - 1]


def _rt(run: Run, schema: str) -> ResourceType | None:
    return next((rt for rt in run.discovery.resource_types if rt.schema == schema), None)


def _patch(ops: list[dict[str, Any]]) -> dict[str, Any]:
    return {"schemas": [PATCH_URN], "Operations": ops}


def _json(resp: httpx.Response | None) -> Any:
    if resp is None:
        return None
    try:
        return resp.json()
    except ValueError:
        return None


def _get_ci(data: dict[str, Any], path: str) -> Any:
    cur: Any = data
    for part in path.split("."):
        if not isinstance(cur, dict):
            return None
        cur = next((v for k, v in cur.items() if k.lower() == part.lower()), None)
    return cur


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        import email.utils

        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())


def _client(run: Run) -> httpx.Client:
    """A client of its own, with the run's credentials: latencies are the target's, and a 429 reaches the
    load run (which counts it and honours Retry-After) instead of being retried underneath."""
    import httpx

    http = run.http
    return httpx.Client(
        timeout=run.settings.timeout,
        auth=http.auth,
        headers=dict(http.auth_headers),
        follow_redirects=False,
        verify=not getattr(run.settings, "insecure", False),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=100),
    )


# -- the `scim-conformance load` command ---------------------------------------------------------------


def add_parser(sub: Any, add_auth_options: Any) -> None:
    p = sub.add_parser("load", help="replay an identity provider's provisioning burst at a fixed rate")
    p.add_argument("url", nargs="?", help="base URL of the SCIM service provider (no URL: the embedded scim2-server)")
    p.add_argument("--profile", choices=PROFILES, default="entra", help="the burst to replay (default entra)")
    p.add_argument("--rate", type=float, default=25.0, help="requests per second (default 25, Entra ID's figure)")
    p.add_argument("--duration", type=float, default=60.0, help="seconds (default 60)")
    p.add_argument("--seed", type=int, default=0, help="which users are deprovisioned (default 0)")
    p.add_argument(
        "--max-error-rate",
        type=float,
        default=0.0,
        metavar="R",
        help="exit 1 when more than this share of requests failed (default 0)",
    )
    p.add_argument("--json", metavar="PATH", help="write the figures as JSON here")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds allowed per request (default: 10)")
    add_auth_options(p)


def cmd_load(args: Any) -> int:
    """Exit 0: the data is correct and the error rate within --max-error-rate; 1: not; 2: no run."""
    from .auth import CredentialError, OAuthError
    from .cli import EXIT_FAILED, EXIT_OK, EXIT_UNUSABLE, _err, open_run
    from .engine import TargetUnusable

    if not args.rate > 0 or not args.duration > 0:
        _err("--rate and --duration must be positive")
        return EXIT_UNUSABLE
    try:
        run, target = open_run(args)
    except (TargetUnusable, CredentialError, OAuthError) as exc:
        _err(str(exc))
        return EXIT_UNUSABLE
    try:
        load = LoadRun(run, rate=args.rate, duration=args.duration, profile=args.profile, seed=args.seed)
        print(f"load: profile {args.profile}, {args.rate:g} requests/s for {args.duration:g} s on {run.settings.url}")
        load.execute()
    except ValueError as exc:
        _err(str(exc))
        return EXIT_UNUSABLE
    finally:
        run.http.close()
        if target:
            target.stop()
    fig = load.figures()
    print(render(fig))
    if args.json:
        from pathlib import Path

        Path(args.json).write_text(json.dumps(fig, indent=2) + "\n")
        print(f"JSON: {args.json}")
    ok = fig["data_correct"] and fig["error_rate"] <= args.max_error_rate and not fig["leftovers"]
    return EXIT_OK if ok else EXIT_FAILED


def render(fig: dict[str, Any]) -> str:
    lat = fig["latency_ms"]
    lines = [
        f"requests: {fig['requests']} in {fig['duration_s']:.1f} s ({fig['rate_achieved']:g}/s of "
        f"{fig['rate_requested']:g}/s requested; {fig['late_ticks']} left late, all {MAX_IN_FLIGHT} slots busy)",
        f"latency: p50 {lat['p50']:.1f} ms, p95 {lat['p95']:.1f} ms, p99 {lat['p99']:.1f} ms, max {lat['max']:.1f} ms",
        f"errors: {fig['errors']} ({fig['error_rate']:.2%})"
        + (f" by status {fig['errors_by_status']}" if fig["errors"] else ""),
        (
            f"429: {fig['throttled_429']} answered, each retried after its Retry-After ({fig['retry_after_waited_s']} s"
            f" waited; {fig['retry_after_missing']} without Retry-After, retried after 1, 2, 4 s)"
            if fig["throttled_429"]
            else "429: none"
        ),
        f"operations: {fig['ops']}",
        f"data after the burst: {fig['resources_created']} resources created, {fig['resources_deleted_by_burst']} "
        "deleted by it; "
        + (
            "every one reads back as the run left it"
            if fig["data_correct"]
            else f"{len(fig['mismatches'])} differences: " + "; ".join(fig["mismatches"][:5])
        ),
    ]
    if fig["leftovers"]:
        lines.append("could not delete: " + ", ".join(fig["leftovers"]))
    return "\n".join(lines)
