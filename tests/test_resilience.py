"""Resilience of the suite itself: each broken-target behaviour is a real server on 127.0.0.1 (raw
sockets in front of the embedded scim2-server), and each gives the affected checks an error with a
one-line reason, the run goes on, and nothing waits past its budget (conformance/transport.py).
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from wsgiref.simple_server import make_server

import pytest

from conformance import transport
from conformance.embedded import EmbeddedTarget, _QuietHandler, _Server, build_app
from conformance.engine import Run, Settings, TargetUnusable
from conformance.http import ScimHttp
from conformance.model import Outcome
from conformance.verdicts import ExchangeError

# -- a misbehaving HTTP server in front of the embedded target ----------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Behave = Callable[["socket.socket", Seen], bool]  # True: handled (answered or broke); False: forward


@dataclass
class Faulty:
    """A raw-socket HTTP server: each request (one per connection) goes to ``behave``, which may answer it
    itself (any bytes, any timing, a reset); otherwise it is forwarded to ``upstream`` (host, port)."""

    behave: Behave | None = None
    upstream: tuple[str, int] | None = None
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self._sock.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v2"

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(30)
            seen = _read_request(conn)
            if seen is None:
                return
            self.seen.append(seen)
            if self.behave is not None and self.behave(conn, seen):
                return
            conn.sendall(self._forward(seen))
        except OSError:
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def _forward(self, seen: Seen) -> bytes:
        assert self.upstream is not None, "no upstream to forward to"
        up = http.client.HTTPConnection(*self.upstream, timeout=30)
        headers = {k: v for k, v in seen.headers.items() if k.lower() not in ("connection", "content-length")}
        up.request(seen.method, seen.path, body=seen.body or None, headers=headers)
        resp = up.getresponse()
        body = resp.read()
        up.close()
        keep = [
            (k, v)
            for k, v in resp.getheaders()
            if k.lower() not in ("connection", "content-length", "transfer-encoding")
        ]
        return answer(resp.status, body, keep)


def _read_request(conn: socket.socket) -> Seen | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    length = int(next((v for k, v in headers.items() if k.lower() == "content-length"), "0"))
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return Seen(method, path, headers, body)


def answer(
    status: int, body: bytes = b"", headers: list[tuple[str, str]] | None = None, length: int | None = None
) -> bytes:
    """The bytes of a whole HTTP/1.1 answer (``length``: the Content-Length to declare)."""
    lines = [f"HTTP/1.1 {status} Status"] + [f"{k}: {v}" for k, v in headers or []]
    lines += [f"Content-Length: {len(body) if length is None else length}", "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def reset(conn: socket.socket) -> None:
    """Close with a TCP RST rather than a FIN."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def is_discovery(seen: Seen) -> bool:
    return any(seen.path.split("?")[0].endswith(p) for p in ("/ServiceProviderConfig", "/ResourceTypes", "/Schemas"))


@pytest.fixture(scope="module")
def upstream():
    with EmbeddedTarget() as target:
        yield target


@pytest.fixture
def faulty(upstream):
    made: list[Faulty] = []

    def make(behave: Behave | None = None) -> Faulty:
        port = int(upstream.url.split(":")[2].split("/")[0])
        srv = Faulty(behave, ("127.0.0.1", port))
        made.append(srv)
        return srv

    yield make
    for srv in made:
        srv.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(url: str, token: str, *, timeout: float = 2.0, select: tuple[str, ...] = (), insecure: bool = False):
    run = Run(Settings(url=url, token=token, timeout=timeout, select=select, insecure=insecure))
    try:
        run.start()
        run.run_all()
    finally:
        run.http.close()
    return run


def _one_line(text: str) -> bool:
    return "\n" not in text.strip() and "Traceback" not in text


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "SCIM_TOKEN": "", "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, "-m", "conformance.cli", "run", *args, "--no-config", "-q"],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=os.getcwd(),
    )


