"""``scim-conformance cleanup``: remove what an interrupted or crashed run left on the target.

The suite names everything it creates ``<run id>-...`` (the run id is ``sct`` + 8 hex digits), in
the naming attribute of the resource type (userName, displayName, ...). Cleanup asks each declared
resource type for ``<naming attribute> sw "<prefix>"``, keeps only the resources whose naming value
really starts with the prefix (the server's filter is never trusted), prints each one and deletes
it. Nothing without the prefix is touched, and the tenant is never listed without that filter.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .discovery import Discovery, ResourceType
from .engine import RUN_PREFIX
from .http import ScimHttp
from .payloads import naming_attribute
from .support import get_ci
from .verdicts import ExchangeError

RUN_ID = re.compile(rf"^{RUN_PREFIX}[0-9a-f]{{8}}$")
ANY_RUN_TAG = re.compile(rf"^{RUN_PREFIX}[0-9a-f]{{8}}-")
PAGE = 100
MAX_PAGES = 200  # 20,000 leftovers per resource type at most: a bound, never a walk of the tenant


class CleanupError(Exception):
    """Cleanup cannot be done safely: one line says why."""


@dataclass
class Leftover:
    rt: ResourceType
    id: str
    attribute: str
    name: str

    @property
    def path(self) -> str:
        return f"{self.rt.path}/{self.id}"


def matcher(run_id: str | None) -> tuple[str, Callable[[str], bool]]:
    """The filter prefix to ask for and the exact test a naming value must pass."""
    if run_id is None:
        return RUN_PREFIX, lambda name: bool(ANY_RUN_TAG.match(name))
    if not RUN_ID.match(run_id):
        raise CleanupError(f"a run id looks like {RUN_PREFIX}0123abcd (the report's run_id), not {run_id!r}")
    return f"{run_id}-", lambda name: name.startswith(f"{run_id}-")


def find(http: ScimHttp, discovery: Discovery, run_id: str | None, warn: Callable[[str], None]) -> list[Leftover]:
    """The suite's resources of ``run_id`` (or of every run) on the target, by declared resource type."""
    if not discovery.supports("filter"):
        raise CleanupError("the target does not advertise filter support, so the suite's resources cannot be "
                           "found without listing the whole tenant; nothing was deleted")
    prefix, ours = matcher(run_id)
    found: list[Leftover] = []
    for rt in discovery.resource_types:
        attr = naming_attribute(discovery, rt)
        if attr is None:
            warn(f"{rt.name}: no naming attribute to tell the suite's resources from others; not searched")
            continue
        start = 1
        for _ in range(MAX_PAGES):
            reply = http.get(rt.path, params={"filter": f'{attr} sw "{prefix}"', "startIndex": start,
                                              "count": PAGE})
            body = reply.maybe_json()
            if reply.status != 200 or not isinstance(body, dict):
                raise CleanupError(f"searching {rt.endpoint} for {prefix!r} answered {reply.status}; "
                                   "nothing was deleted")
            resources = get_ci(body, "Resources")[1] or []
            for res in resources if isinstance(resources, list) else []:
                name = get_ci(res, attr)[1] if isinstance(res, dict) else None
                rid = res.get("id") if isinstance(res, dict) else None
                if isinstance(name, str) and isinstance(rid, str) and rid and ours(name):
                    found.append(Leftover(rt, rid, attr, name))
            total = get_ci(body, "totalResults")[1]
            if not resources or not isinstance(total, int) or start + len(resources) > total:
                break
            start += len(resources)
    return found


def order(leftovers: list[Leftover], discovery: Discovery) -> list[Leftover]:
    """Last declared resource type first (Groups before the Users they may hold), then by name."""
    rank = {rt.name: i for i, rt in enumerate(discovery.resource_types)}
    return sorted(leftovers, key=lambda x: (-rank.get(x.rt.name, 0), x.name))


def remove(
    http: ScimHttp,
    discovery: Discovery,
    run_id: str | None,
    *,
    dry_run: bool = False,
    say: Callable[[str], None] = print,
) -> tuple[list[Leftover], list[str]]:
    """Delete the leftovers; returns what was deleted (or would be, with ``dry_run``) and the failures."""
    leftovers = order(find(http, discovery, run_id, say), discovery)
    done: list[Leftover] = []
    failed: list[str] = []
    for item in leftovers:
        what = f"{item.rt.endpoint}/{item.id} ({item.attribute} {item.name})"
        if dry_run:
            say(f"would delete {what}")
            done.append(item)
            continue
        try:
            reply = http.delete(item.path)
        except ExchangeError as exc:
            failed.append(f"{what}: {exc.message}")
            say(f"could not delete {what}: {exc.message}")
            continue
        if reply.status in (200, 204, 404):
            say(f"deleted {what}")
            done.append(item)
        else:
            failed.append(f"{what}: DELETE answered {reply.status}")
            say(f"could not delete {what}: DELETE answered {reply.status}")
    return done, failed


def summary(done: list[Any], failed: list[str], run_id: str | None, dry_run: bool) -> str:
    scope = f"run {run_id}" if run_id else "every run"
    verb = "would delete" if dry_run else "deleted"
    return f"{scope}: {verb} {len(done)} resource(s)" + (f", {len(failed)} could not be deleted" if failed else "")
