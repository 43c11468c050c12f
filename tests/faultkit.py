"""A fault-injecting target: WSGI middleware over scim2-server, one switch per fault.

A fault is a small function registered with the checks it must make fail (``proves``) and the
checks it may also disturb (``collateral``, each with a reason). It receives the request and a
``forward`` callable that passes a (possibly changed) request on to scim2-server, and returns the
(possibly changed) response::

    @fault("spc-wrong-schema-urn", proves=["discovery.spc.answers"])
    def _(req: Request, forward: Forward) -> Response:
        resp = forward(req)
        if req.endpoint == "ServiceProviderConfig":
            resp.data = {**resp.data, "schemas": ["urn:wrong"]}
        return resp

The proof (tests/test_fault_proofs.py) runs the whole suite once per fault and asserts that every
check in ``proves`` gives fail or warn, and that no check outside ``proves`` and ``collateral``
does worse than on the clean target.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

WSGIApp = Callable[..., Any]


@dataclass
class Request:
    method: str
    path: str  # the full path, e.g. /v2/Users/abc
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def segments(self) -> list[str]:
        """Path segments after the /v2 prefix: ['Users', 'abc']."""
        parts = [p for p in self.path.split("/") if p]
        return parts[1:] if parts and parts[0] == "v2" else parts

    @property
    def endpoint(self) -> str:
        return self.segments[0] if self.segments else ""

    @property
    def is_item(self) -> bool:
        """A request on one resource: /Users/{id}."""
        return len(self.segments) == 2 and not self.segments[1].startswith(".")

    @property
    def data(self) -> Any:
        try:
            return json.loads(self.body) if self.body else None
        except (ValueError, RecursionError):  # RecursionError: the robustness checks' 50,000-deep arrays
            return None

    @data.setter
    def data(self, value: Any) -> None:
        self.body = json.dumps(value).encode()


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def set_header(self, name: str, value: str | None) -> None:
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name.lower()]
        if value is not None:
            self.headers.append((name, value))

    @property
    def data(self) -> Any:
        try:
            return json.loads(self.body) if self.body else None
        except (ValueError, RecursionError):  # RecursionError: the robustness checks' 50,000-deep arrays
            return None

    @data.setter
    def data(self, value: Any) -> None:
        self.body = json.dumps(value).encode()
        self.set_header("Content-Length", str(len(self.body)))


Forward = Callable[[Request], Response]
FaultFunc = Callable[[Request, Forward], Response]


@dataclass
class Fault:
    name: str
    func: FaultFunc
    proves: tuple[str, ...]
    collateral: dict[str, str] = field(default_factory=dict)  # check id (prefix) -> why it is disturbed too
    description: str = ""
    settings: dict[str, Any] = field(default_factory=dict)  # Settings the proof run needs (e.g. fuzz=True)


FAULTS: dict[str, Fault] = {}


def fault(name: str, *, proves: list[str], collateral: dict[str, str] | None = None,
          settings: dict[str, Any] | None = None):
    """Register a fault; ``proves`` and ``collateral`` name check ids (without the [ResourceType] part);
    ``settings``: Settings fields its proof run needs, e.g. ``{"fuzz": True}`` for a check that is opt-in."""

    def register(func: FaultFunc) -> FaultFunc:
        if name in FAULTS:
            raise ValueError(f"fault {name} is registered twice")
        FAULTS[name] = Fault(name, func, tuple(proves), dict(collateral or {}), " ".join((func.__doc__ or "").split()),
                             dict(settings or {}))
        return func

    return register


class FaultMiddleware:
    """WSGI middleware applying the fault switched on (``active``), or none."""

    def __init__(self, app: WSGIApp):
        self.app = app
        self.active: Fault | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if self.active is None:
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        req = Request(
            method=environ["REQUEST_METHOD"],
            path=environ.get("PATH_INFO", ""),
            query=dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)),
            headers={k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
            | ({"content-type": environ["CONTENT_TYPE"]} if environ.get("CONTENT_TYPE") else {}),
            body=body,
        )
        resp = self.active.func(req, lambda r: self._forward(environ, r))
        reason = {200: "OK", 201: "Created", 204: "No Content"}.get(resp.status, "Status")
        headers = [(k, v) for k, v in resp.headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(resp.body))))
        start_response(f"{resp.status} {reason}", headers)
        return [resp.body]

    def _forward(self, environ: dict[str, Any], req: Request) -> Response:
        env = dict(environ)
        env["REQUEST_METHOD"] = req.method
        env["PATH_INFO"] = req.path
        env["QUERY_STRING"] = urlencode(req.query)
        env["wsgi.input"] = io.BytesIO(req.body)
        env["CONTENT_LENGTH"] = str(len(req.body))
        for key in [k for k in env if k.startswith("HTTP_")]:
            del env[key]
        env.pop("CONTENT_TYPE", None)
        for name, value in req.headers.items():
            if name == "content-type":
                env["CONTENT_TYPE"] = value
            elif name != "content-length":
                env["HTTP_" + name.upper().replace("-", "_")] = value
        captured: dict[str, Any] = {}

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            captured["status"], captured["headers"] = int(status.split()[0]), list(headers)

        chunks = self.app(env, start)
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        return Response(captured["status"], captured["headers"], body)


# -- small helpers shared by the fault modules ------------------------------------------------------


def on(req: Request, method: str | None = None, endpoint: str | None = None, item: bool | None = None) -> bool:
    """Does ``req`` match? (method, first path segment, one-resource path)."""
    return (
        (method is None or req.method == method)
        and (endpoint is None or req.endpoint == endpoint)
        and (item is None or req.is_item == item)
    )
