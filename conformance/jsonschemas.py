"""The JSON Schemas of schemas/ (RFC 7643 resources and messages, and our report), and validation."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator


def _schema_dir() -> Path:
    """schemas/ as installed inside the package, or the repository's schemas/ folder in a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "schemas", here.parent / "schemas"):
        if (candidate / "report.schema.json").is_file():
            return candidate
    raise FileNotFoundError(f"the JSON Schemas are missing (looked in {here / 'schemas'} and {here.parent})")


@functools.cache
def load(name: str) -> dict[str, Any]:
    return json.loads((_schema_dir() / f"{name}.schema.json").read_text(encoding="utf-8"))


@functools.cache
def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(load(name))


def problems(name: str, instance: Any, limit: int = 5) -> list[str]:
    """Where ``instance`` breaks schema ``name``: one short line each, with the requirement cited."""
    out = []
    for error in sorted(validator(name).iter_errors(instance), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        req = _cited(error)
        out.append(f"{where}: {error.message}" + (f" [{req}]" if req else ""))
        if len(out) >= limit:
            break
    return out


def _cited(error: Any) -> str | None:
    """The requirement id annotating the failed sub-schema (for a missing property: that property's)."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "required":
        found = re.match(r"^'(.+)' is a required property$", error.message)
        prop = schema.get("properties", {}).get(found.group(1), {}) if found else {}
        if isinstance(prop, dict) and prop.get("x-requirement"):
            return prop["x-requirement"]
    return schema.get("x-requirement")
