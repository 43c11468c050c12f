"""Guards a run puts on its own traffic: ``--read-only`` refuses writes, ``--rate N`` paces requests.

Both are enforced in :class:`conformance.http.ScimHttp`, so no check can slip past them: a check that
tries to write during a read-only run is skipped with the reason, before anything is sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from .verdicts import NotApplicable

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ReadOnlyRefusal(NotApplicable):
    """A check tried to write during a read-only run: it is skipped, nothing was sent."""


def is_write(method: str, url: str) -> bool:
    """Does this request change data? A POST to ``.search`` is a query (RFC 7644 §3.4.3), not a write."""
    method = method.upper()
    if method not in WRITE_METHODS:
        return False
    return not (method == "POST" and urlsplit(url).path.rstrip("/").endswith("/.search"))


def refuse_write(method: str, url: str) -> None:
    raise ReadOnlyRefusal(f"read-only run: this check sends {method.upper()} {urlsplit(url).path}")


class RateLimiter:
    """A token bucket holding one token, refilled at ``rate`` per second: requests are spaced by at
    least ``1/rate`` seconds, so no window of one second sees more than ``rate`` requests plus one."""

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not rate > 0:
            raise ValueError("the rate must be a positive number of requests per second")
        self.interval = 1.0 / rate
        self._clock, self._sleep = clock, sleep
        self._next = clock()
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until the next request may be sent."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            self._sleep(slot - now)
