"""The HTTP layer: every request the suite sends goes through :class:`ScimHttp`.

It adds the credentials, records each exchange (secrets redacted) into the sink of the check that
is running, and turns a broken exchange (refused, reset, timeout) into :class:`ExchangeError`.
"""

from __future__ import annotations

import json
import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from .auth import USE_AUTH, BearerToken, Credentials
from .guard import RateLimiter, is_write, refuse_write
from .model import Exchange
from .transport import (
    MAX_BODY,
    NO_REDIRECTS,
    REDIRECTS,
    ResilientTransport,
    TransportProblem,
    is_deadline,
    is_provoking,
    read_capped,
)
from .verdicts import ExchangeError

SCIM_JSON = "application/scim+json"
REDACTED = "[REDACTED]"
# Headers whose value is always a secret, whatever it holds.
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key"}
)
# Bodies kept in a report are cut here, so a huge answer cannot swell the artifacts.
BODY_LIMIT = 64 * 1024


class Redactor:
    """Removes known secrets from every string that leaves the suite."""

    def __init__(self, secrets: Iterable[str] = ()):
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)
        self.secret_names: set[str] = set()  # more header names whose value is a secret (--header)

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 4 and secret not in self._secrets:
            self._secrets = sorted([*self._secrets, secret], key=len, reverse=True)

    def text(self, value: str | None) -> str | None:
        if value is None:
            return None
        for secret in self._secrets:
            value = value.replace(secret, REDACTED)
        return value

    def headers(self, headers: Iterable[tuple[str, str]]) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, value in headers:
            if name.lower() in SECRET_HEADERS or name.lower() in self.secret_names:
                scheme = value.split(" ", 1)[0] if name.lower().endswith("authorization") else ""
                value = f"{scheme} {REDACTED}".strip() if scheme and " " in value else REDACTED
            else:
                value = self.text(value) or ""
            out[name] = f"{out[name]}, {value}" if name in out else value
        return out


@dataclass
class Reply:
    """A response the suite received, with the exchange that records it."""

    status: int
    headers: httpx.Headers
    text: str
    exchange: Exchange

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json(self) -> Any:
        """The body as JSON; a body that is not JSON breaks the exchange (outcome: error)."""
        try:
            return json.loads(self.text)
        except (ValueError, RecursionError):
            snippet = " ".join(self.text[:80].split())
            raise ExchangeError(
                f"{self.exchange.method} {self.exchange.url} answered {self.status} with a body that is "
                f"not JSON ({self.content_type or 'no Content-Type'}): {snippet!r}"
            ) from None

    def json_object(self) -> dict[str, Any]:
        body = self.json()
        if not isinstance(body, dict):
            raise ExchangeError(
                f"{self.exchange.method} {self.exchange.url} answered {self.status} with JSON that is "
                f"not an object"
            )
        return body

    def maybe_json(self) -> Any:
        """The body as JSON, or None when it is empty or not JSON."""
        try:
            return json.loads(self.text) if self.text.strip() else None
        except (ValueError, RecursionError):
            return None


