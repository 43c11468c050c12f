"""Data hygiene on a live tenant: the run id on everything created, nothing left behind (also after
Ctrl-C or SIGTERM), and nothing that existed before the run touched beyond reading."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from conformance.embedded import EmbeddedTarget
from conformance.engine import RUN_PREFIX, Run, Settings


class Recorder:
    """WSGI middleware that remembers each request (and can slow the target down)."""

    def __init__(self, app, delay: float = 0.0):
        self.app, self.delay = app, delay
        self.requests: list[tuple[str, str, bytes]] = []
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        import io

        environ["wsgi.input"] = io.BytesIO(body)
        with self.lock:
            self.requests.append((environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), body))
        if self.delay:
            time.sleep(self.delay)
        return self.app(environ, start_response)


@pytest.fixture
def recorded():
    holder = {}

    def wrap(app):
        holder["rec"] = Recorder(app)
        return holder["rec"]

    with EmbeddedTarget(wrap=wrap) as target:
        yield target, holder["rec"]


def _client(target):
    return httpx.Client(base_url=target.url + "/", headers={"Authorization": f"Bearer {target.token}"})


def _json_or_none(body: bytes):
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # malformed or absurdly nested: a robustness probe
        return None


def _all(client, endpoint):
    return client.get(endpoint, params={"count": 1000}).json().get("Resources", [])


def test_run_touches_only_its_own_data(recorded):
    target, rec = recorded
    with _client(target) as client:
        before_user = client.post("Users", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                                                  "userName": "pre-existing.person"}).json()
        before_group = client.post("Groups", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                                    "displayName": "Pre-existing group",
                                                    "members": [{"value": before_user["id"]}]}).json()
        rec.requests.clear()
        run = Run(Settings(url=target.url, token=target.token))
        run.start()
        run.run_all()
        run.http.close()

        # a body that is no JSON object is a robustness probe (malformed JSON): nothing can be created from it,
        # and the listing below proves nothing was
        creates = [(p, data) for m, p, b in rec.requests if m == "POST" and p.rstrip("/").count("/") == 2
                   and not p.endswith("/.search") and isinstance(data := _json_or_none(b), dict)]
        assert creates, "the suite created nothing: the test proves nothing"
        bulk_ops = [op for path, body in creates if path.rstrip("/").endswith("/Bulk")
                    for op in body.get("Operations", [])]
        datas = [(p, b) for p, b in creates if not p.rstrip("/").endswith("/Bulk")]
        datas += [(f"Bulk {op.get('path')}", op.get("data") or {}) for op in bulk_ops if op.get("method") == "POST"]
        assert bulk_ops, "the suite sent no bulk request: the bulk part of this test proves nothing"
        for path, data in datas:
            names = [data.get(k) for k in ("userName", "displayName", "name") if data.get(k)]
            assert any(run.run_id in str(n) for n in names), f"POST {path} without the run id: {data}"
        pre_ids = {before_user["id"], before_group["id"]}
        writes = [(m, p) for m, p, _ in rec.requests if m in ("PUT", "PATCH", "DELETE")]
        writes += [(op.get("method"), op.get("path", "")) for op in bulk_ops if op.get("method") != "POST"]
        assert not [w for w in writes if any(i in w[1] for i in pre_ids)], "a pre-existing resource was written"

        users, groups = _all(client, "Users"), _all(client, "Groups")
        assert [u["id"] for u in users] == [before_user["id"]], "the suite left users behind"
        assert [g["id"] for g in groups] == [before_group["id"]], "the suite left groups behind"
        assert users[0]["meta"]["version"] == before_user["meta"]["version"]
        assert groups[0]["meta"]["version"] == before_group["meta"]["version"]
        assert run.leftovers == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupted_run_cleans_up(sig, tmp_path):
    holder = {}

    def wrap(app):
        holder["rec"] = Recorder(app, delay=0.03)
        return holder["rec"]

    with EmbeddedTarget(wrap=wrap) as target:
        rec = holder["rec"]
        env = {**os.environ, "SCIM_TOKEN": target.token}
        proc = subprocess.Popen(
            [sys.executable, "-m", "conformance.cli", "run", target.url, "--json", str(tmp_path / "r.json")],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            posts = [p for m, p, _ in rec.requests if m == "POST"]
            if len(posts) >= 4:
                break
            time.sleep(0.05)
        else:
            proc.kill()
            pytest.fail("the run never created anything")
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, (proc.returncode, out[-2000:], err[-2000:])
        assert "Traceback" not in err
        assert "interrupted" in err
        with _client(target) as client:
            left = [r for ep in ("Users", "Groups") for r in _all(client, ep)
                    if RUN_PREFIX in json.dumps(r)]
        assert left == [], f"left behind after {sig.name}: {left}"


# -- interrupted at 20 moments, spread over the run ---------------------------------------------------


class Interrupter:
    """WSGI middleware that numbers the requests, notes which check sent each, and sends SIGINT to the
    suite's thread right after the target has handled request number ``at`` (the worst moment: the
    server has done the work, the suite has not seen the answer)."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.count = 0
        self.at: int | None = None
        self.fired = False
        self.log: list[tuple[str, str, bytes, str]] = []  # method, path, body, case id
        self.case = "start"
        self.main = threading.main_thread().ident

    def __call__(self, environ, start_response):
        import io

        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        with self.lock:
            self.count += 1
            n = self.count
            self.log.append((environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), body, self.case))
        out = b"".join(self.app(environ, start_response))
        if n == self.at and not self.fired:
            self.fired = True
            signal.pthread_kill(self.main, signal.SIGINT)
        return [out]


