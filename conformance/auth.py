"""How the suite authenticates: Bearer token, HTTP Basic, OAuth 2.0 client credentials, raw headers.

Each method is an :class:`httpx.Auth` that :class:`conformance.http.ScimHttp` hands to its client.
Every secret a method holds or obtains (a token, a password and its Base64 form, a client secret,
each access token as it is fetched) is given to the run's :class:`~conformance.http.Redactor`, so
it never reaches a report, a log or a reproduction.
"""

from __future__ import annotations

import base64
import re
import secrets as _secrets
import threading
import time
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from .transport import ResilientTransport

# ScimHttp sets this request extension to False for requests that must go without credentials.
USE_AUTH = "scim_use_auth"
# Headers given with --header whose value is not a secret; every other --header value is redacted.
NON_SECRET_HEADERS = frozenset({
    "user-agent", "accept", "accept-language", "accept-encoding", "content-type", "cache-control",
    "x-request-id", "x-correlation-id", "traceparent", "tracestate",
})
FORBIDDEN_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

SecretSink = Callable[[str], None]


class CredentialError(ValueError):
    """The credentials given cannot be used: one line says why."""


class OAuthError(httpx.RequestError):
    """The OAuth token endpoint gave no usable access token (so the request was never sent)."""


class ScimAuth(httpx.Auth):
    """A credential the suite sends; requests flagged ``USE_AUTH=False`` go out without it."""

    scheme = ""  # the HTTP authentication scheme this method uses ("Bearer", "Basic")
    label = ""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if request.extensions.get(USE_AUTH, True) is False:
            yield request
            return
        yield from self.flow(request)

    def flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self.authorization()
        yield request

    def authorization(self) -> str:  # pragma: no cover - every method overrides it or flow()
        raise NotImplementedError

    def secrets(self) -> list[str]:
        return []


class BearerToken(ScimAuth):
    scheme, label = "Bearer", "Bearer token"

    def __init__(self, token: str):
        self.token = token

    def authorization(self) -> str:
        return f"Bearer {self.token}"

    def secrets(self) -> list[str]:
        return [self.token]


class BasicCredentials(ScimAuth):
    scheme, label = "Basic", "HTTP Basic"

    def __init__(self, user: str, password: str):
        self.user, self.password = user, password
        self.encoded = base64.b64encode(f"{user}:{password}".encode()).decode()

    def authorization(self) -> str:
        return f"Basic {self.encoded}"

    def secrets(self) -> list[str]:
        return [self.password, f"{self.user}:{self.password}", self.encoded]