def _assert_unusable(proc: subprocess.CompletedProcess, needle: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    assert _one_line(proc.stderr), proc.stderr
    assert needle in proc.stderr, proc.stderr


# -- cannot connect ------------------------------------------------------------------------------------


def test_connection_refused_is_one_line_exit_2(tmp_path):
    proc = _cli(f"http://127.0.0.1:{_free_port()}/v2", "--timeout", "2", "--json", str(tmp_path / "r.json"))
    _assert_unusable(proc, "connection refused")


def test_unresolvable_name_is_one_line_exit_2(tmp_path):
    proc = _cli("http://scim-target.invalid/v2", "--timeout", "2", "--json", str(tmp_path / "r.json"))
    _assert_unusable(proc, "does not resolve")


def test_target_going_away_mid_run_gives_errors_and_the_run_ends(upstream):
    """Connection refused after discovery: the checks get errors, the breaker stops the hammering."""
    gone = {"after": False}

    def behave(conn, seen):
        if not is_discovery(seen):
            gone["after"] = True
        if gone["after"]:
            reset(conn)
            return True
        return False

    port = int(upstream.url.split(":")[2].split("/")[0])
    srv = Faulty(behave, ("127.0.0.1", port))
    try:
        started = time.monotonic()
        run = _run(srv.url, upstream.token, select=("create", "retrieve", "delete"))
        elapsed = time.monotonic() - started
    finally:
        srv.close()
    assert run.results and all(r.outcome in (Outcome.ERROR, Outcome.SKIP) for r in run.results), _show(run)
    errors = [r for r in run.results if r.outcome is Outcome.ERROR]
    assert errors and all(_one_line(r.message) for r in errors)
    assert any("keeps failing" in r.message for r in errors), _show(run)
    assert elapsed < 30
    sent_after = [s for s in srv.seen if not is_discovery(s)]
    assert len(sent_after) <= transport.FAILING_AFTER + 5, len(sent_after)


# -- TLS -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_target(tmp_path_factory):
    """scim2-server behind TLS with a self-signed certificate (made by the openssl command)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    token = "tls-token-for-tests"
    server = make_server("127.0.0.1", 0, build_app(token), server_class=_Server, handler_class=_QuietHandler)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}/v2", token
    server.shutdown()
    server.server_close()


def test_untrusted_certificate_is_one_line_and_names_insecure(tls_target, tmp_path):
    url, token = tls_target
    proc = _cli(url, "--token", token, "--timeout", "5", "--json", str(tmp_path / "r.json"))
    _assert_unusable(proc, "not trusted")
    assert "--insecure" in proc.stderr


def test_insecure_skips_verification(tls_target, tmp_path):
    url, token = tls_target
    proc = _cli(
        url,
        "--token",
        token,
        "--timeout",
        "5",
        "--insecure",
        "--select",
        "discovery.spc",
        "--json",
        str(tmp_path / "r.json"),
    )
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert (tmp_path / "r.json").exists()


@pytest.mark.parametrize("insecure", [False, True])
def test_plugin_scim_insecure(tls_target, tmp_path, insecure):
    url, token = tls_target
    args = [
        sys.executable,
        "-m",
        "pytest",
        "-c",
        os.devnull,
        "--rootdir",
        str(tmp_path),
        "-p",
        "no:cacheprovider",
        "-q",
        "--scim-url",
        url,
        "--scim-token",
        token,
        "--scim-timeout",
        "5",
        "--scim-select",
        "discovery.spc.answers",
    ] + (["--scim-insecure"] if insecure else [])
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out
    if insecure:
        assert proc.returncode == 0, out
    else:
        assert proc.returncode == 2 and "not trusted" in out, out


def test_https_to_a_plain_http_port_says_so(upstream):
    http = ScimHttp(upstream.url.replace("http://", "https://"), upstream.token, timeout=3)
    try:
        with pytest.raises(ExchangeError) as caught:
            http.get("ServiceProviderConfig")
    finally:
        http.close()
    assert "TLS" in caught.value.message and _one_line(caught.value.message)


# -- time: no answer, trickling answers -------------------------------------------------------------------


def test_silent_server_unusable_within_the_timeout_budget(faulty, tmp_path):
    def behave(conn, seen):
        time.sleep(8)  # never answers in time
        return True

    srv = faulty(behave)
    started = time.monotonic()
    proc = _cli(srv.url, "--token", "t", "--timeout", "1", "--json", str(tmp_path / "r.json"))
    assert time.monotonic() - started < 20
    _assert_unusable(proc, "no answer in time")


def _failed_get(url: str, timeout: float) -> pytest.ExceptionInfo[ExchangeError]:
    """GET /Users from a broken server: it must raise ExchangeError (what the caller checks next)."""
    http = ScimHttp(url, "t", timeout=timeout)
    try:
        with pytest.raises(ExchangeError) as caught:
            http.get("Users")
    finally:
        http.close()
    return caught


def _trickle(conn: socket.socket, head: bytes, body: bytes, every: float = 0.1) -> None:
    conn.sendall(head)
    for i in range(len(body)):
        conn.sendall(body[i : i + 1])
        time.sleep(every)


def test_trickling_body_is_cut_at_the_deadline(faulty):
    """A byte every 0.1 s never trips the read timeout between bytes; the per-request deadline does."""
    body = b'{"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0}' * 4

    def behave(conn, seen):
        head = answer(200, b"", [("Content-Type", "application/scim+json")], length=len(body))
        _trickle(conn, head, body)
        return True

    srv = faulty(behave)
    started = time.monotonic()
    caught = _failed_get(srv.url, timeout=1.5)
    elapsed = time.monotonic() - started
    assert elapsed < 2.5, elapsed
    assert "no complete answer within the 1.5 s" in caught.value.message, caught.value.message
    assert _one_line(caught.value.message)


def test_trickling_headers_are_cut_at_the_deadline(faulty):
    def slow_head(conn, seen):
        head = answer(200, b"{}", [("X-Pad", "p" * 60)] * 5)
        for i in range(len(head)):
            conn.sendall(head[i : i + 1])
            time.sleep(0.05)
        return True

    srv = faulty(slow_head)
    started = time.monotonic()
    caught = _failed_get(srv.url, timeout=1.0)
    assert time.monotonic() - started < 2.0
    assert "no answer in time" in caught.value.message


def test_trickling_target_run_goes_on_and_stays_in_budget(faulty, upstream):
    """Every check's request trickles: the first ones time out, then the breaker answers at once."""

    def behave(conn, seen):
        if is_discovery(seen):
            return False
        body = b'{"schemas": []}' * 50
        _trickle(conn, answer(201, b"", [("Content-Type", "application/scim+json")], length=len(body)), body, every=0.2)
        return True

    srv = faulty(behave)
    started = time.monotonic()
    run = _run(srv.url, upstream.token, timeout=1.0, select=("create", "retrieve", "errors"))
    elapsed = time.monotonic() - started
    errors = [r for r in run.results if r.outcome is Outcome.ERROR]
    assert errors and all(_one_line(r.message) for r in errors), _show(run)
    assert not [r for r in run.results if r.outcome in (Outcome.FAIL, Outcome.WARN)], _show(run)
    # at most FAILING_AFTER requests wait their full second, then one probe every PROBE_EVERY seconds
    assert elapsed < transport.FAILING_AFTER * 1.0 + elapsed / transport.PROBE_EVERY * 1.0 + 8, elapsed


# -- what comes back: not JSON, too large, broken ------------------------------------------------------


def test_html_site_is_not_a_scim_endpoint(faulty, tmp_path):
    def behave(conn, seen):
        conn.sendall(answer(200, b"<html><body>Welcome</body></html>", [("Content-Type", "text/html")]))
        return True

    srv = faulty(behave)
    proc = _cli(srv.url, "--token", "t", "--timeout", "2", "--json", str(tmp_path / "r.json"))
    _assert_unusable(proc, "not a SCIM endpoint")


def test_html_answers_after_discovery_are_errors(faulty, upstream):
    def behave(conn, seen):
        if is_discovery(seen):
            return False
        conn.sendall(answer(200, b"<html><body>Maintenance</body></html>", [("Content-Type", "text/html")]))
        return True

    srv = faulty(behave)
    run = _run(srv.url, upstream.token, select=("retrieve", "list.", "create"))
    graded = [r for r in run.results if r.outcome is not Outcome.SKIP]
    assert graded
    assert all(r.outcome is Outcome.ERROR for r in graded), _show(run)
    assert all(_one_line(r.message) and "not JSON" in r.message for r in graded), _show(run)


def test_declared_huge_body_is_refused_at_once(faulty):
    def behave(conn, seen):
        conn.sendall(answer(200, b"{", [("Content-Type", "application/scim+json")], length=50 * 2**30))
        time.sleep(3)
        return True

    srv = faulty(behave)
    started = time.monotonic()
    caught = _failed_get(srv.url, timeout=5)
    assert time.monotonic() - started < 2
    assert "declares 53687091200 bytes" in caught.value.message and _one_line(caught.value.message)


def test_endless_body_is_cut_off_at_the_cap(faulty):
    def behave(conn, seen):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/scim+json\r\nConnection: close\r\n\r\n")
        chunk = b" " * 65536
        try:
            while True:
                conn.sendall(chunk)
        except OSError:
            pass
        return True

    srv = faulty(behave)
    started = time.monotonic()
    caught = _failed_get(srv.url, timeout=20)
    assert time.monotonic() - started < 15
    assert "larger than the 16 MiB" in caught.value.message and _one_line(caught.value.message)


def test_compressed_bomb_is_cut_off_after_decoding(faulty):
    bomb = gzip.compress(b" " * (20 * 2**20))  # 20 MiB of spaces in about 20 KB

    def behave(conn, seen):
        conn.sendall(answer(200, bomb, [("Content-Type", "application/scim+json"), ("Content-Encoding", "gzip")]))
        return True

    srv = faulty(behave)
    caught = _failed_get(srv.url, timeout=10)
    assert "decoded answer is larger than the 16 MiB" in caught.value.message


@pytest.mark.parametrize(
    "banner, needle",
    [
        (b"SSH-2.0-OpenSSH_9.6\r\nProtocol mismatch.\r\n", "cannot reach"),  # closes before a whole head
        (b"* OK IMAP4rev1 ready\r\n\r\n", "not HTTP"),
    ],
)
def test_a_port_that_does_not_speak_http(faulty, tmp_path, banner, needle):
    def behave(conn, seen):
        conn.sendall(banner)
        return True

    srv = faulty(behave)
    proc = _cli(srv.url, "--token", "t", "--timeout", "2", "--json", str(tmp_path / "r.json"))
    _assert_unusable(proc, needle)


@pytest.mark.parametrize("how", ["fin", "rst"])
def test_connection_broken_mid_body(faulty, how):
    def behave(conn, seen):
        conn.sendall(answer(200, b'{"schemas": ["urn:ietf:params:scim:api:', [], length=5000))
        time.sleep(0.1)
        if how == "rst":
            reset(conn)
        return True

    srv = faulty(behave)
    caught = _failed_get(srv.url, timeout=5)
    message = caught.value.message
    assert _one_line(message)
    assert "broke mid-exchange" in message or "was reset" in message, message


def test_resets_after_discovery_give_errors_and_the_run_goes_on(faulty, upstream):
    def behave(conn, seen):
        if is_discovery(seen) or seen.method != "GET":
            return False
        conn.sendall(answer(200, b'{"id": "', [("Content-Type", "application/scim+json")], length=900))
        reset(conn)
        return True

    srv = faulty(behave)
    run = _run(srv.url, upstream.token, select=("retrieve",))
    errors = [r for r in run.results if r.outcome is Outcome.ERROR]
    assert errors, _show(run)
    assert all(_one_line(r.message) for r in errors)
    assert not any("internal error" in r.message for r in run.results), _show(run)


# -- redirects ---------------------------------------------------------------------------------------------


def test_same_origin_redirects_are_followed(faulty, upstream):
    """Everything under /v2 moved to /scim/v2 on the same host and port: 307/308 keep method and body."""

    followed: list[Seen] = []

    def behave(conn, seen):
        if seen.path.startswith("/scim/v2"):
            followed.append(Seen(seen.method, seen.path, seen.headers, seen.body))
            seen.path = seen.path[len("/scim") :]
            return False
        code = 308 if seen.method == "GET" else 307
        conn.sendall(answer(code, b"", [("Location", "/scim" + seen.path)]))
        return True

    srv = faulty(behave)
    run = _run(srv.url, upstream.token, select=("discovery.spc", "create.status-201", "retrieve"))
    assert run.results
    bad = [r for r in run.results if r.outcome in (Outcome.ERROR, Outcome.FAIL)]
    assert not bad, _show(run)
    assert any(s.method == "POST" and s.body for s in followed)  # 307 repeated the body
    posts = [s for s in followed if s.method == "POST"]
    assert posts and all("Authorization" in s.headers for s in posts), "the credentials went along"
    # the report shows the hops: the request went to the first URL, the answer came from the last
    spc = next(r for r in run.results if r.id.startswith("discovery.spc"))
    hop = spc.exchanges[0].to_dict()
    assert "/scim/v2/" not in hop["url"] and hop["redirects"][0]["status"] == 308
    assert "/scim/v2/ServiceProviderConfig" in hop["redirects"][0]["location"]
    from conformance import jsonschemas, report

    assert jsonschemas.problems("report", report.build(run)) == []
    from conformance.reporting import curl_command
    from conformance.reporting.html import exchange_html

    assert curl_command(hop).startswith("curl -sS -i -L ")
    assert "308 redirect to " in exchange_html(hop, 1)


def test_redirect_to_another_origin_is_not_followed(faulty, tmp_path):
    elsewhere = Faulty(lambda conn, seen: conn.sendall(answer(200, b"{}")) is None)
    try:

        def behave(conn, seen):
            conn.sendall(answer(302, b"", [("Location", f"http://127.0.0.1:{elsewhere.port}{seen.path}")]))
            return True

        srv = faulty(behave)
        proc = _cli(srv.url, "--token", "secret-token-value", "--timeout", "2", "--json", str(tmp_path / "r.json"))
        _assert_unusable(proc, "another origin")
        assert elsewhere.seen == [], "the redirect to another origin was followed"
    finally:
        elsewhere.close()


def test_redirect_loop_is_an_error(faulty):
    srv = faulty(lambda conn, seen: conn.sendall(answer(302, b"", [("Location", seen.path)])) is None)
    caught = _failed_get(srv.url, timeout=2)
    assert f"more than {transport.MAX_REDIRECTS} redirects" in caught.value.message
    assert len(srv.seen) == transport.MAX_REDIRECTS + 1


# -- 5xx storms, 429 ----------------------------------------------------------------------------------------


def test_5xx_storm_run_goes_on_and_stops_hammering(faulty, upstream):
    def behave(conn, seen):
        if is_discovery(seen):
            return False
        conn.sendall(answer(503, b"<html>upstream down</html>", [("Content-Type", "text/html")]))
        return True

    srv = faulty(behave)
    started = time.monotonic()
    run = _run(srv.url, upstream.token, select=("create", "retrieve", "errors", "replace", "delete"))
    elapsed = time.monotonic() - started
    assert len(run.results) > 20
    graded = [r for r in run.results if r.outcome is not Outcome.SKIP]  # skips: the sample could not be made
    kept_failing = [r for r in graded if r.outcome is Outcome.ERROR and "keeps failing" in r.message]
    assert len(kept_failing) > len(graded) * 2 // 3, _show(run)
    assert not [r for r in graded if r.outcome in (Outcome.FAIL, Outcome.WARN)], _show(run)  # a 5xx: no verdict
    assert all(_one_line(r.message) for r in run.results)
    sent = [s for s in srv.seen if not is_discovery(s)]
    assert len(sent) <= transport.FAILING_AFTER + elapsed / transport.PROBE_EVERY + 2, len(sent)
    assert elapsed < 30


def test_cli_run_through_a_storm_exits_1_without_traceback(faulty, upstream, tmp_path):
    def behave(conn, seen):
        if is_discovery(seen):
            return False
        conn.sendall(answer(502, b"<html>Bad Gateway</html>", [("Content-Type", "text/html")]))
        return True

    srv = faulty(behave)
    report = tmp_path / "r.json"
    proc = _cli(
        srv.url,
        "--token",
        upstream.token,
        "--timeout",
        "2",
        "--select",
        "create",
        "--select",
        "retrieve",
        "--json",
        str(report),
    )
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stdout + proc.stderr
    data = json.loads(report.read_text())
    graded = [r for r in data["results"] if r["outcome"] != "skip"]  # skips: the sample could not be made
    assert graded and not [r for r in graded if r["outcome"] in ("fail", "warn")], graded  # a 5xx: no verdict
    assert all("\n" not in r["message"] for r in data["results"])


def test_storm_at_discovery_says_the_target_fails(faulty, tmp_path):
    srv = faulty(lambda conn, seen: conn.sendall(answer(500, b"oops", [("Content-Type", "text/plain")])) is None)
    proc = _cli(srv.url, "--token", "t", "--timeout", "2", "--json", str(tmp_path / "r.json"))
    _assert_unusable(proc, "the target fails")


def test_429_retry_after_is_honoured(faulty, upstream):
    limited: set[tuple[str, str]] = set()

    def behave(conn, seen):
        key = (seen.method, seen.path)
        if key in limited or is_discovery(seen):
            return False
        limited.add(key)
        conn.sendall(answer(429, b"", [("Retry-After", "1")]))
        return True

    srv = faulty(behave)
    started = time.monotonic()
    run = _run(srv.url, upstream.token, select=("create.status-201",))
    elapsed = time.monotonic() - started
    assert run.results and all(r.outcome is Outcome.PASS for r in run.results), _show(run)
    assert elapsed >= 1.0
    retried = [s for s in srv.seen if s.method == "POST"]
    assert len(retried) >= 2 and retried[0].body == retried[1].body


def test_429_asking_too_long_a_wait_is_an_error_at_once(faulty):
    srv = faulty(lambda conn, seen: conn.sendall(answer(429, b"", [("Retry-After", "3600")])) is None)
    started = time.monotonic()
    caught = _failed_get(srv.url, timeout=2)
    assert time.monotonic() - started < 1
    assert "retry after 3600 s" in caught.value.message and _one_line(caught.value.message)


def test_429_forever_gives_up_after_bounded_retries(faulty):
    srv = faulty(lambda conn, seen: conn.sendall(answer(429, b"", [("Retry-After", "0")])) is None)
    caught = _failed_get(srv.url, timeout=2)
    assert f"after {transport.MAX_RETRIES} retries" in caught.value.message
    assert len(srv.seen) == transport.MAX_RETRIES + 1


def test_retry_waits_of_one_request_stay_within_its_timeout(faulty):
    """Retry-After: 1 three times would be 3 s; with a 2.5 s timeout the third wait is refused."""
    srv = faulty(lambda conn, seen: conn.sendall(answer(503, b"", [("Retry-After", "1")])) is None)
    started = time.monotonic()
    caught = _failed_get(srv.url, timeout=2.5)
    assert 1.9 < time.monotonic() - started < 2.6
    assert "2.5 s in all per request" in caught.value.message and len(srv.seen) == 3


def test_retry_after_forms():
    assert transport.retry_after("7") == 7.0
    assert transport.retry_after(None) is None and transport.retry_after("soon") is None
    later = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 25 <= transport.retry_after(later) <= 31
    assert transport.retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_breaker_lets_deletes_and_probes_through():
    now = [0.0]
    breaker = transport.Breaker(threshold=2, probe_every=5, clock=lambda: now[0])
    import httpx

    get, delete = httpx.Request("GET", "http://x/Users"), httpx.Request("DELETE", "http://x/Users/1")
    for _ in range(2):
        breaker.before(get)
        breaker.answered(get, 500)
    with pytest.raises(transport.TargetKeepsFailing):
        breaker.before(get)
    breaker.before(delete)  # cleanup is never refused
    now[0] = 5.0
    breaker.before(get)  # a probe
    breaker.answered(get, 200)
    assert not breaker.open
    breaker.answered(get, 501)  # Not Implemented is an answer, not a failure
    assert breaker.failures == 0


def test_breaker_is_safe_under_parallel_runs():
    """-n N: one check provoking errors must not hide another thread's unprovoked 5xx, and the counts hold."""
    import threading

    import httpx

    breaker = transport.Breaker(threshold=10**9)
    http = type("Http", (), {"transport": type("T", (), {"breaker": breaker})()})()
    inside, seen = threading.Event(), []
    release = threading.Event()

    def provoker() -> None:
        with transport.provoking(http):
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=provoker)
    thread.start()
    inside.wait(5)
    seen.append(transport.is_provoking(http.transport))  # another thread: not provoking
    release.set()
    thread.join()
    assert seen == [False]

    get = httpx.Request("GET", "http://x/Users")

    def fail_many() -> None:
        for _ in range(2000):
            breaker.answered(get, 500)

    threads = [threading.Thread(target=fail_many) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert breaker.failures == 16000


def test_provoked_5xx_do_not_open_the_breaker(faulty):
    """A robustness probe answered 500 is a finding about that input, not a storm."""
    srv = faulty(lambda conn, seen: conn.sendall(answer(500, b"{}", [("Content-Type", "application/json")])) is None)
    http = ScimHttp(srv.url, "t", timeout=2)
    try:
        with transport.provoking(http):
            for _ in range(transport.FAILING_AFTER + 2):
                assert http.post("Users", content=b"{").status == 500
        assert http.get("Users").status == 500  # sent: the breaker is still closed
        for _ in range(transport.FAILING_AFTER - 1):  # unprovoked: these count
            http.get("Users")
        with pytest.raises(ExchangeError, match="keeps failing"):
            http.get("Users")
    finally:
        http.close()


def _show(run: Run) -> str:
    return "\n".join(f"  {r.id}: {r.outcome.value} — {r.message}" for r in run.results)


def test_discovery_unusable_raises_one_line(faulty):
    srv = faulty(lambda conn, seen: (reset(conn), True)[1])
    run = Run(Settings(url=srv.url, token="t", timeout=2))
    try:
        with pytest.raises(TargetUnusable) as caught:
            run.start()
    finally:
        run.http.close()
    assert _one_line(str(caught.value))