def _moments(log: list[tuple[str, str, bytes, str]], wanted: int = 20) -> dict[int, str]:
    """Request numbers to interrupt at: one inside each kind of work that creates data (a create, a
    shared sample, the query population, PATCH sequences, bulk, PUT, DELETE, uniqueness, groups), the
    rest spread evenly over the run."""
    picks: dict[int, str] = {}

    def first(pred, why):
        hits = [i + 1 for i, entry in enumerate(log) if pred(*entry)]
        if hits:
            picks.setdefault(hits[len(hits) // 2] if "middle" in why else hits[0], why)

    first(lambda m, p, b, c: m == "POST" and b"-sample" in b, "the POST of a shared sample")
    first(lambda m, p, b, c: m == "POST" and c.startswith("create."), "a create check's POST")
    first(lambda m, p, b, c: c.startswith("patch.random-sequences") and m == "POST", "middle of random PATCH sequences")
    first(lambda m, p, b, c: c.startswith("patch.") and m == "PATCH", "a PATCH check's PATCH")
    first(lambda m, p, b, c: c.startswith("bulk.") and p.endswith("/Bulk"), "middle of the bulk checks")
    first(lambda m, p, b, c: c.startswith("filter.") and m == "POST", "middle of making the query population")
    first(lambda m, p, b, c: c.startswith("replace.") and m == "PUT", "a PUT check's PUT")
    first(lambda m, p, b, c: c.startswith("delete.") and m == "DELETE", "a delete check's DELETE")
    first(lambda m, p, b, c: c.startswith("uniqueness.") and m == "POST", "middle of the uniqueness checks")
    first(lambda m, p, b, c: c.startswith("groups.") and m == "POST", "middle of the group checks")
    starts = [i + 1 for i, e in enumerate(log) if e[3] != "start"]
    lo, hi = starts[0], int(len(log) * 0.97)
    step = 0
    while len(picks) < wanted:
        k = lo + (hi - lo) * step // (wanted - 1) if step < wanted else lo + step
        picks.setdefault(k, f"spread {step}")
        step += 1
    return dict(sorted(picks.items()))


def _suite_data(client) -> list[dict]:
    return [r for ep in ("Users", "Groups") for r in _all(client, ep) if RUN_PREFIX in json.dumps(r)]


def test_interrupted_at_20_moments_leaves_nothing(monkeypatch):
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach only the main thread")
    monkeypatch.setenv("SCIM_SEQ_EXAMPLES", "1")
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    holder = {}

    def wrap(app):
        holder["mw"] = Interrupter(app)
        return holder["mw"]

    original = Run.execute

    def execute(self, case):
        holder["mw"].case = case.id
        return original(self, case)

    monkeypatch.setattr(Run, "execute", execute)
    try:
        with EmbeddedTarget(wrap=wrap) as target, _client(target) as client:
            mw = holder["mw"]
            run = Run(Settings(url=target.url, token=target.token))
            run.start()
            run.run_all()
            run.http.close()
            assert _suite_data(client) == [] and run.leftovers == []
            moments = _moments(mw.log)
            assert len(moments) >= 20
            landed: dict[int, str] = {}
            for k, why in moments.items():
                mw.count, mw.at, mw.fired, mw.case = 0, k, False, "start"
                run = Run(Settings(url=target.url, token=target.token))
                interrupted = False
                try:
                    run.start()
                    run.run_all()
                except KeyboardInterrupt:
                    interrupted = True
                finally:
                    run.http.close()
                landed[k] = f"{why}: during {mw.case}"
                assert interrupted and mw.fired, f"the run was not interrupted at request {k} ({why})"
                left = _suite_data(client)
                assert left == [] and run.leftovers == [], (
                    f"interrupted at request {k} ({landed[k]}), left behind: {run.leftovers} "
                    f"{[r.get('userName') or r.get('displayName') for r in left]}")
            kinds = {why.split(":")[0] for why in landed.values() if not why.startswith("spread")}
            required = {"the POST of a shared sample", "a create check's POST", "middle of random PATCH sequences",
                        "a PATCH check's PATCH", "middle of the bulk checks", "a PUT check's PUT",
                        "a delete check's DELETE"}
            assert required <= kinds, landed
    finally:
        signal.signal(signal.SIGINT, previous)


# -- a tenant with 1,000 users and 100 groups holds exactly the same data after a full run ---------------


def _snapshot(client, endpoint: str) -> dict[str, dict]:
    out: dict[str, dict] = {}
    start = 1
    while True:
        page = client.get(endpoint, params={"startIndex": start, "count": 500}).json()
        resources = page.get("Resources", [])
        out.update({r["id"]: r for r in resources})
        if not resources or start + len(resources) > page["totalResults"]:
            return out
        start += len(resources)


def test_preseeded_tenant_is_unchanged_by_a_full_run(monkeypatch):
    monkeypatch.setenv("SCIM_SEQ_EXAMPLES", "1")
    with EmbeddedTarget() as target, _client(target) as client:
        user_ids = []
        for i in range(1000):
            body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": f"person{i:04d}",
                    "name": {"givenName": "Pat", "familyName": f"Person {i}"}, "active": i % 7 != 0,
                    "emails": [{"value": f"person{i}@corp.example", "type": "work", "primary": True}]}
            reply = client.post("Users", json=body)
            assert reply.status_code == 201
            user_ids.append(reply.json()["id"])
        for g in range(100):
            members = [{"value": user_ids[(g * 10 + j) % 1000]} for j in range(10)]
            reply = client.post("Groups", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                                "displayName": f"Team {g:03d}", "members": members})
            assert reply.status_code == 201
        users_before, groups_before = _snapshot(client, "Users"), _snapshot(client, "Groups")
        assert (len(users_before), len(groups_before)) == (1000, 100)

        run = Run(Settings(url=target.url, token=target.token))
        run.start()
        run.run_all()
        run.http.close()
        assert len(run.results) > 200 and run.leftovers == []

        assert _snapshot(client, "Users") == users_before
        assert _snapshot(client, "Groups") == groups_before