class ScimHttp:
    """A SCIM client bound to one target, recording each exchange."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        timeout: float = 10.0,
        redactor: Redactor | None = None,
        transport: httpx.BaseTransport | None = None,
        credentials: Credentials | None = None,
        read_only: bool = False,
        rate: float | None = None,
        verify: bool = True,
    ):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.redactor = redactor or Redactor()
        # Credentials (conformance/auth.py): an httpx.Auth and extra headers; --token alone is a Bearer token.
        creds = credentials or Credentials(BearerToken(token) if token else None)
        self.auth, self.auth_headers = creds.auth, dict(creds.headers)
        # its secrets, and each OAuth access token as it is fetched, are redacted; --insecure reaches OAuth too
        creds.bind(self.redactor, verify=verify)
        self.read_only = read_only  # refuse writes: the check is skipped (conformance/guard.py)
        self.limiter = RateLimiter(rate) if rate else None
        # the exchanges whose credentials the target refused (401/403), by id(); weak, so an id never outlives its own
        self.rejected: weakref.WeakValueDictionary[int, Exchange] = weakref.WeakValueDictionary()
        self.server_errors: set[int] = set()  # id() of exchanges answered 5xx that no check meant to provoke
        self._local = threading.local()  # the sink of the check running in each thread (parallel runs)
        self._count_lock = threading.Lock()
        self.sink: list[Exchange] | None = None
        self.request_count = 0
        self.max_body = MAX_BODY
        if transport is None:  # deadline, size cap, same-origin redirects, Retry-After, breaker (transport.py)
            transport = ResilientTransport(timeout=timeout, verify=verify, proxy_for=self.base_url)
        self.transport = transport
        # Requests go straight to the transport through the auth flow (see _send): httpx.Client's merging of
        # defaults, cookies, hooks and redirect bookkeeping cost ~0.12 ms of CPU a request, and the suite uses
        # none of them. Redirects are the transport's. No cookie jar: SCIM authenticates each request on its
        # own, and a cookie one answer set would ride along on every later request, the auth checks'
        # credential-less probes included, and let checks influence each other.
        self._timeouts = httpx.Timeout(timeout).as_dict()
        self._base_headers = {"Accept-Encoding": "gzip, deflate", "Connection": "keep-alive", "User-Agent": _ua()}

    @property
    def sink(self) -> list[Exchange] | None:
        """Where the exchanges of the check running in this thread are recorded (None: nowhere)."""
        return getattr(self._local, "sink", None)

    @sink.setter
    def sink(self, value: list[Exchange] | None) -> None:
        self._local.sink = value

    def close(self) -> None:
        self.transport.close()

    def _send(self, request: httpx.Request) -> httpx.Response:
        """``request`` through the auth flow (a flow may send it again, e.g. OAuth after a 401) and the transport;
        the answer's body is still to be read (``read_capped``)."""
        if self.auth is None:
            return self._one(request)
        flow = self.auth.sync_auth_flow(request)
        request = next(flow)
        while True:
            response = self._one(request)
            try:
                request = flow.send(response)
            except StopIteration:
                return response
            response.read()  # what httpx.Client does before the flow's next attempt
            response.close()

    def _one(self, request: httpx.Request) -> httpx.Response:
        response = self.transport.handle_request(request)
        response.request = request
        return response

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: str | bytes | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
        content_type: str = SCIM_JSON,
        follow_redirects: bool = True,
    ) -> Reply:
        """Send one request. ``auth=False`` sends no credentials; ``headers`` override the defaults;
        ``follow_redirects=False`` gives a check the redirect itself (same-origin ones are followed otherwise)."""
        send_headers = {"Accept": SCIM_JSON}
        if self.read_only and is_write(method, self.url(path)):
            refuse_write(method, self.url(path))
        if auth:
            send_headers.update(self.auth_headers)
        # A caller's own Authorization header (a deliberately wrong one) replaces the run's credentials.
        use_auth = auth and not any(k.lower() == "authorization" for k in headers or {})
        body: bytes | None = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
        elif content is not None:
            body = content.encode() if isinstance(content, str) else content
        if body is not None:
            send_headers["Content-Type"] = content_type
        send_headers.update(headers or {})
        send_headers = {k: v for k, v in send_headers.items() if v is not None}
        merged = httpx.Headers(self._base_headers)
        merged.update(send_headers)  # case-insensitively: a check's own Accept-Encoding replaces the default
        request = httpx.Request(
            method, self.url(path), params=params, content=body, headers=merged,
            extensions={"timeout": self._timeouts, USE_AUTH: use_auth, NO_REDIRECTS: not follow_redirects},
        )
        exchange = Exchange(
            method=method,
            url=self.redactor.text(str(request.url)) or "",
            request_headers=self.redactor.headers(request.headers.multi_items()),
            request_body=_cut(self.redactor.text(body.decode("utf-8", "replace")) if body else None),
        )
        sink = self.sink
        if sink is not None:
            sink.append(exchange)
        with self._count_lock:
            self.request_count += 1
        if self.limiter:
            self.limiter.wait()
        started = time.perf_counter()
        try:
            response = self._send(request)
            raw = read_capped(response, self.max_body)
            # the headers as sent, with the credentials the auth flow added (redacted)
            exchange.request_headers = self.redactor.headers(response.request.headers.multi_items())
        except httpx.TimeoutException as exc:
            exchange.elapsed_s = time.perf_counter() - started
            exchange.error = str(exc) if is_deadline(exc) else f"timed out ({type(exc).__name__})"
            raise ExchangeError(f"{method} {exchange.url}: no answer in time ({exchange.error})") from None
        except httpx.HTTPError as exc:
            exchange.elapsed_s = time.perf_counter() - started
            exchange.error = _describe(exc)
            raise ExchangeError(f"{method} {exchange.url}: {exchange.error}") from None
        exchange.elapsed_s = time.perf_counter() - started
        hops = response.extensions.get(REDIRECTS)
        if hops:
            exchange.redirects = [{"status": code, "location": self.redactor.text(url) or ""} for code, url in hops]
        text = raw.decode(response.encoding or "utf-8", "replace")
        exchange.status = response.status_code
        if response.status_code >= 500 and response.status_code != 501 and not is_provoking(self.transport):
            self.server_errors.add(id(exchange))  # a fail or warn resting on it is no verdict (engine)
        if use_auth and response.status_code in (401, 403) and (self.auth or self.auth_headers):
            self.rejected[id(exchange)] = exchange
        exchange.response_headers = self.redactor.headers(response.headers.multi_items())
        exchange.response_body = _cut(self.redactor.text(text))
        return Reply(status=response.status_code, headers=response.headers, text=text, exchange=exchange)

    # Short forms used by the checks.
    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.request("POST", path, json_body=body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.request("PUT", path, json_body=body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.request("PATCH", path, json_body=body, **kw)

    def delete(self, path: str, **kw: Any) -> Reply:
        return self.request("DELETE", path, **kw)


def _cut(text: str | None) -> str | None:
    if text is None or len(text) <= BODY_LIMIT:
        return text
    return text[:BODY_LIMIT] + f"... [{len(text) - BODY_LIMIT} more characters cut]"


def _describe(exc: httpx.HTTPError) -> str:
    """One line that says what broke, without a traceback."""
    text = " ".join((str(exc) or type(exc).__name__).split())
    lowered = text.lower()
    if isinstance(exc, TransportProblem):  # the transport's own diagnosis (size cap, redirect, 429, breaker)
        return text
    if isinstance(exc, httpx.ConnectError):
        if any(s in lowered for s in ("name or service not known", "nodename nor servname", "getaddrinfo",
                                      "name resolution", "no address associated")):
            return f"the host name does not resolve ({text})"
        if "refused" in lowered:
            return "connection refused"
        if "certificate verify failed" in lowered:
            why = text.split("certificate verify failed:", 1)[-1].split("(_ssl", 1)[0].strip()
            return f"the TLS certificate is not trusted ({why or text}); --insecure (--scim-insecure) skips the check"
        if "ssl" in lowered or "certificate" in lowered or "tls" in lowered:
            return f"TLS handshake failed, does the port speak TLS? ({text})"
        return f"cannot connect ({text})"
    if isinstance(exc, httpx.RemoteProtocolError):
        if "illegal status line" in lowered or "invalid http" in lowered:
            return f"the answer is not HTTP; is this the SCIM service's port? ({text[:120]})"
        return f"the connection broke mid-exchange ({text})"
    if isinstance(exc, httpx.ReadError):
        return f"the connection was reset ({text})"
    return f"{type(exc).__name__}: {text}"


def _ua() -> str:
    from . import __version__

    return f"scim-conformance/{__version__}"
