"""Every way the suite authenticates (Bearer, Basic, OAuth 2.0 client credentials, raw headers), and
that no secret of any of them reaches an artifact of a run: the JSON, JUnit, HTML and Allure reports,
the terminal output and the curl reproductions (searched literally, and Base64-encoded for Basic)."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import pytest

from conformance import auth, cli
from conformance.embedded import EmbeddedTarget
from conformance.engine import Run, Settings
from conformance.http import REDACTED, Redactor, ScimHttp
from conformance.model import Outcome

TOKEN_PATH = "/oauth/token"


class AuthGate:
    """WSGI middleware that puts another authentication method in front of scim2-server (which takes
    only its Bearer token): Basic, OAuth 2.0 client credentials (it serves the token endpoint too) or
    an API-key header. It echoes the credential it received in a response header and in the detail of
    its 401 answers, as careless servers do, so that redaction of echoed secrets is proven too."""

    def __init__(self, app, inner_token: str, mode: str, *, user="ada", password=None, client_id="sct-client",
                 client_secret=None, api_key=None, lifetime: float = 3600):
        self.app, self.inner, self.mode = app, inner_token, mode
        self.user, self.password = user, password or "pw-" + secrets.token_urlsafe(12)
        self.client_id, self.client_secret = client_id, client_secret or "cs-" + secrets.token_urlsafe(16)
        self.api_key = api_key or "key-" + secrets.token_urlsafe(16)
        self.lifetime = lifetime
        self.issued: dict[str, float] = {}  # access token -> expiry (monotonic)
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == TOKEN_PATH:
            return self._token_endpoint(environ, start_response)
        got = environ.get("HTTP_AUTHORIZATION", "")
        ok = False
        if self.mode == "basic":
            ok = got == "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        elif self.mode == "oauth":
            token = got[7:] if got.lower().startswith("bearer ") else ""
            with self.lock:
                expiry = self.issued.get(token)
                ok = expiry is not None and time.monotonic() < expiry
        elif self.mode == "header":
            got = environ.get("HTTP_X_API_KEY", "")
            ok = got == self.api_key and "HTTP_AUTHORIZATION" not in environ
        if ok:
            environ["HTTP_AUTHORIZATION"] = f"Bearer {self.inner}"
        else:
            environ.pop("HTTP_AUTHORIZATION", None)

        def start(status, headers, exc_info=None):
            headers = [(k, v) for k, v in headers if k.lower() != "www-authenticate"]
            headers.append(("X-Echo-Credential", got))
            if status.startswith("401"):
                headers.append(("WWW-Authenticate", {"basic": 'Basic realm="scim"', "oauth": 'Bearer realm="scim"',
                                                     "header": 'ApiKey realm="scim"'}[self.mode]))
            return start_response(status, headers, exc_info)

        if not ok:
            body = json.dumps({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "401",
                               "detail": f"credential {got!r} is not valid"}).encode()
            start("401 Unauthorized", [("Content-Type", "application/scim+json"), ("Content-Length", str(len(body)))])
            return [body]
        return self.app(environ, start)

    def _token_endpoint(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = dict(parse_qsl(environ["wsgi.input"].read(length).decode()))
        basic = environ.get("HTTP_AUTHORIZATION", "")
        expected = "Basic " + base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        client_ok = basic == expected or (form.get("client_id") == self.client_id
                                          and form.get("client_secret") == self.client_secret)
        if form.get("grant_type") != "client_credentials" or not client_ok:
            status, payload = "401 Unauthorized", {"error": "invalid_client"}
        else:
            token = "at-" + secrets.token_urlsafe(20)
            with self.lock:
                self.issued[token] = time.monotonic() + self.lifetime
            status = "200 OK"
            payload = {"access_token": token, "token_type": "Bearer", "expires_in": self.lifetime}
        body = json.dumps(payload).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    def secrets(self) -> list[str]:
        basic = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return [self.password, basic, self.client_secret, self.api_key, *self.issued]


def gated(mode: str, **kw):
    holder = {}
    inner = "inner-" + secrets.token_urlsafe(16)

    def wrap(app):
        holder["gate"] = AuthGate(app, inner, mode, **kw)
        return holder["gate"]

    return EmbeddedTarget(token=inner, wrap=wrap), holder


def method_args(mode: str, gate: AuthGate, origin: str) -> list[str]:
    if mode == "basic":
        return ["--basic", f"{gate.user}:{gate.password}"]
    if mode == "oauth":
        return ["--oauth-token-url", origin + TOKEN_PATH, "--oauth-client-id", gate.client_id,
                "--oauth-client-secret", gate.client_secret, "--oauth-scope", "scim"]
    return ["--header", f"X-Api-Key: {gate.api_key}", "--header", "User-Agent: sct-agent/1.0"]


def _report_options(tmp_path: Path) -> list[str]:
    """The extra report formats this build of the CLI writes (JUnit, HTML, Allure), each into tmp_path."""
    wanted = {"--junit": tmp_path / "junit.xml", "--html": tmp_path / "report.html", "--allure": tmp_path / "allure"}
    known = []
    for option, path in wanted.items():
        _, unknown = cli.build_parser().parse_known_args(["run", option, str(path)])
        if not unknown:
            known += [option, str(path)]
    return known


@pytest.mark.parametrize("mode", ["basic", "oauth", "header"])
def test_no_secret_reaches_any_artifact(mode, tmp_path):
    target, holder = gated(mode, lifetime=2.0)
    with target:
        gate = holder["gate"]
        origin = target.url.rsplit("/v2", 1)[0]
        env = {k: v for k, v in os.environ.items() if not k.startswith("SCIM_")}
        env["SCIM_SEQ_EXAMPLES"] = "1"
        proc = subprocess.run(
            [sys.executable, "-m", "conformance.cli", "run", target.url, *method_args(mode, gate, origin),
             "--json", str(tmp_path / "r.json"), "--reports", str(tmp_path), *_report_options(tmp_path)],
            env=env, capture_output=True, text=True, timeout=300,
        )
        assert proc.returncode in (0, 1), proc.stderr[-2000:]
        report = json.loads((tmp_path / "r.json").read_text())
        results = report["results"]
        assert len(results) > 100, "the run made too few checks to prove anything"
        refused = [r for r in results if r["message"].startswith("credentials refused")]
        assert not refused, [(r["id"], r["message"]) for r in refused]
        auth_results = {r["id"]: r["outcome"] for r in results if r["id"].startswith("auth.")}
        refusals = ("auth.no-credentials.refused", "auth.bad-credential.refused", "auth.wrong-scheme.refused",
                    "auth.www-authenticate")
        assert all(auth_results[i] == "pass" for i in refusals), auth_results
        assert auth_results["auth.bearer-advertised"] == ("pass" if mode == "oauth" else "skip"), auth_results
        if mode == "oauth":
            assert len(gate.issued) >= 2, "the token never expired during the run: refreshing is not proven"
        artifacts = {p: p.read_bytes().decode("utf-8", "replace") for p in tmp_path.rglob("*") if p.is_file()}
        artifacts["stdout"], artifacts["stderr"] = proc.stdout, proc.stderr
        assert len(artifacts) >= 3
        needles = gate.secrets() if mode != "header" else [gate.api_key]
        needles += [base64.b64encode(s.encode()).decode() for s in list(needles)]
        for name, text in artifacts.items():
            for secret in needles:
                assert secret not in text, f"a secret of the {mode} method is in {name}"
        echoed = [e["response_headers"].get("x-echo-credential") for r in results for e in r["exchanges"]]
        assert REDACTED in " ".join(v for v in echoed if v), "the target's echo of the credential was not recorded"
        if mode == "header":  # a well-known header is no secret: it stays readable
            sent = [e["request_headers"] for r in results for e in r["exchanges"]]
            assert any(h.get("user-agent") == "sct-agent/1.0" for h in sent)
            assert all(h.get("x-api-key") in (None, REDACTED) for h in sent)


def test_bearer_token_never_reaches_the_report(tmp_path):
    token = "tok-" + secrets.token_urlsafe(24)
    with EmbeddedTarget(token=token) as target:
        code = cli.main(["run", target.url, "--token", token, "--select", "auth.", "--select", "create.",
                         "--json", str(tmp_path / "r.json"), "-q"])
    assert code in (0, 1)
    text = (tmp_path / "r.json").read_text()
    assert token not in text and "Bearer [REDACTED]" in text


@pytest.mark.parametrize("mode", ["basic", "oauth"])
def test_a_refused_credential_is_diagnosed_as_such(mode, tmp_path):
    target, holder = gated(mode)
    with target:
        gate = holder["gate"]
        origin = target.url.rsplit("/v2", 1)[0]
        if mode == "basic":
            args = ["--basic", f"{gate.user}:wrong-password"]
        else:
            args = ["--oauth-token-url", origin + TOKEN_PATH, "--oauth-client-id", gate.client_id,
                    "--oauth-client-secret", "wrong-secret"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("SCIM_")}
        proc = subprocess.run([sys.executable, "-m", "conformance.cli", "run", target.url, *args,
                               "--json", str(tmp_path / "r.json")], env=env, capture_output=True, text=True,
                              timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    expected = "credentials rejected" if mode == "basic" else "OAuth token endpoint"
    assert expected in lines[0] and "not a SCIM endpoint" not in lines[0], lines[0]
    assert "wrong-password" not in proc.stderr + proc.stdout and "wrong-secret" not in proc.stderr + proc.stdout


def test_credentials_refused_on_one_endpoint_are_errors_not_failures(embedded_target):
    """Discovery works but /Users refuses the suite's token (a token without the scope, say): the User
    checks say the credentials were refused (error); none of them blames the target with a fail."""

    def wrap(app):
        def gate(environ, start_response):
            if environ.get("PATH_INFO", "").startswith("/v2/Users") and environ.get("HTTP_AUTHORIZATION"):
                environ["HTTP_AUTHORIZATION"] = "Bearer revoked"
            return app(environ, start_response)
        return gate

    with EmbeddedTarget(wrap=wrap) as target:
        run = Run(Settings(url=target.url, token=target.token, select=("create.", "retrieve.", "delete.")))
        run.start()
        run.run_all()
        run.http.close()
    users = [r for r in run.results if r.resource_type == "User"]
    assert users
    assert all(r.outcome in (Outcome.ERROR, Outcome.SKIP) for r in users), [(r.id, r.outcome) for r in users]
    errors = [r for r in users if r.outcome is Outcome.ERROR]
    assert errors and all(r.message.startswith("credentials refused: ") and "401" in r.message for r in errors)
    groups = [r for r in run.results if r.resource_type == "Group"]
    assert groups and all(r.outcome is not Outcome.ERROR for r in groups)


def test_oauth_token_is_fetched_again_after_a_401():
    """A cached token the target stops taking (revoked) is fetched anew once, and the request retried."""
    state = {"valid": set(), "fetches": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == TOKEN_PATH:
            assert request.headers["authorization"].startswith("Basic ")
            state["fetches"] += 1
            token = f"at-{state['fetches']}-{secrets.token_hex(4)}"
            state["valid"] = {token}
            return httpx.Response(200, json={"access_token": token, "token_type": "bearer"})
        token = request.headers.get("authorization", "")[7:]
        return httpx.Response(200 if token in state["valid"] else 401, json={})

    transport = httpx.MockTransport(handler)
    oauth = auth.OAuthClientCredentials("http://idp.test" + TOKEN_PATH, "c", "client-secret-1",
                                        transport=transport)
    http = ScimHttp("http://scim.test/v2", transport=transport, credentials=auth.Credentials(oauth))
    assert http.get("Users").status == 200 and state["fetches"] == 1
    assert http.get("Users").status == 200 and state["fetches"] == 1  # cached
    state["valid"] = set()  # revoked
    reply = http.get("Users")
    assert reply.status == 200 and state["fetches"] == 2
    assert http.get("Users", auth=False).status == 401 and state["fetches"] == 2  # no credentials: no fetch
    secrets_seen = json.dumps(reply.exchange.to_dict())
    assert "at-2-" not in secrets_seen and reply.exchange.request_headers["authorization"] == f"Bearer {REDACTED}"


def test_oauth_token_is_renewed_before_it_expires():
    now = [1000.0]
    issued = []

    def handler(request: httpx.Request) -> httpx.Response:
        form = dict(parse_qsl(request.content.decode()))
        assert form == {"grant_type": "client_credentials", "scope": "scim.read", "client_id": "c",
                        "client_secret": "s3cret-value"}
        issued.append(f"tok-{len(issued)}")
        return httpx.Response(200, json={"access_token": issued[-1], "token_type": "Bearer", "expires_in": 100})

    oauth = auth.OAuthClientCredentials("http://idp.test/t", "c", "s3cret-value", "scim.read", client_auth="post",
                                        transport=httpx.MockTransport(handler), clock=lambda: now[0])
    assert oauth.access_token() == ("tok-0", True)
    now[0] += 85
    assert oauth.access_token() == ("tok-0", False)
    now[0] += 6  # within the last tenth of the lifetime: renewed early
    assert oauth.access_token() == ("tok-1", True)


@pytest.mark.parametrize(("kw", "message"), [
    ({"token": "t", "basic": "u:p"}, "one authentication method"),
    ({"basic": "no-colon"}, "USER:PASSWORD"),
    ({"oauth_token_url": "https://idp/t", "oauth_client_id": "c"}, "--oauth-client-secret"),
    ({"oauth_client_id": "c", "oauth_client_secret": "s"}, "--oauth-token-url"),
    ({"oauth_token_url": "ftp://idp/t", "oauth_client_id": "c", "oauth_client_secret": "s"}, "http"),
    ({"headers": ["NoColonHere"]}, "Name: value"),
    ({"headers": ["Content-Length: 3"]}, "cannot set"),
    ({"token": "t", "headers": ["Authorization: Basic abc"]}, "conflicts"),
])
def test_unusable_credentials_are_one_line_errors(kw, message):
    with pytest.raises(auth.CredentialError, match=message):
        auth.from_options(**kw)


def test_bad_header_value_is_not_shown():
    with pytest.raises(auth.CredentialError) as err:
        auth.from_options(headers=["X Bad Name: supersecretvalue"])
    assert "supersecretvalue" not in str(err.value)


def test_secrets_come_from_the_environment():
    creds = auth.from_options(env={"SCIM_BASIC": "ada:pw-from-env"})
    assert isinstance(creds.auth, auth.BasicCredentials) and creds.auth.password == "pw-from-env"
    creds = auth.from_options(env={"SCIM_TOKEN": "tok-from-env"})
    assert isinstance(creds.auth, auth.BearerToken)
    creds = auth.from_options(oauth_token_url="https://idp/t", oauth_client_id="c",
                              env={"SCIM_OAUTH_CLIENT_SECRET": "cs-from-env", "SCIM_TOKEN": "ignored"})
    assert isinstance(creds.auth, auth.OAuthClientCredentials) and creds.auth.client_secret == "cs-from-env"
    creds = auth.from_options(basic="u:given", env={"SCIM_TOKEN": "tok"})  # an option wins over the environment
    assert isinstance(creds.auth, auth.BasicCredentials)
    with pytest.raises(auth.CredentialError, match="both"):
        auth.from_options(env={"SCIM_TOKEN": "a", "SCIM_BASIC": "u:p"})


def test_cli_rejects_bad_credentials_in_one_line(capsys):
    assert cli.main(["run", "http://127.0.0.1:9/v2", "--basic", "u:p", "--token", "t"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "one authentication method" in err


def test_header_values_are_redacted_unless_well_known():
    creds = auth.from_options(headers=["X-Tenant-Key: tenant-secret-1", "Cookie: sid=abcdef", "Accept-Language: de"])
    redactor = Redactor()
    creds.bind(redactor)
    shown = redactor.headers([("X-Tenant-Key", "tenant-secret-1"), ("Cookie", "sid=abcdef"),
                              ("Accept-Language", "de"), ("X-Echo", "got tenant-secret-1")])
    assert shown == {"X-Tenant-Key": REDACTED, "Cookie": REDACTED, "Accept-Language": "de",
                     "X-Echo": f"got {REDACTED}"}


def test_plugin_takes_the_same_credentials(tmp_path):
    target, holder = gated("basic")
    with target:
        gate = holder["gate"]
        report = tmp_path / "r.json"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SCIM_")}
        env["SCIM_BASIC"] = f"{gate.user}:{gate.password}"
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "0", "--scim-url", target.url,
             "--scim-select", "auth.", "--scim-select", "retrieve.", "--scim-header", "X-Trace: t-1",
             "--scim-json", str(report)],
            env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path,
        )
    assert proc.returncode == 0, proc.stdout[-3000:]
    data = json.loads(report.read_text())
    assert {r["outcome"] for r in data["results"]} <= {"pass", "skip"} and data["results"]
    text = report.read_text() + proc.stdout + proc.stderr
    assert gate.password not in text and base64.b64encode(f"{gate.user}:{gate.password}".encode()).decode() not in text


def test_unreachable_token_endpoint_is_one_line(capsys):
    code = cli.main(["run", "http://127.0.0.1:9/v2", "--oauth-token-url", "http://127.0.0.1:9/token",
                     "--oauth-client-id", "c", "--oauth-client-secret", "cs-never-shown", "--timeout", "2"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "cannot get an OAuth token" in err
    assert "cs-never-shown" not in err and "Traceback" not in err


def test_token_endpoint_gets_the_targets_safeguards():
    """The token request goes through the resilient transport: a token endpoint trickling its answer is cut
    at the run's deadline (not waited on forever), and --insecure reaches it as it reaches the target."""
    import socket
    import threading
    import time as _time

    from conformance.auth import Credentials, OAuthClientCredentials, OAuthError
    from conformance.http import Redactor

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def trickle() -> None:
        conn, _ = srv.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n")
            try:
                for _ in range(40):  # a byte every 0.2 s: no single read ever times out
                    conn.sendall(b" ")
                    _time.sleep(0.2)
            except OSError:
                pass

    threading.Thread(target=trickle, daemon=True).start()
    oauth = OAuthClientCredentials(f"http://127.0.0.1:{srv.getsockname()[1]}/token", "c", "cs-secret", timeout=1)
    started = _time.monotonic()
    with pytest.raises(OAuthError, match="no complete answer within the 1 s"):
        oauth.access_token()
    assert _time.monotonic() - started < 3
    srv.close()

    insecure = OAuthClientCredentials("https://127.0.0.1:9/token", "c", "cs-secret")
    Credentials(insecure).bind(Redactor(), verify=False)
    assert insecure.verify is False