# -- cleanup --run-id / --all-runs -------------------------------------------------------------------------


def test_cleanup_removes_only_the_prefixed_resources(capsys):
    from conformance import cli

    user_urn, group_urn = "urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:core:2.0:Group"
    with EmbeddedTarget() as target, _client(target) as client:
        def user(name):
            return client.post("Users", json={"schemas": [user_urn], "userName": name}).json()["id"]

        run_a = [user("sct0123abcd-0001-user"), user("sct0123abcd-0002-user")]
        run_b = [user("sctfedcba98-0001-user")]
        keep = [user("sctott"), user("sct0123abcd"), user("SCT0123ABCD-0003-user"), user("pre-existing.person"),
                user("xsct0123abcd-0004")]
        group_a = client.post("Groups", json={"schemas": [group_urn], "displayName": "sct0123abcd-0005-group",
                                              "members": [{"value": run_a[0]}]}).json()["id"]
        kept_group = client.post("Groups", json={"schemas": [group_urn], "displayName": "Crew",
                                                 "members": [{"value": keep[3]}]}).json()["id"]
        before = {r["id"]: r for ep in ("Users", "Groups") for r in _all(client, ep)}

        code = cli.main(["cleanup", target.url, "--token", target.token, "--run-id", "sct0123abcd"])
        out = capsys.readouterr().out
        assert code == 0, out
        assert out.index("/Groups/") < out.index("/Users/"), "groups go before the users they hold"
        assert "deleted /Groups/" + group_a in out and "displayName sct0123abcd-0005-group" in out
        assert all(f"deleted /Users/{i}" in out for i in run_a) and "deleted 3 resource(s)" in out
        now = {r["id"]: r for ep in ("Users", "Groups") for r in _all(client, ep)}
        assert set(now) == set(before) - {*run_a, group_a}
        assert now[kept_group] == before[kept_group] and all(now[i] == before[i] for i in keep + run_b)

        code = cli.main(["cleanup", target.url, "--token", target.token, "--all-runs", "--dry-run"])
        out = capsys.readouterr().out
        assert code == 0 and f"would delete /Users/{run_b[0]}" in out and "would delete 1 resource(s)" in out
        assert {r["id"] for ep in ("Users", "Groups") for r in _all(client, ep)} == set(now)

        code = cli.main(["cleanup", target.url, "--token", target.token, "--all-runs"])
        out = capsys.readouterr().out
        assert code == 0 and f"deleted /Users/{run_b[0]}" in out
        left = {r["id"]: r for ep in ("Users", "Groups") for r in _all(client, ep)}
        assert set(left) == {*keep, kept_group} and all(left[i] == before[i] for i in left)


