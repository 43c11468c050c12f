"""Profiles: data files (profiles/*.toml) that adapt a run to a vendor, without Python per vendor.

A profile can
- add replay steps (``[[step]]``): the requests an IdP sends, in its order, with the answers it needs
  (run by :mod:`conformance.replay`, registered as checks ``profile.<name>.<step>``);
- skip checks with the documented reason (``[[skip]]``), change the severity of checks, requirements or
  whole levels (``[levels]``; ``"INFO"`` reports a finding without warning or failing);
- declare the capabilities it expects (``[capabilities]``, compared by a ``do = "capabilities"`` step);
- set the headers and path layout of every request (``[http]``, ``[paths]``), and the headers
  its replay steps send (``[client]``);
- complete what the suite creates (``[create.User]``: required attributes, single values, dropped ones).

Several profiles can be selected at once; :class:`Selection` merges them, and :func:`readiness` gives a
verdict per profile. The default profile ``rfc`` changes nothing: strict RFC 7643/7644.
"""

from __future__ import annotations

import copy
import functools
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .http import ScimHttp
from .model import LEVELS, Outcome, Result

DEFAULT = "rfc"
KINDS = ("base", "client", "server")
SEVERITIES = (*LEVELS, "INFO")  # INFO: a finding is shown, never a warning or a failure
INFO_PREFIX = "info: "
AUTH_STYLES = ("bearer", "oauth", "basic", "none")  # or "header:<Name>"; the HTTP scheme each one uses:
AUTH_SCHEMES = {"bearer": "bearer", "oauth": "bearer", "basic": "basic", "none": None}
STEP_PREFIX = "profile"


class ProfileError(ValueError):
    """A profile that does not exist or does not load: one line says which and why."""


@dataclass(frozen=True)
class Skip:
    check: str  # a check id or an id prefix ("patch.remove.value-filter", "bulk")
    reason: str
    source: str


@dataclass(frozen=True)
class CreateRule:
    """How a resource the suite creates is completed for the vendor (e.g. AWS requires name parts)."""

    require: dict[str, Any]  # dotted attribute -> value used when the suite's payload lacks it
    single: tuple[str, ...]  # multi-valued attributes limited to one (primary) value
    drop: tuple[str, ...]  # attributes the vendor refuses
    source: str


@dataclass
class Step:
    profile: str
    id: str
    title: str
    requirements: tuple[str, ...]
    level: str  # MUST: the IdP breaks (blocking); SHOULD: degraded; MAY/INFO: shown only
    cite: str  # where the vendor documents it: a vendor-facts.md line or the vendor URL
    need: str  # what the vendor needs back, in words
    unconfirmed: bool
    actions: list[dict[str, Any]]

    @property
    def check_id(self) -> str:
        return f"{STEP_PREFIX}.{self.profile}.{self.id}"

    @property
    def severity(self) -> str:
        return "INFO" if self.unconfirmed else self.level


@dataclass
class Profile:
    name: str
    title: str
    kind: str
    description: str
    sources: dict[str, str] = field(default_factory=dict)
    base_url: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # every request of the run
    auth: tuple[str, ...] = ()  # the auth styles the vendor documents (compared with the run's); empty: unknown
    paths: dict[str, str] = field(default_factory=dict)  # first path segment -> the vendor's
    client_headers: dict[str, str] = field(default_factory=dict)  # the replay steps' requests
    client_content_type: str | None = None
    levels: dict[str, str] = field(default_factory=dict)
    skips: list[Skip] = field(default_factory=list)
    capabilities: dict[str, bool] = field(default_factory=dict)
    capabilities_source: str = ""
    create: dict[str, CreateRule] = field(default_factory=dict)
    url_excludes: list[Skip] = field(default_factory=list)  # texts the vendor refuses in the base URL (check=text)
    steps: list[Step] = field(default_factory=list)
    file: str = ""

    @property
    def step_ids(self) -> set[str]:
        return {s.check_id for s in self.steps}


# -- loading -----------------------------------------------------------------------------------------------


