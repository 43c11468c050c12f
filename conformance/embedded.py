"""The embedded default target: scim2-server (PyPI), in memory, on a free 127.0.0.1 port.

It runs in a thread of this process. ``wrap`` lets the project's tests put a fault-injecting
middleware in front of it; ``schemas``/``resource_types`` serve other discovery documents.

:class:`ProcessTarget` serves the same target from a child process. A parallel run (``-n N``) uses it:
threads of one interpreter take turns (the GIL), so with the server in the suite's process the checks'
threads and the server's would compete for one core; in its own process the server gets the other core,
as a real deployment would.
"""

from __future__ import annotations

import io
import logging
import multiprocessing
import secrets
import signal
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
    def storage(self) -> PrefixIndexedStorage:
        """scim2-server's storage behind whatever middleware ``wrap`` put in front (for tests and the bench)."""
        app = self.app
        while not hasattr(app, "storage"):
            app = app.app
        return app.storage

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


class ProcessTarget:
    """The embedded target served from a child process; the same ``url``/``token``/``start``/``stop``.

    The child ignores Ctrl-C (the terminal sends it to the whole process group), so the suite can still
    delete what it created after an interrupt; it stops when told to, or when this process goes away
    (its end of the pipe closes). ``wrap`` and ``setup(target)`` run in the child.
    """

    def __init__(self, token: str | None = None, wrap: Callable[[WSGIApp], WSGIApp] | None = None,
                 setup: Callable[[EmbeddedTarget], Any] | None = None):
        self.token = token or secrets.token_hex(24)
        self.wrap, self.setup = wrap, setup
        self.url = ""
        self.setup_result: Any = None
        self._proc: Any = None
        self._conn: Any = None

    def start(self) -> ProcessTarget:
        # fork: the child is ready in milliseconds and needs nothing pickled, but it is safe only while this
        # process has no other thread (one could hold a lock the child inherits locked); spawn otherwise
        forkable = "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1
        ctx = multiprocessing.get_context("fork" if forkable else "spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve_child, args=(child, self.token, self.wrap, self.setup),
                                 name="scim-embedded", daemon=True)
        self._proc.start()
        child.close()
        try:
            if not self._conn.poll(60):
                raise EOFError
            self.url, self.setup_result = self._conn.recv()
        except (EOFError, OSError):
            code = self._proc.exitcode
            self.stop()
            raise RuntimeError(
                "the embedded target's process did not start"
                + (f" (it ended with exit code {code})" if code is not None else " within 60 s")
            ) from None
        return self

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def stop(self) -> Any:
        """Stop the child; its final state (``{"resources": n}``, from ``_serve_child``), or None."""
        if self._proc is None:
            return None
        final = None
        try:
            self._conn.send("stop")
            if self._conn.poll(10):
                final = self._conn.recv()
        except (OSError, EOFError):
            pass
        self._proc.join(timeout=10)
        if self._proc.is_alive():
            self._proc.kill()
        self._conn.close()
        self._proc = None
        return final

    def __enter__(self) -> ProcessTarget:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _serve_child(conn: Any, token: str, wrap: Any, setup: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with EmbeddedTarget(token=token, wrap=wrap) as target:
        conn.send((target.url, setup(target) if setup else None))
        try:
            conn.recv()  # "stop", or EOF when the parent is gone
        except (EOFError, OSError):
            return
        conn.send({"resources": len(target.storage.resources)})


def start_embedded(workers: int = 1) -> EmbeddedTarget | ProcessTarget:
    """The embedded target for a run on ``workers`` threads: in this process for one, in its own beyond."""
    return (ProcessTarget() if workers > 1 else EmbeddedTarget()).start()