def test_cleanup_after_an_interrupted_run_finds_what_a_crash_left(capsys):
    """A run killed outright (no cleanup at all) leaves its resources; cleanup --run-id removes them."""
    from conformance import cli

    with EmbeddedTarget() as target, _client(target) as client:
        run = Run(Settings(url=target.url, token=target.token, select=("create.",)))
        run.start()
        run.delete_quietly = lambda created: None  # a crash: nothing is deleted, not even by the final sweep
        run.sweep = lambda: None
        run.run_all()
        run.http.close()
        stranded = _suite_data(client)
        assert stranded
        code = cli.main(["cleanup", target.url, "--token", target.token, "--run-id", run.run_id])
        out = capsys.readouterr().out
        assert code == 0 and f"deleted {len(stranded)} resource(s)" in out
        assert _suite_data(client) == []


@pytest.mark.parametrize(("argv", "message"), [
    (["--run-id", "abc"], "a run id looks like"),
    (["--run-id", "sct0123abcd", "--all-runs"], "not allowed with"),
    ([], "one of the arguments"),
])
def test_cleanup_bad_arguments_are_one_line(capsys, argv, message):
    from conformance import cli

    try:
        code = cli.main(["cleanup", "http://127.0.0.1:9/v2", *argv])
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1 and "Traceback" not in err


# -- --read-only and --rate ----------------------------------------------------------------------------