def profile_dir() -> Path:
    """profiles/ as installed inside the package, or the repository's profiles/ folder in a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "profiledata", here.parent / "profiles"):
        if (candidate / f"{DEFAULT}.toml").is_file():
            return candidate
    raise ProfileError(f"the profiles are missing (looked in {here / 'profiledata'} and {here.parent / 'profiles'})")


@functools.cache
def available() -> dict[str, Profile]:
    """Every profile shipped with the suite, by name."""
    out = {}
    for path in sorted(profile_dir().glob("*.toml")):
        prof = load_file(path)
        out[prof.name] = prof
    return out


def get(name: str) -> Profile:
    profiles = available()
    if name not in profiles:
        raise ProfileError(f"unknown profile {name!r} (known: {', '.join(sorted(profiles))})")
    return profiles[name]


def load_file(path: Path) -> Profile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ProfileError(f"profile {path.name}: {exc}") from None
    try:
        return parse(data, path.stem, path.name)
    except (KeyError, TypeError, ValueError) as exc:
        raise ProfileError(f"profile {path.name}: {exc}") from None


def _str_map(value: Any, what: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError(f"{what} must be a table of strings")
    return dict(value)


def _severity(value: Any, what: str) -> str:
    if value not in SEVERITIES:
        raise ValueError(f"{what}: severity must be one of {', '.join(SEVERITIES)}, not {value!r}")
    return value


def parse(data: dict[str, Any], stem: str, file: str = "") -> Profile:
    """Build a :class:`Profile` from parsed TOML; raise ValueError with what is wrong."""
    name = data.get("name", stem)
    if name != stem:
        raise ValueError(f"name {name!r} must equal the file name {stem!r}")
    kind = data.get("kind", "base")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    for key in ("title", "description"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise ValueError(f"{key} is required")
    http = data.get("http", {})
    client = data.get("client", {})
    auth = http.get("auth", ())
    auth = (auth,) if isinstance(auth, str) else tuple(auth)
    for style in auth:
        if style not in AUTH_STYLES and not (isinstance(style, str) and style.startswith("header:") and len(style) > 7):
            raise ValueError(f"http.auth must be one of {', '.join(AUTH_STYLES)} or header:<Name>, not {style!r}")
    caps = data.get("capabilities", {})
    source = caps.get("source", "") if isinstance(caps, dict) else ""
    capabilities = {k: v for k, v in caps.items() if k != "source"} if isinstance(caps, dict) else {}
    if not all(isinstance(v, bool) for v in capabilities.values()):
        raise ValueError("capabilities must map feature names to true/false")
    levels = {k: _severity(v, f"levels.{k}") for k, v in data.get("levels", {}).items()}
    skips = []
    for raw in data.get("skip", []):
        if not raw.get("check") or not raw.get("reason") or not raw.get("source"):
            raise ValueError("every [[skip]] needs check, reason and source")
        skips.append(Skip(raw["check"], raw["reason"], raw["source"]))
    url_excludes = []
    for raw in data.get("target", {}).get("url_excludes", []):
        if not raw.get("text") or not raw.get("reason") or not raw.get("source"):
            raise ValueError("every target.url_excludes entry needs text, reason and source")
        url_excludes.append(Skip(raw["text"], raw["reason"], raw["source"]))
    create = {}
    for rt_name, raw in data.get("create", {}).items():
        create[rt_name] = CreateRule(
            require=dict(raw.get("require", {})),
            single=tuple(raw.get("single", [])),
            drop=tuple(raw.get("drop", [])),
            source=str(raw.get("source", "")),
        )
    prof = Profile(
        name=name,
        title=data["title"],
        kind=kind,
        description=" ".join(data["description"].split()),
        sources=_str_map(data.get("sources", {}), "sources"),
        base_url=str(data.get("base_url", "")),
        headers=_str_map(http.get("headers", {}), "http.headers"),
        auth=auth,
        paths=_str_map(data.get("paths", {}), "paths"),
        client_headers=_str_map(client.get("headers", {}), "client.headers"),
        client_content_type=client.get("content_type"),
        levels=levels,
        skips=skips,
        capabilities=capabilities,
        capabilities_source=source,
        create=create,
        url_excludes=url_excludes,
        file=file,
    )
    seen = set()
    for raw in data.get("step", []):
        step = _step(name, raw)
        if step.id in seen:
            raise ValueError(f"step {step.id} is defined twice")
        seen.add(step.id)
        prof.steps.append(step)
    return prof


def _step(profile: str, raw: dict[str, Any]) -> Step:
    sid = raw.get("id", "")
    for key in ("id", "title", "cite", "need"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise ValueError(f"step {sid or '?'}: {key} is required")
    reqs = raw.get("requirements")
    if not reqs or not all(isinstance(r, str) for r in reqs):
        raise ValueError(f"step {sid}: requirements must list at least one requirement id")
    actions = raw.get("do")
    if not isinstance(actions, list) or not actions or not all(isinstance(a, dict) for a in actions):
        raise ValueError(f"step {sid}: [[step.do]] must hold at least one action")
    return Step(
        profile=profile,
        id=sid,
        title=raw["title"],
        requirements=tuple(reqs),
        level=_severity(raw.get("level", "MUST"), f"step {sid}"),
        cite=" ".join(raw["cite"].split()),
        need=" ".join(raw["need"].split()),
        unconfirmed=bool(raw.get("unconfirmed", False)),
        actions=actions,
    )


# -- a selection of profiles for one run -------------------------------------------------------------------


class Selection:
    """The profiles chosen for a run, merged (later ones win where two set the same thing)."""

    def __init__(self, profiles: list[Profile]):
        self.profiles = profiles
        self.names = tuple(p.name for p in profiles)
        self._own_steps = {s.check_id: s for p in profiles for s in p.steps}

    @property
    def label(self) -> str:
        return ",".join(self.names)

    # which checks run, and how they are graded
    def selects(self, check_id: str, tags: tuple[str, ...]) -> bool:
        """Checks of a profile (tag ``profile:<name>``) run only when that profile is selected."""
        owners = {t.split(":", 1)[1] for t in tags if t.startswith("profile:")}
        return not owners or bool(owners & set(self.names))

    def skip_reason(self, check_id: str) -> str | None:
        for prof in reversed(self.profiles):
            for skip in prof.skips:
                if check_id == skip.check or check_id.startswith(skip.check + "."):
                    return f"profile {prof.name}: {skip.reason} ({skip.source})"
        return None

    def level(self, check_id: str, requirements: tuple[str, ...], level: str) -> str | None:
        """The severity the profiles give a check: by check id (or prefix), requirement id, then level name."""
        step = self._own_steps.get(check_id)
        for prof in reversed(self.profiles):
            for key, value in prof.levels.items():
                if check_id == key or check_id.startswith(key + "."):
                    return value
        if step is not None:
            return step.severity
        for prof in reversed(self.profiles):
            for rid in requirements:
                if rid in prof.levels:
                    return prof.levels[rid]
            if level in prof.levels:
                return prof.levels[level]
        return None

    # how requests are sent
    def http(self, url: str, token: str | None, **kw: Any) -> ScimHttp:
        """The run's client: with the profiles' headers and path layout when they set any."""
        headers: dict[str, str] = {}
        paths: dict[str, str] = {}
        for prof in self.profiles:
            headers.update(prof.headers)
            paths.update(prof.paths)
        if not headers and not paths:
            return ScimHttp(url, token, **kw)
        return ProfileHttp(url, token, profile_headers=headers, paths=paths, **kw)

    def complete(self, rt_name: str, body: dict[str, Any]) -> dict[str, Any]:
        """The suite's payload, completed the way the selected server profiles require."""
        for prof in self.profiles:
            rule = prof.create.get(rt_name)
            if rule is not None:
                body = apply_create_rule(rule, body)
        return body


