"""The transport under :class:`conformance.http.ScimHttp`: what keeps a broken target from breaking the run.

A target can be down, slow, hostile or misconfigured. Each of these turns into an httpx transport
error with a one-line reason (``ScimHttp`` makes it an :class:`~conformance.verdicts.ExchangeError`,
so the check that met it gives *error* and the run goes on), and nothing waits past its budget:

- **Deadline**: one request (one hop) gets ``timeout`` seconds in all: connecting, TLS, sending and
  the whole answer. httpx's own timeouts bound each socket operation only, so an answer trickling a
  byte at a time would never end; here every socket operation is clamped to what is left of the
  request's deadline.
- **Size cap**: an answer larger than ``max_body`` bytes (declared or streamed) is cut off with an
  error, so an endless body cannot fill the memory or the report.
- **Redirects** are followed only within the origin of the request (scheme, host, port), at most
  ``MAX_REDIRECTS`` hops; a redirect to another origin is an error, never followed with the credentials.
- **429 / 503 with Retry-After**: the wait the target asks for is honoured, at most ``MAX_RETRIES``
  times and as long as the waits of one request add up to no more than its timeout; a longer wait, or
  still no answer, is an error.
- **A failing target is not hammered**: after ``FAILING_AFTER`` answers in a row that are 5xx (501
  Not Implemented excepted: it is a regular answer) or broken exchanges, requests fail at once with
  "the target keeps failing", except one probe every ``PROBE_EVERY`` seconds (an answer closes the
  breaker again) and DELETEs, so that the suite can still remove what it created. A 5xx answering a request
  sent to provoke one (inside :func:`provoking`, e.g. a robustness probe) is a finding, not a storm: it
  does not count.
"""

from __future__ import annotations

import contextlib
import email.utils
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import httpcore
import httpx

MAX_BODY = 16 * 1024 * 1024  # bytes of one answer the suite reads at most
MAX_REDIRECTS = 5
MAX_RETRIES = 3  # retries after 429 (or 503 with Retry-After)
FAILING_AFTER = 10  # 5xx answers / broken exchanges in a row that open the breaker
PROBE_EVERY = 5.0  # seconds between the requests let through while the breaker is open
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
NO_REDIRECTS = "scim_no_redirects"  # request extension: hand the redirect itself back to the check (/Me)
REDIRECTS = "scim_redirects"  # response extension: the redirects followed to reach it, [(status, location)]


class TransportProblem(httpx.TransportError):
    """A broken exchange the transport detected itself; ``str()`` is the one-line reason."""


class BodyTooLarge(TransportProblem):
    pass


class RedirectRefused(TransportProblem):
    pass


class RateLimited(TransportProblem):
    pass


class TargetKeepsFailing(TransportProblem):
    pass


# -- the deadline ---------------------------------------------------------------------------------


class _Deadline(threading.local):
    at: float | None = None  # time.monotonic() by which the current request must be done
    budget: float = 0.0


class _DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every operation waits at most what is left of the request's deadline."""

    def __init__(self, inner: httpcore.NetworkStream, backend: DeadlineBackend):
        self._inner = inner
        self._backend = backend

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        with self._backend.bounded(httpcore.ReadTimeout, timeout) as left:
            return self._inner.read(max_bytes, left)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        with self._backend.bounded(httpcore.WriteTimeout, timeout) as left:
            self._inner.write(buffer, left)

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None):
        with self._backend.bounded(httpcore.ConnectTimeout, timeout) as left:
            return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, left), self._backend)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """Wraps httpcore's network backend so that no socket operation outlives the request's deadline."""

    def __init__(self, inner: httpcore.NetworkBackend, deadline: _Deadline):
        self._inner = inner
        self._deadline = deadline

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        with self.bounded(httpcore.ConnectTimeout, timeout) as left:
            stream = self._inner.connect_tcp(host, port, left, local_address, socket_options)
        return _DeadlineStream(stream, self)

    def connect_unix_socket(self, path, timeout=None, socket_options=None):  # pragma: no cover - not used
        with self.bounded(httpcore.ConnectTimeout, timeout) as left:
            stream = self._inner.connect_unix_socket(path, left, socket_options)
        return _DeadlineStream(stream, self)

    def sleep(self, seconds: float) -> None:  # pragma: no cover - httpcore's retries are off
        self._inner.sleep(seconds)

    def bounded(self, kind: type[Exception], timeout: float | None) -> _Bounded:
        return _Bounded(self._deadline, kind, timeout)


class _Bounded:
    """``with backend.bounded(kind, timeout) as left``: ``left`` is the timeout clamped to the deadline;
    a timeout once the deadline has passed is reported as the deadline, with its budget."""

    def __init__(self, deadline: _Deadline, kind: type[Exception], timeout: float | None):
        self._deadline, self._kind, self._timeout = deadline, kind, timeout

    def __enter__(self) -> float | None:
        at = self._deadline.at
        if at is None:
            return self._timeout
        left = at - time.monotonic()
        if left <= 0:
            raise self._kind(_over_budget(self._deadline.budget))
        return left if self._timeout is None else min(self._timeout, left)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        at = self._deadline.at
        if exc_type is not None and issubclass(exc_type, httpcore.TimeoutException) and at is not None:
            if time.monotonic() >= at - 0.01:
                raise self._kind(_over_budget(self._deadline.budget)) from None
        return False


