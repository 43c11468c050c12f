"""The check registry: every check is a small function registered with its requirements.

    @check("create.status-201", "A create answers 201 Created",
           requirements=["7644-3.3-07"], level="MUST", per_resource_type=True)
    def create_answers_201(ctx, rt): ...

The module a check lives in is named for its RFC section; the section is derived from the first
requirement id. Ids are stable: they name results across runs and in baselines, so never rename one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .model import LEVELS

CheckFunc = Callable[..., Any]
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:[.-][a-z0-9]+)*$")


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    requirements: tuple[str, ...]
    level: str
    func: CheckFunc
    per_resource_type: bool = False
    needs: tuple[str, ...] = ()  # ServiceProviderConfig features that must be advertised
    resource_types: tuple[str, ...] = ()  # only these resource types (by schema URN); empty: all
    description: str = ""
    fix: str = ""
    tags: tuple[str, ...] = field(default=())

    @property
    def module(self) -> str:
        return self.func.__module__

    @property
    def section(self) -> str:
        rfc, section, _ = self.requirements[0].split("-")
        return f"RFC {rfc} §{section}"


REGISTRY: dict[str, Check] = {}


def check(
    id: str,
    title: str,
    *,
    requirements: list[str] | tuple[str, ...],
    level: str,
    per_resource_type: bool = False,
    needs: tuple[str, ...] | list[str] = (),
    resource_types: tuple[str, ...] | list[str] = (),
    fix: str = "",
    tags: tuple[str, ...] | list[str] = (),
) -> Callable[[CheckFunc], CheckFunc]:
    """Register a check. Its docstring is the description shown by reports (and ``explain``)."""
    if not ID_PATTERN.match(id):
        raise ValueError(f"check id {id!r} must be lower-case words joined by '.' or '-'")
    if level not in LEVELS:
        raise ValueError(f"check {id}: level must be one of {LEVELS}, not {level!r}")
    if not requirements:
        raise ValueError(f"check {id} cites no requirement")

    def register(func: CheckFunc) -> CheckFunc:
        if id in REGISTRY and REGISTRY[id].func.__qualname__ != func.__qualname__:
            raise ValueError(f"check id {id} is registered twice")
        REGISTRY[id] = Check(
            id=id,
            title=title,
            requirements=tuple(requirements),
            level=level,
            func=func,
            per_resource_type=per_resource_type,
            needs=tuple(needs),
            resource_types=tuple(resource_types),
            description=" ".join((func.__doc__ or "").split()),
            fix=fix,
            tags=tuple(tags),
        )
        return func

    return register


def all_checks() -> list[Check]:
    """Every registered check, in the order of the modules' RFC sections."""
    from . import checks  # noqa: F401  (importing the package registers the checks)

    return list(REGISTRY.values())