def test_read_only_run_sends_no_write(recorded, monkeypatch):
    monkeypatch.setenv("SCIM_SEQ_EXAMPLES", "1")
    target, rec = recorded
    run = Run(Settings(url=target.url, token=target.token, read_only=True))
    run.start()
    run.run_all()
    run.http.close()
    writes = [(m, p) for m, p, _ in rec.requests
              if m in ("PUT", "PATCH", "DELETE") or (m == "POST" and not p.endswith("/.search"))]
    assert writes == []
    skipped = [r for r in run.results if r.message.startswith("read-only run: this check sends ")]
    passed = [r for r in run.results if r.outcome.value == "pass"]
    assert len(skipped) > 50 and len(passed) > 20
    assert all(r.outcome.value == "skip" for r in skipped)
    assert any(r.check.startswith("discovery.") for r in passed)


def test_rate_caps_requests_per_second(monkeypatch):
    holder = {}

    class Stamps:
        def __init__(self, app):
            self.app, self.times = app, []

        def __call__(self, environ, start_response):
            self.times.append(time.monotonic())
            return self.app(environ, start_response)

    def wrap(app):
        holder["s"] = Stamps(app)
        return holder["s"]

    with EmbeddedTarget(wrap=wrap) as target:
        run = Run(Settings(url=target.url, token=target.token, rate=25,
                           select=("discovery.", "retrieve.", "create.", "delete.", "errors.")))
        run.start()
        run.run_all()
        run.http.close()
    times = holder["s"].times
    assert len(times) >= 40
    assert all(times[i + 26] - times[i] >= 1.0 for i in range(len(times) - 26)), "more than 26 requests in a second"
    assert times[-1] - times[0] >= (len(times) - 1) / 25 - 0.05


def test_rate_limiter_spaces_requests():
    from conformance.guard import RateLimiter

    now = [0.0]
    slept = []

    def sleep(s):
        slept.append(s)
        now[0] += s

    limiter = RateLimiter(4, clock=lambda: now[0], sleep=sleep)
    sent = []
    for _ in range(9):
        limiter.wait()
        sent.append(now[0])
    assert sent == [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]
    now[0] += 10  # idle time earns no burst: the second request still waits its turn
    idle_end = now[0]
    limiter.wait()
    assert now[0] == idle_end
    limiter.wait()
    assert now[0] == idle_end + 0.25
    with pytest.raises(ValueError):
        RateLimiter(0)


def test_cli_read_only_and_rate(recorded, tmp_path, capsys):
    from conformance import cli

    target, rec = recorded
    code = cli.main(["run", target.url, "--token", target.token, "--read-only", "--rate", "50", "--select", "create.",
                     "--select", "retrieve.", "--json", str(tmp_path / "r.json"), "-q"])
    capsys.readouterr()
    assert code == 0
    results = json.loads((tmp_path / "r.json").read_text())["results"]
    creates = [r for r in results if r["check"].startswith("create.")]
    assert creates and all(r["outcome"] == "skip" and r["message"].startswith("read-only run: this check sends POST")
                           for r in creates)
    assert [m for m, _, _ in rec.requests if m not in ("GET", "HEAD")] == []
    assert code == 0 and cli.main(["run", target.url, "--rate", "0"]) == 2
    assert "--rate must be a positive" in capsys.readouterr().err


def test_ctrl_c_in_the_demo_reaches_the_suite_not_the_embedded_target(tmp_path):
    """`scim-conformance run` with no URL runs on two threads against the embedded target in a process of its
    own. Ctrl-C goes to the whole process group: the suite stops and cleans up (the target, which ignores it,
    is still there to answer the deletes), exits 130 in one line, and leaves no process behind."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "conformance.cli", "run", "--json", str(tmp_path / "r.json"), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, cwd=tmp_path,
    )
    first = proc.stdout.readline()  # "embedded target: scim2-server at ..." once it serves
    assert first.startswith("embedded target:"), first
    time.sleep(0.8)  # well inside the run (which takes seconds)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (proc.returncode, out[-2000:], err[-2000:])
    assert "Traceback" not in err and "the resources this run created were deleted" in err, err
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)  # anyone left in the group (the target's process)?
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("a process of the run outlived it")
