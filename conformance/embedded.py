"""The embedded default target: scim2-server (PyPI), in memory, on a free 127.0.0.1 port.

It runs in a thread of this process. ``wrap`` lets the project's tests put a fault-injecting
middleware in front of it; ``schemas``/``resource_types`` serve other discovery documents.
"""

from __future__ import annotations

import io
import logging
import secrets
import threading
from collections.abc import Callable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer, make_server

import scim2_server.service as _scim2_service
from scim2_models import Pagination, ScimProvider
from scim2_models import ResourceType as RTModel
from scim2_models import Schema as SchemaModel
from scim2_server.service import ScimService
from scim2_server.testserver.application import BEARER_TOKEN_SCHEME, BearerTokenApplication
from scim2_server.utils import (
    load_default_resource_types,
    load_default_schemas,
    load_default_service_provider_config,
)

from .embedded_storage import PrefixIndexedStorage

WSGIApp = Callable[..., Any]

_PARAMETRIZED: dict[tuple[Any, Any], Any] = {}


def _parametrize_kept(generic: Any, parameter: Any) -> Any:
    """scim2-server parametrizes its generic messages (``ListResponse[Union[User, Group]]``, ``PatchOp[User]``…)
    on every request. pydantic caches such classes only weakly, so each garbage collection dropped them and the
    next request rebuilt them (a pydantic schema build, ~13% of the server's time in a suite run). The same
    classes, kept alive: the server's answers are unchanged."""
    key = (generic, parameter)
    made = _PARAMETRIZED.get(key)
    if made is None:
        made = _PARAMETRIZED[key] = generic[parameter]
    return made


_scim2_service.parametrize = _parametrize_kept  # type: ignore[attr-defined]


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        logging.getLogger("conformance.embedded").debug(format, *args)


class _Http11(ServerHandler):
    http_version = "1.1"

    def cleanup_headers(self) -> None:
        super().cleanup_headers()
        code = int(str(self.status).split(" ", 1)[0])
        if "Content-Length" not in self.headers and code not in (204, 304):  # the body ends with the connection
            self.headers["Connection"] = "close"
            self.request_handler.close_connection = True  # type: ignore[attr-defined]


class _KeepAliveHandler(_QuietHandler):
    """HTTP/1.1 with persistent connections: wsgiref's handler answers one request per connection, so every
    request of the suite paid a TCP connect and a server thread; here a connection serves many requests."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # no 40 ms delayed-ACK stall between the writes of an answer
    wbufsize = -1  # status line, headers and body leave in one send (flushed after each answer)

    def handle(self) -> None:
        self.close_connection = True
        self._one()
        while not self.close_connection:
            self._one()

    def _one(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline or len(self.raw_requestline) > 65536:
            self.close_connection = True
            return
        if not self.parse_request():
            return
        body: Any = self.rfile
        if self.headers.get("Transfer-Encoding"):  # a chunked body: read to the end of the connection
            self.close_connection = True
        else:  # the whole body, so whatever the application leaves unread never reaches the next request
            body = io.BytesIO(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        handler = _Http11(body, self.wfile, self.get_stderr(), self.get_environ(), multithread=True)
        handler.request_handler = self  # type: ignore[attr-defined]
        handler.run(self.server.get_app())  # type: ignore[attr-defined]
        self.wfile.flush()


def build_app(
    token: str,
    schemas: list[dict[str, Any]] | None = None,
    resource_types: list[dict[str, Any]] | None = None,
) -> WSGIApp:
    """A scim2-server WSGI application set up as its ``scim2-server`` command does."""
    schema_objs = (
        [SchemaModel.model_validate(s) for s in schemas] if schemas else list(load_default_schemas().values())
    )
    rt_objs = (
        [RTModel.model_validate(r) for r in resource_types]
        if resource_types
        else list(load_default_resource_types().values())
    )
    config = load_default_service_provider_config()
    # Cursor pagination (RFC 9865) besides startIndex/count, so the cursor checks run on the default target.
    config.pagination = Pagination(cursor=True, index=True, default_pagination_method="index",
                                   default_page_size=100, max_page_size=1000, cursor_timeout=3600)
    # With a token, it announces the scheme (RFC 7643 §5 requires authenticationSchemes).
    config.authentication_schemes = [*(config.authentication_schemes or []), BEARER_TOKEN_SCHEME]
    provider = ScimProvider.from_discovery(schema_objs, rt_objs, config=config)
    service = ScimService(provider, secret=secrets.token_urlsafe(32))
    return BearerTokenApplication(PrefixIndexedStorage(), provider, service=service, bearer_tokens=[token])


class EmbeddedTarget:
    """Start with ``with EmbeddedTarget() as target: target.url``."""

    def __init__(
        self,
        token: str | None = None,
        wrap: Callable[[WSGIApp], WSGIApp] | None = None,
        schemas: list[dict[str, Any]] | None = None,
        resource_types: list[dict[str, Any]] | None = None,
    ):
        self.token = token or secrets.token_hex(24)  # hex: never a leading "-" that argparse would take for an option
        app = build_app(self.token, schemas, resource_types)
        self.app = wrap(app) if wrap else app
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v2"

    def start(self) -> EmbeddedTarget:
        self._server = make_server("127.0.0.1", 0, self.app, server_class=_Server, handler_class=_KeepAliveHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="scim-embedded", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> EmbeddedTarget:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