DEADLINE = "no complete answer within the"


def _over_budget(budget: float) -> str:
    return f"{DEADLINE} {budget:g} s allowed per request (--timeout)"


def is_deadline(exc: BaseException) -> bool:
    """Did the request's overall deadline pass (rather than one socket operation's timeout)?"""
    return str(exc).startswith(DEADLINE)


# -- the transport --------------------------------------------------------------------------------


class Breaker:
    """Counts failures in a row; when open, refuses requests at once but lets a probe through now and then."""

    def __init__(
        self,
        threshold: int = FAILING_AFTER,
        probe_every: float = PROBE_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.threshold, self.probe_every, self._clock = threshold, probe_every, clock
        self.failures = 0
        self.last_reason = ""
        self.refused = 0  # requests not sent because the breaker was open
        self._last_sent = 0.0
        self._lock = threading.Lock()  # a parallel run (-n N) counts from several threads
        self._local = threading.local()

    @property
    def provoking(self) -> int:
        """> 0 while this thread sends requests meant to provoke errors (their 5xx do not count). Per thread:
        in a parallel run, one check's provoking must not hide another check's unprovoked 5xx."""
        return getattr(self._local, "provoking", 0)

    @provoking.setter
    def provoking(self, value: int) -> None:
        self._local.provoking = value

    @property
    def open(self) -> bool:
        return self.failures >= self.threshold

    def before(self, request: httpx.Request) -> None:
        with self._lock:
            now = self._clock()
            if self.open and request.method != "DELETE" and now - self._last_sent < self.probe_every:
                self.refused += 1
                raise TargetKeepsFailing(
                    f"not sent: the target keeps failing ({self.failures} answers in a row were 5xx or broken; "
                    f"last: {self.last_reason})"
                )
            self._last_sent = now

    def answered(self, request: httpx.Request, status: int) -> None:
        if status >= 500 and status != 501:
            if not self.provoking:
                self.failed(f"{request.method} {request.url.path} answered {status}")
        else:
            with self._lock:
                self.failures = 0

    def failed(self, reason: str) -> None:
        with self._lock:
            self.failures += 1
            self.last_reason = reason


class ResilientTransport(httpx.BaseTransport):
    """httpx transport adding the deadline, the size cap, same-origin redirects, Retry-After and the breaker."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        verify: bool = True,
        max_body: int = MAX_BODY,
        inner: httpx.BaseTransport | None = None,
        proxy_for: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.timeout = timeout
        self.max_body = max_body
        self.breaker = Breaker()
        self._sleep = sleep
        self._deadline = _Deadline()
        if inner is None:
            inner = httpx.HTTPTransport(verify=verify, proxy=_env_proxy(proxy_for) if proxy_for else None)
            pool = getattr(inner, "_pool", None)
            if pool is not None and isinstance(getattr(pool, "_network_backend", None), httpcore.NetworkBackend):
                pool._network_backend = DeadlineBackend(pool._network_backend, self._deadline)
        self._inner = inner

    def close(self) -> None:
        self._inner.close()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.breaker.before(request)
        try:
            response = self._follow(request)
        except TargetKeepsFailing:
            raise
        except httpx.TransportError as exc:
            self.breaker.failed(f"{request.method} {request.url.path}: {exc or type(exc).__name__}")
            raise
        return response  # the breaker hears of it once the body is read (_CappedBody)

    # -- redirects ------------------------------------------------------------------------------------
    def _follow(self, request: httpx.Request) -> httpx.Response:
        hops: list[tuple[int, str]] = []
        for _ in range(MAX_REDIRECTS + 1):
            response = self._send_retrying(request)
            location = response.headers.get("location")
            if response.status_code not in REDIRECT_CODES or not location or request.extensions.get(NO_REDIRECTS):
                if hops:
                    response.extensions[REDIRECTS] = hops
                return response
            response.close()
            try:
                target = request.url.join(location)
            except httpx.InvalidURL:
                raise RedirectRefused(f"{response.status_code} redirect to an invalid URL {location[:100]!r}") from None
            if _origin(target) != _origin(request.url):
                raise RedirectRefused(
                    f"{response.status_code} redirect to {_show(target)}, another origin than "
                    f"{_show(request.url)}: not followed (the credentials would go along); "
                    "give the URL the target redirects to"
                )
            hops.append((response.status_code, str(target)))
            request = _redirected(request, target, response.status_code)
        raise RedirectRefused(f"more than {MAX_REDIRECTS} redirects in a row (last to {_show(request.url)})")

    # -- 429 / 503 ------------------------------------------------------------------------------------
    def _send_retrying(self, request: httpx.Request) -> httpx.Response:
        waited = 0.0  # all the waits of one request together stay within its timeout
        for attempt in range(MAX_RETRIES + 1):
            response = self._send_once(request)
            status = response.status_code
            if status not in (429, 503):
                return response
            wait = retry_after(response.headers.get("retry-after"))
            if status == 503 and wait is None:
                return response  # an answer like any other 5xx
            response.close()
            if attempt == MAX_RETRIES:
                raise RateLimited(f"still {status} after {MAX_RETRIES} retries honouring Retry-After")
            if wait is None:
                wait = float(2**attempt)  # 429 without Retry-After: 1, 2, 4 s
            if waited + wait > self.timeout:
                raise RateLimited(
                    f"{status}: the target asks to retry after {wait:g} s, longer than the suite waits "
                    f"({self.timeout:g} s in all per request, the request timeout)"
                )
            self._sleep(wait)
            waited += wait
        raise AssertionError("unreachable")  # pragma: no cover

    # -- one hop --------------------------------------------------------------------------------------
    def _send_once(self, request: httpx.Request) -> httpx.Response:
        self._deadline.budget = self.timeout
        self._deadline.at = time.monotonic() + self.timeout
        try:
            response = self._inner.handle_request(request)
        except BaseException:
            self._deadline.at = None
            raise
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            response.close()
            self._deadline.at = None
            raise BodyTooLarge(
                f"the answer declares {int(declared)} bytes, more than the {_mib(self.max_body)} the suite reads"
            )
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_CappedBody(response, self.max_body, self._deadline, self.breaker, request),
            extensions=response.extensions,
            request=request,
        )


class _CappedBody(httpx.SyncByteStream):
    """The answer's body, cut off with an error past ``cap`` bytes; the deadline holds until it is read."""

    def __init__(
        self, response: httpx.Response, cap: int, deadline: _Deadline, breaker: Breaker, request: httpx.Request
    ):
        self._response, self._cap, self._deadline = response, cap, deadline
        self._breaker, self._request = breaker, request

    def __iter__(self) -> Iterator[bytes]:
        seen = 0
        try:
            for chunk in self._response.stream:
                seen += len(chunk)
                if seen > self._cap:
                    raise BodyTooLarge(f"the answer is larger than the {_mib(self._cap)} the suite reads; cut off")
                yield chunk
            self._breaker.answered(self._request, self._response.status_code)
        except httpx.TransportError as exc:
            self._breaker.failed(f"{self._request.method} {self._request.url.path}: {exc or type(exc).__name__}")
            raise

    def close(self) -> None:
        self._deadline.at = None
        self._response.close()


@contextlib.contextmanager
def provoking(http: Any) -> Iterator[None]:
    """Requests sent inside are meant to provoke errors (bad or hostile input): a 5xx answering them is
    the check's finding, not a sign that the target keeps failing, so the breaker does not count it."""
    breaker = getattr(getattr(http, "transport", None), "breaker", None)
    if not isinstance(breaker, Breaker):
        yield
        return
    breaker.provoking += 1
    try:
        yield
    finally:
        breaker.provoking -= 1


def is_provoking(transport: Any) -> bool:
    """Is a request meant to provoke an error being sent through ``transport`` (see :func:`provoking`)?"""
    breaker = getattr(transport, "breaker", None)
    return isinstance(breaker, Breaker) and breaker.provoking > 0


def read_capped(response: httpx.Response, cap: int = MAX_BODY) -> bytes:
    """The decoded body of ``response``, at most ``cap`` bytes (a compressed answer can swell)."""
    parts: list[bytes] = []
    seen = 0
    try:
        for chunk in response.iter_bytes():
            seen += len(chunk)
            if seen > cap:
                raise BodyTooLarge(f"the decoded answer is larger than the {_mib(cap)} the suite reads; cut off")
            parts.append(chunk)
    finally:
        response.close()
    return b"".join(parts)


# -- helpers ----------------------------------------------------------------------------------------


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or an HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default = {"http": 80, "https": 443}.get(url.scheme)
    return (url.scheme, url.host.lower(), url.port or default)


def _show(url: httpx.URL) -> str:
    return str(url.copy_with(query=None, fragment=None))


def _redirected(request: httpx.Request, target: httpx.URL, status: int) -> httpx.Request:
    """The next hop: 303 (and a 301/302 answering a POST, as browsers do) becomes a GET without a body;
    307/308 repeat the method and the body."""
    method, content = request.method, request.content
    headers = httpx.Headers(request.headers)
    if status == 303 or (status in (301, 302) and method == "POST"):
        method, content = ("HEAD" if method == "HEAD" else "GET"), b""
        for name in ("content-type", "content-length", "transfer-encoding"):
            headers.pop(name, None)
    headers.pop("host", None)
    return httpx.Request(method, target, headers=headers, content=content or None, extensions=request.extensions)


def _env_proxy(url: str) -> str | None:
    """The proxy the environment names for ``url`` (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY)."""
    parsed = httpx.URL(url)
    proxies = urllib.request.getproxies()
    if parsed.host and urllib.request.proxy_bypass(parsed.host):
        return None
    return proxies.get(parsed.scheme) or proxies.get("all")


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):g} MiB" if n >= 1024 * 1024 else f"{n} bytes"