class OAuthClientCredentials(ScimAuth):
    """OAuth 2.0 client credentials grant (RFC 6749 §4.4): the access token is fetched before the
    first request, fetched again shortly before it expires, and once more if the target answers 401
    to a token that was cached (revoked or expired early)."""

    scheme, label = "Bearer", "OAuth 2.0 client credentials"

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str | None = None,
        *,
        client_auth: str = "basic",
        timeout: float = 10.0,
        on_secret: SecretSink | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        verify: bool = True,
    ):
        self.token_url, self.client_id, self.client_secret, self.scope = token_url, client_id, client_secret, scope
        self.client_auth = client_auth
        self.timeout, self.transport, self.clock = timeout, transport, clock
        self.verify = verify  # the run's --insecure reaches the token endpoint too (Credentials.bind)
        self.on_secret = on_secret
        self.fetches = 0
        self._token: str | None = None
        self._expires_at: float | None = None
        self._lock = threading.Lock()

    def secrets(self) -> list[str]:
        return [self.client_secret, *([self._token] if self._token else [])]

    def access_token(self, *, renew: bool = False) -> tuple[str, bool]:
        """The current access token and whether it was fetched just now."""
        with self._lock:
            fresh = False
            if renew or self._token is None or self._expired():
                self._token, self._expires_at = self._fetch()
                fresh = True
            return self._token, fresh

    def _expired(self) -> bool:
        if self._expires_at is None:
            return False
        return self.clock() >= self._expires_at

    def _fetch(self) -> tuple[str, float | None]:
        data = {"grant_type": "client_credentials"}
        if self.scope:
            data["scope"] = self.scope
        auth: Any = None
        if self.client_auth == "post":
            data |= {"client_id": self.client_id, "client_secret": self.client_secret}
        else:
            auth = httpx.BasicAuth(self.client_id, self.client_secret)
        # the target's safeguards apply to the token endpoint as well: the deadline (a trickling answer ends),
        # the size cap, same-origin redirects only (the client secret never follows a redirect elsewhere)
        transport = self.transport or ResilientTransport(timeout=self.timeout, verify=self.verify,
                                                         proxy_for=self.token_url)
        try:
            with httpx.Client(timeout=self.timeout, transport=transport) as client:
                reply = client.post(self.token_url, data=data, auth=auth, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise OAuthError(f"cannot get an OAuth token from {self.token_url}: {type(exc).__name__}: {exc}") from None
        self.fetches += 1
        try:
            body = reply.json()
        except ValueError:
            body = None
        if reply.status_code != 200 or not isinstance(body, dict):
            why = ""
            if isinstance(body, dict) and body.get("error"):
                why = f" ({body.get('error')}: {body.get('error_description', '')})".replace(": )", ")")
            raise OAuthError(f"the OAuth token endpoint {self.token_url} answered {reply.status_code}{why}; "
                             "check --oauth-client-id, --oauth-client-secret and --oauth-scope")
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise OAuthError(f"the OAuth token endpoint {self.token_url} answered without an access_token")
        if self.on_secret:
            self.on_secret(token)
            refresh = body.get("refresh_token")
            if isinstance(refresh, str):
                self.on_secret(refresh)
        if str(body.get("token_type", "bearer")).lower() != "bearer":
            raise OAuthError(f"the OAuth token endpoint issued a {body.get('token_type')!r} token; only bearer "
                             "tokens are supported")
        expires_in = body.get("expires_in")
        try:
            lifetime = float(expires_in) if expires_in is not None else None
        except (TypeError, ValueError):
            lifetime = None
        if lifetime is None or lifetime <= 0:
            return token, None
        margin = min(30.0, lifetime / 10)  # renew a little early, so a token never expires in flight
        return token, self.clock() + lifetime - margin

    def flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token, fresh = self.access_token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401 and not fresh:
            token, _ = self.access_token(renew=True)
            request.headers["Authorization"] = f"Bearer {token}"
            yield request


@dataclass
class Credentials:
    """What a run authenticates with: an auth method, extra headers, and every secret to redact."""

    auth: ScimAuth | None = None
    headers: dict[str, str] = field(default_factory=dict)
    secret_header_names: set[str] = field(default_factory=set)

    @property
    def label(self) -> str:
        parts = [self.auth.label] if self.auth else []
        if self.headers:
            parts.append("headers " + ", ".join(self.headers))
        return " + ".join(parts) or "no credentials"

    def bind(self, redactor: Any, verify: bool = True) -> None:
        """Give every secret to ``redactor`` (a conformance.http.Redactor), now and as tokens are fetched;
        ``verify=False`` (--insecure) applies to an OAuth token endpoint as to the target."""
        for secret in self.secrets():
            redactor.add(secret)
        redactor.secret_names |= self.secret_header_names
        if isinstance(self.auth, OAuthClientCredentials):
            self.auth.verify = self.auth.verify and verify
            previous = self.auth.on_secret

            def sink(secret: str) -> None:
                redactor.add(secret)
                if previous is not None:
                    previous(secret)

            self.auth.on_secret = sink

    def secrets(self) -> list[str]:
        found = list(self.auth.secrets()) if self.auth else []
        found += [v for k, v in self.headers.items() if k.lower() in self.secret_header_names]
        return found


def parse_header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    name, value = name.strip(), value.strip()
    if not sep or not name or not HEADER_NAME.match(name):
        raise CredentialError(f"--header takes \"Name: value\", not {_shown(text)}")
    if name.lower() in FORBIDDEN_HEADERS:
        raise CredentialError(f"--header cannot set {name}; the HTTP client sets it")
    if "\r" in value or "\n" in value:
        raise CredentialError(f"--header {name}: the value holds a line break")
    return name, value


def _shown(text: str) -> str:
    """Enough of a bad --header to recognise it, never its value (it may be a secret)."""
    return repr(text.split(":", 1)[0][:40] + (": ..." if ":" in text else ""))


def from_options(
    *,
    token: str | None = None,
    basic: str | None = None,
    oauth_token_url: str | None = None,
    oauth_client_id: str | None = None,
    oauth_client_secret: str | None = None,
    oauth_scope: str | None = None,
    oauth_client_auth: str = "basic",
    headers: Iterable[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 10.0,
    on_secret: SecretSink | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Credentials:
    """Build the credentials from command-line options, falling back on the environment
    (SCIM_TOKEN, SCIM_BASIC, SCIM_OAUTH_CLIENT_SECRET) for secrets not given as options."""
    env = env if env is not None else {}
    oauth_given = any((oauth_token_url, oauth_client_id, oauth_client_secret, oauth_scope))
    chosen = [n for n, v in (("--token", token), ("--basic", basic), ("--oauth-*", oauth_given)) if v]
    if len(chosen) > 1:
        raise CredentialError(f"give one authentication method, not {' and '.join(chosen)}")
    if not chosen:  # the environment holds the secret
        from_env = [n for n in ("SCIM_TOKEN", "SCIM_BASIC") if env.get(n)]
        if len(from_env) > 1:
            raise CredentialError("both SCIM_TOKEN and SCIM_BASIC are set; unset one or give --token/--basic")
        token, basic = env.get("SCIM_TOKEN") or None, env.get("SCIM_BASIC") or None
    creds = Credentials()
    if token:
        creds.auth = BearerToken(token)
    elif basic:
        user, sep, password = basic.partition(":")
        if not sep or not user or not password:
            raise CredentialError("--basic takes USER:PASSWORD (or set SCIM_BASIC)")
        creds.auth = BasicCredentials(user, password)
    elif oauth_given:
        secret = oauth_client_secret or env.get("SCIM_OAUTH_CLIENT_SECRET")
        missing = [n for n, v in (("--oauth-token-url", oauth_token_url), ("--oauth-client-id", oauth_client_id),
                                  ("--oauth-client-secret (or SCIM_OAUTH_CLIENT_SECRET)", secret)) if not v]
        if missing:
            raise CredentialError("OAuth client credentials need " + ", ".join(missing))
        assert oauth_token_url and oauth_client_id and secret
        if not oauth_token_url.startswith(("http://", "https://")):
            raise CredentialError(f"--oauth-token-url must start with http:// or https://, not {oauth_token_url!r}")
        if oauth_client_auth not in ("basic", "post"):
            raise CredentialError("--oauth-client-auth is basic or post")
        creds.auth = OAuthClientCredentials(
            oauth_token_url, oauth_client_id, secret, oauth_scope, client_auth=oauth_client_auth,
            timeout=timeout, on_secret=on_secret, transport=transport,
        )
    for text in headers:
        name, value = parse_header(text)
        if name.lower() == "authorization" and creds.auth is not None:
            raise CredentialError(f"--header Authorization conflicts with {creds.auth.label}")
        creds.headers[name] = value
        if name.lower() not in NON_SECRET_HEADERS:
            creds.secret_header_names.add(name.lower())
    return creds


def scheme_of(http: Any) -> str | None:
    """The HTTP authentication scheme the run's credentials use, if any."""
    auth = getattr(http, "auth", None)
    if isinstance(auth, ScimAuth):
        return auth.scheme
    for name, value in getattr(http, "auth_headers", {}).items():
        if name.lower() == "authorization" and " " in value:
            return value.split(" ", 1)[0]
    return None


def wrong_credentials(http: Any) -> dict[str, str] | None:
    """Headers carrying a credential of the run's own scheme that no server can have issued."""
    scheme = scheme_of(http)
    junk = "sct-not-a-credential-" + _secrets.token_hex(12)
    if scheme and scheme.lower() == "basic":
        user = getattr(getattr(http, "auth", None), "user", "sct-nobody")
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{junk}".encode()).decode()}
    if scheme:
        return {"Authorization": f"{scheme} {junk}"}
    secret_headers = {k: junk for k in getattr(http, "auth_headers", {}) if k.lower() not in NON_SECRET_HEADERS}
    return secret_headers or None


def wrong_scheme(http: Any) -> dict[str, str] | None:
    """Headers carrying a credential in a scheme the run does not use (Basic for Bearer, else Bearer)."""
    scheme = scheme_of(http)
    if scheme is None and not getattr(http, "auth_headers", None):
        return None
    junk = _secrets.token_hex(12)
    if scheme and scheme.lower() == "bearer":
        return {"Authorization": "Basic " + base64.b64encode(f"sct-nobody:{junk}".encode()).decode()}
    return {"Authorization": f"Bearer sct-not-a-token-{junk}"}