class ProfileHttp(ScimHttp):
    """A client with a profile's headers (e.g. GitHub's required User-Agent) and path layout."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        profile_headers: dict[str, str],
        paths: dict[str, str],
        **kw: Any,
    ):
        super().__init__(base_url, token, **kw)
        self.profile_headers = profile_headers
        self.paths = paths

    def url(self, path: str) -> str:
        if not path.startswith(("http://", "https://")):
            first, sep, rest = path.lstrip("/").partition("/")
            if first in self.paths:
                path = self.paths[first] + sep + rest
        return super().url(path)

    def request(self, method: str, path: str, *, headers: dict[str, str] | None = None, **kw: Any):
        return super().request(method, path, headers={**self.profile_headers, **(headers or {})}, **kw)


def apply_create_rule(rule: CreateRule, body: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(body)
    lowered = {k.lower(): k for k in body}
    for name in rule.drop:
        body.pop(lowered.get(name.lower(), name), None)
    for name in rule.single:
        key = lowered.get(name.lower())
        if key in body and isinstance(body[key], list) and body[key]:
            first = dict(body[key][0]) if isinstance(body[key][0], dict) else body[key][0]
            if isinstance(first, dict):
                first["primary"] = True
            body[key] = [first]
    for dotted, value in rule.require.items():
        head, _, sub = dotted.partition(".")
        key = lowered.get(head.lower(), head)
        if sub:
            container = body.setdefault(key, {})
            if isinstance(container, dict) and not any(k.lower() == sub.lower() for k in container):
                container[sub] = value
        elif key not in body:
            body[key] = copy.deepcopy(value)
    return body


def select(names: tuple[str, ...] | list[str]) -> Selection:
    """The profiles named, in order, without repeats; none: the default ``rfc``."""
    unique = list(dict.fromkeys(n for n in names if n)) or [DEFAULT]
    return Selection([get(n) for n in unique])


# -- readiness ---------------------------------------------------------------------------------------------


def is_info(result: Result) -> bool:
    return result.message.startswith(INFO_PREFIX)


def auth_matches(prof: Profile, scheme: str | None, headers: tuple[str, ...] = ()) -> bool | None:
    """Does the run authenticate the way the vendor documents? None: the run sent no credentials."""
    if (scheme is None and not headers) or not prof.auth:
        return None
    for style in prof.auth:
        if style.startswith("header:") and style.split(":", 1)[1].lower() in {h.lower() for h in headers}:
            return True
        if scheme is not None and AUTH_SCHEMES.get(style) == scheme.lower():
            return True
    return False


def readiness(
    selection: Selection,
    results: list[Result],
    scheme: str | None = None,
    headers: tuple[str, ...] = (),
    url: str | None = None,
) -> list[dict[str, Any]]:
    """One verdict per selected profile: its own steps for an IdP; every check of the run for the others.
    ``scheme``/``headers``: how the run authenticated, compared with the auth styles the profile documents;
    ``url``: the base URL, checked against what the vendor refuses in it."""
    out = []
    for prof in selection.profiles:
        notes = [
            f"the base URL contains {rule.check!r}: {rule.reason} ({rule.source})"
            for rule in prof.url_excludes
            if url and rule.check in url.split("://", 1)[-1]
        ]
        own = [r for r in results if r.check in prof.step_ids]
        if prof.kind == "client":
            mine = own
        else:
            mine = own + [r for r in results if not r.check.startswith(STEP_PREFIX + ".")]
        blocking = [r for r in mine if r.outcome in (Outcome.FAIL, Outcome.ERROR)]
        warnings = [r for r in mine if r.outcome is Outcome.WARN and not is_info(r)]
        info = [r for r in mine if is_info(r)]
        skipped = [r for r in mine if r.outcome is Outcome.SKIP]
        ready = not blocking and not notes
        word_ok, word_bad = ("ready", "not ready") if prof.kind == "client" else ("conforms", "does not conform")
        noun = "step" if prof.kind == "client" else "check"
        if notes and not blocking:
            line = f"{prof.title}: {word_bad} — " + "; ".join(notes)
        elif blocking:
            names = ", ".join(_short(r, prof) for r in blocking[:6]) + (" …" if len(blocking) > 6 else "")
            plural = "s" if len(blocking) != 1 else ""
            line = f"{prof.title}: {word_bad} — {len(blocking)} blocking {noun}{plural}: {names}"
        else:
            passed = sum(1 for r in mine if r.outcome is Outcome.PASS and not is_info(r))
            line = f"{prof.title}: {word_ok} — {passed} {noun}{'s pass' if passed != 1 else ' passes'}"
        if warnings:
            line += (
                f"; {len(warnings)} warning{'s' if len(warnings) != 1 else ''}: "
                + ", ".join(_short(r, prof) for r in warnings[:4])
                + (" …" if len(warnings) > 4 else "")
            )
        if info:
            line += f"; {len(info)} info"
        if skipped:
            line += f"; {len(skipped)} skipped"
        if notes and blocking:
            line += "; " + "; ".join(notes)
        matches = auth_matches(prof, scheme, headers) if prof.kind != "base" else None
        if matches is False:
            used = scheme or "other headers"
            line += f"; auth: {prof.title} documents {' or '.join(prof.auth)}, this run used {used}"
        out.append(
            {
                "name": prof.name,
                "title": prof.title,
                "kind": prof.kind,
                "ready": ready,
                "verdict": line,
                "blocking": [r.id for r in blocking],
                "warnings": [r.id for r in warnings],
                "info": [r.id for r in info],
                "skipped": [r.id for r in skipped],
                "steps": len(own),
                "auth": {"documented": list(prof.auth), "used": scheme, "matches": matches},
                "notes": notes,
            }
        )
    return out


def verdicts(run: Any) -> list[dict[str, Any]]:
    """:func:`readiness` of a :class:`~conformance.engine.Run`, with how it authenticated."""
    from .auth import scheme_of

    headers = tuple(getattr(run.http, "auth_headers", {}) or {})
    return readiness(run.profile, run.results, scheme_of(run.http), headers, run.settings.url)


def _short(result: Result, prof: Profile) -> str:
    prefix = f"{STEP_PREFIX}.{prof.name}."
    return result.id[len(prefix) :] if result.id.startswith(prefix) else result.id
