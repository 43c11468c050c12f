"""The configuration file: ``scim-conformance.toml``, or ``[tool.scim-conformance]`` in ``pyproject.toml``.

Keys are the long options of ``scim-conformance run`` (``url``, ``profile``, ``timeout``, ``select``,
``baseline``, ``fail-on``, ...) and a ``[reports]`` table with ``json``, ``junit``, ``html`` and ``allure``.
Options given on the command line win. Relative paths are taken from the folder of the file.

Secrets never live in the file: the token comes from ``$SCIM_TOKEN`` (or the variable named by
``token-env``); a ``token`` key is refused. The suite only reads the file, it never writes it.
"""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path
from typing import Any

from . import ReportError

CONFIG_NAME = "scim-conformance.toml"
REPORT_KEYS = ("json", "junit", "html", "allure")
PATH_KEYS = {"json", "junit", "html", "allure", "baseline", "reports"}
# Options whose values are credentials (compared with "-" as "_"): refused in a file.
SECRET_KEYS = {"token", "basic", "oauth_client_secret", "header", "password", "secret", "api_key"}


def find(start: Path | None = None) -> tuple[Path, dict[str, Any]] | None:
    """The configuration in effect in ``start`` (default: the working folder), or None."""
    folder = start or Path.cwd()
    own = folder / CONFIG_NAME
    if own.is_file():
        return own, _read(own)
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        table = _read(pyproject).get("tool", {}).get("scim-conformance")
        if isinstance(table, dict):
            return pyproject, table
    return None


def load(path: str | Path) -> tuple[Path, dict[str, Any]]:
    path = Path(path)
    data = _read(path)
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("scim-conformance", {})
    return path, data


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"configuration {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"configuration {path}: cannot read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ReportError(f"configuration {path}: not TOML ({exc})") from None


def _actions(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {a.dest: a for a in parser._actions if a.dest not in ("help", argparse.SUPPRESS)}


def defaults(path: Path, table: dict[str, Any], parser: argparse.ArgumentParser) -> dict[str, Any]:
    """The file's settings as argparse defaults of the ``run`` parser (one-line errors for bad keys)."""
    where = f"configuration {path}"
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if key == "reports":
            if not isinstance(value, dict):
                raise ReportError(f"{where}: [reports] must be a table with {', '.join(REPORT_KEYS)}")
            for rkey, rvalue in value.items():
                if rkey not in REPORT_KEYS:
                    raise ReportError(f"{where}: unknown report {rkey!r} (known: {', '.join(REPORT_KEYS)})")
                flat[rkey] = rvalue
        else:
            flat[key] = value
    actions = _actions(parser)
    out: dict[str, Any] = {}
    for key, value in flat.items():
        if key.lower().replace("-", "_") in SECRET_KEYS:
            raise ReportError(
                f"{where}: {key!r} does not belong in a file; set SCIM_TOKEN in the environment "
                "(or name another variable with token-env)"
            )
        if key == "token-env":
            if not isinstance(value, str) or not value:
                raise ReportError(f"{where}: token-env must name an environment variable")
            out["token_env"] = value
            continue
        dest = key.replace("-", "_")
        if dest not in actions and dest in ("profile", "profiles"):  # either spelling, whatever the option is
            dest = "profile" if "profile" in actions else "profiles"
        action = actions.get(dest)
        if action is None or not action.option_strings and dest != "url":
            known = sorted(k.replace("_", "-") for k, a in actions.items() if a.option_strings or k == "url")
            raise ReportError(f"{where}: unknown key {key!r} (known: {', '.join([*known, 'reports', 'token-env'])})")
        out[dest] = _convert(where, key, value, action, path.parent if key in PATH_KEYS or dest in PATH_KEYS else None)
    return out


def _convert(where: str, key: str, value: Any, action: argparse.Action, base: Path | None) -> Any:
    many = isinstance(action, argparse._AppendAction) or action.nargs in ("*", "+")
    if isinstance(action, argparse._StoreTrueAction | argparse._StoreFalseAction):
        if not isinstance(value, bool):
            raise ReportError(f"{where}: {key} must be true or false")
        return value
    if many:
        values = value if isinstance(value, list) else [value]
        return [_scalar(where, key, v, action, base) for v in values]
    if isinstance(value, list):
        raise ReportError(f"{where}: {key} takes one value, not a list")
    return _scalar(where, key, value, action, base)


def _scalar(where: str, key: str, value: Any, action: argparse.Action, base: Path | None) -> Any:
    if isinstance(value, dict | list):
        raise ReportError(f"{where}: {key} must be a single value")
    if base is not None:
        value = str(base / Path(str(value)).expanduser())
    if action.type is not None and not isinstance(value, bool):
        try:
            value = action.type(value)
        except (TypeError, ValueError):
            raise ReportError(f"{where}: {key} = {value!r} is not valid") from None
    if action.choices is not None and value not in action.choices:
        raise ReportError(f"{where}: {key} must be one of {', '.join(map(str, action.choices))}, not {value!r}")
    return value


def apply(parser: argparse.ArgumentParser, run_parser: argparse.ArgumentParser, argv: list[str]) -> Path | None:
    """Find the configuration (``--config PATH`` or the working folder) and make it the run's defaults."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config")
    pre.add_argument("--no-config", action="store_true")
    known, _ = pre.parse_known_args(argv)
    if known.no_config:
        return None
    found = load(known.config) if known.config else find()
    if found is None:
        return None
    path, table = found
    values = defaults(path, table, run_parser)
    for action in run_parser._actions:  # a repeatable option given on the command line replaces the file's list
        if (
            isinstance(action, argparse._AppendAction)
            and action.dest in values
            and any(arg == opt or arg.startswith(opt + "=") for arg in argv for opt in action.option_strings)
        ):
            del values[action.dest]
    run_parser.set_defaults(**values)
    return path
