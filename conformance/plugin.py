"""The pytest plugin (entry point ``pytest11``): ``pytest --scim-url URL --scim-token TOKEN``.

Each check × resource type becomes one pytest test ``conformance/suite.py::test_scim[<result id>]``.
The check runs in the set-up of the ``scim_result`` fixture, so that a broken exchange is a pytest
*error*, a violated MUST a *failure*, a violated SHOULD a pass with a :class:`ScimWarning`, and a
check that does not apply a *skip* with its reason. Without ``--scim-url``/``--scim-embedded`` the
plugin does nothing, so it never disturbs other test suites.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import pytest

from . import auth, report
from .embedded import EmbeddedTarget, ProcessTarget, start_embedded
from .engine import Case, Run, Settings, TargetUnusable, sigterm_as_interrupt
from .model import Outcome
from .profiles import INFO_PREFIX, ProfileError, verdicts
from .reporting import ReportError

SUITE_FILE = Path(__file__).with_name("suite.py")
STATE_KEY = pytest.StashKey["ScimSession"]()


class ScimWarning(UserWarning):
    """A SHOULD-level requirement is not met (outcome: warn)."""


class ScimSession:
    """The plugin's state for one pytest session: the run, and the embedded target if any."""

    def __init__(self, run: Run, target: EmbeddedTarget | ProcessTarget | None, json_path: str | None):
        self.run = run
        self.target = target
        self.json_path = json_path
        self.junit_path: str | None = None  # --scim-junit, --scim-html, --scim-baseline (plain pytest)
        self.html_path: str | None = None
        self.baseline_file: str | None = None
        self.baseline: list[dict[str, str]] = []
        self.written: dict[str, str] = {}  # report kind -> path, shown in the terminal summary
        self._cases: list[Case] | None = None
        self.done: dict[str, Any] = {}  # case id -> result, for cases a parallel run (-n) executed ahead

    def accepted(self, result: Any) -> str | None:
        """The reason the baseline gives for accepting this result's deviation, if it names it."""
        from .reporting.baseline import reason_for

        return reason_for(self.baseline, {"id": result.id, "check": result.check})

    @property
    def cases(self) -> list[Case]:
        if self._cases is None:
            self._cases = self.run.cases()
        return self._cases

    def close(self) -> None:
        try:
            self.run.finish()
            if self.json_path or self.junit_path or self.html_path:
                from .reporting import baseline as baseline_mod
                from .reporting.commands import write_formats

                data = report.build(self.run)
                if self.baseline_file:
                    baseline_mod.apply(data, self.baseline, self.baseline_file)
                self.written = write_formats(data, self.json_path, self.junit_path, self.html_path)
        finally:
            self.run.http.close()
            if self.target is not None:
                self.target.stop()


class PrestartedRun:
    """Handed to ``pytest.main(plugins=[...])`` by the CLI, which has already discovered the target."""

    def __init__(self, run: Run, target: EmbeddedTarget | ProcessTarget | None, json_path: str | None):
        self.session = ScimSession(run, target, json_path)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("scim-conformance", "SCIM 2.0 conformance suite")
    group.addoption("--scim-url", help="base URL of the SCIM service provider (e.g. https://host/scim/v2)")
    group.addoption("--scim-token", help="Bearer token (or set SCIM_TOKEN)")
    group.addoption("--scim-basic", metavar="USER:PASSWORD", help="HTTP Basic credentials (or set SCIM_BASIC)")
    group.addoption("--scim-oauth-token-url", metavar="URL", help="OAuth 2.0 token endpoint (client credentials)")
    group.addoption("--scim-oauth-client-id", metavar="ID", help="OAuth 2.0 client id")
    group.addoption("--scim-oauth-client-secret", metavar="SECRET",
                    help="OAuth 2.0 client secret (or set SCIM_OAUTH_CLIENT_SECRET)")
    group.addoption("--scim-oauth-scope", metavar="SCOPE", help="scope to ask the OAuth token for")
    group.addoption("--scim-oauth-client-auth", choices=["basic", "post"], default="basic",
                    help="how the client authenticates to the token endpoint (default: basic)")
    group.addoption("--scim-header", action="append", default=[], metavar="'NAME: VALUE'",
                    help="send this header with every request (repeatable; its value is redacted)")
    group.addoption("--scim-read-only", action="store_true",
                    help="send no POST/PUT/PATCH/DELETE: checks that would write are skipped")
    group.addoption("--scim-rate", type=float, metavar="N", help="send at most N requests per second")
    group.addoption(
        "--scim-embedded", action="store_true", help="start the embedded scim2-server and test it"
    )
    group.addoption("--scim-json", metavar="PATH", help="write the JSON report here")
    group.addoption("--scim-junit", metavar="PATH", help="write the JUnit XML report here (requirement ids included)")
    group.addoption("--scim-html", metavar="PATH", help="write the single-file HTML report here")
    group.addoption("--scim-baseline", metavar="FILE",
                    help="TOML list of accepted deviations ([[accepted]] id, reason): their tests xfail")
    group.addoption("--scim-timeout", type=float, default=10.0, help="seconds per request (default 10)")
    group.addoption("--scim-insecure", action="store_true", help="do not verify the target's TLS certificate")
    group.addoption(
        "--scim-select", action="append", default=[], metavar="PREFIX", help="run only checks whose id starts so"
    )
    group.addoption(
        "--scim-profile", action="append", default=[], metavar="NAME",
        help="vendor profile (repeatable; default rfc; list them: scim-conformance profiles)",
    )
    group.addoption("--scim-seed", type=int,
                    help="seed of the generated queries and PATCH sequences (default: derandomized)")
    group.addoption("--scim-examples", type=int, help="generated queries to try (default 100)")
    group.addoption("--scim-workers", type=int, default=1, metavar="N", help="run the checks on N threads")
    group.addoption("--scim-fuzz", action="store_true", help="also run the fuzz checks (schemathesis)")


def _enabled(config: pytest.Config) -> bool:
    return bool(config.getoption("scim_url") or config.getoption("scim_embedded"))


def _start_session(config: pytest.Config) -> ScimSession:
    target = None
    url = config.getoption("scim_url")
    rate = config.getoption("scim_rate")
    if rate is not None and not rate > 0:
        raise TargetUnusable("--scim-rate must be a positive number of requests per second")
    try:
        credentials = auth.from_options(
            token=config.getoption("scim_token"), basic=config.getoption("scim_basic"),
            oauth_token_url=config.getoption("scim_oauth_token_url"),
            oauth_client_id=config.getoption("scim_oauth_client_id"),
            oauth_client_secret=config.getoption("scim_oauth_client_secret"),
            oauth_scope=config.getoption("scim_oauth_scope"),
            oauth_client_auth=config.getoption("scim_oauth_client_auth"),
            headers=config.getoption("scim_header"), env=os.environ, timeout=config.getoption("scim_timeout"),
        )
    except auth.CredentialError as exc:
        raise TargetUnusable(str(exc)) from None
    if not url:
        target = start_embedded(max(1, config.getoption("scim_workers")))  # -n 2+: in its own process
        url, credentials = target.url, auth.from_options(token=target.token)
    settings = Settings(
        url=url,
        timeout=config.getoption("scim_timeout"),
        embedded=target is not None,
        select=tuple(config.getoption("scim_select")),
        profiles=tuple(config.getoption("scim_profile")),
        seed=config.getoption("scim_seed"),
        examples=config.getoption("scim_examples"),
        credentials=credentials,
        read_only=config.getoption("scim_read_only"),
        rate=rate,
        insecure=config.getoption("scim_insecure"),
        fuzz=config.getoption("scim_fuzz"),
        workers=max(1, config.getoption("scim_workers")),
    )
    try:
        run = Run(settings)
    except ProfileError as exc:  # --scim-profile names no profile: one line, exit 2
        if target is not None:
            target.stop()
        raise TargetUnusable(str(exc)) from None
    try:
        if isinstance(run.http.auth, auth.OAuthClientCredentials):
            try:
                run.http.auth.access_token()
            except auth.OAuthError as exc:
                raise TargetUnusable(str(exc)) from None
        run.start()
    except TargetUnusable:
        run.http.close()
        if target is not None:
            target.stop()
        raise
    return ScimSession(run, target, config.getoption("scim_json"))


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "scim: a SCIM conformance check")
    handed = next((p for p in config.pluginmanager.get_plugins() if isinstance(p, PrestartedRun)), None)
    if handed is None and not _enabled(config):
        return
    if handed is not None:
        state = handed.session
    else:
        try:
            state = _start_session(config)
        except TargetUnusable as exc:
            pytest.exit(str(exc), returncode=2)
    if handed is None:
        try:
            _report_options(config, state)
        except ReportError as exc:
            state.close()
            pytest.exit(str(exc), returncode=2)
    config.stash[STATE_KEY] = state
    if config.pluginmanager.hasplugin("allure_listener"):  # --alluredir: label every SCIM test item
        from .reporting.allure import AllureLabels

        config.pluginmanager.register(AllureLabels(), "scim_allure_labels")
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        config.args = [str(SUITE_FILE)]
    sigterm_as_interrupt()


def _report_options(config: pytest.Config, state: ScimSession) -> None:
    """--scim-junit, --scim-html and --scim-baseline, checked (one line, exit 2) before any check runs."""
    from .reporting import baseline as baseline_mod
    from .reporting.commands import check_file_paths

    check_file_paths({f"--{o.replace('_', '-')}": config.getoption(o) for o in ("scim_junit", "scim_html")})
    state.junit_path, state.html_path = config.getoption("scim_junit"), config.getoption("scim_html")
    state.baseline_file = config.getoption("scim_baseline")
    if state.baseline_file:
        state.baseline = baseline_mod.load(state.baseline_file)


def _state(config: pytest.Config) -> ScimSession | None:
    return config.stash.get(STATE_KEY, None)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "scim_case" not in metafunc.fixturenames:
        return
    state = _state(metafunc.config)
    if state is None:
        metafunc.parametrize("scim_case", [pytest.param(None, marks=pytest.mark.skip(
            reason="no SCIM target: give --scim-url URL or --scim-embedded"))], ids=["no-target"])
        return
    cases = state.cases
    metafunc.parametrize("scim_case", cases, ids=[c.id for c in cases])


def pytest_collection_finish(session: pytest.Session) -> None:
    """A parallel run (``-n N``, ``--scim-workers N``) executes every collected case on N threads now; each
    test then reports its result."""
    state = _state(session.config)
    if state is None or state.run.settings.workers <= 1:
        return
    from .parallel import execute_all

    cases = [item.callspec.params["scim_case"] for item in session.items
             if hasattr(item, "callspec") and isinstance(item.callspec.params.get("scim_case"), Case)]
    results = execute_all(state.run, cases, state.run.settings.workers)
    state.done.update((case.id, result) for case, result in zip(cases, results, strict=True))


@pytest.fixture
def scim_result(request: pytest.FixtureRequest, scim_case: Case):
    """Run the check; an exchange that broke is raised here, so pytest reports it as an error."""
    state = _state(request.config)
    assert state is not None
    result = state.done.pop(scim_case.id, None) or state.run.execute(scim_case)
    node = request.node
    node.user_properties.extend([
        ("requirements", " ".join(result.requirements)),
        ("level", result.level),
        ("outcome", result.outcome.value),
    ])
    reason = state.accepted(result) if result.outcome in (Outcome.FAIL, Outcome.WARN, Outcome.ERROR) else None
    if reason is not None:  # a deviation the baseline accepts: expected, like an xfail
        pytest.xfail(f"accepted deviation ({reason}): {result.outcome.value}: {result.message}")
    if result.outcome is Outcome.ERROR:
        pytest.fail(f"[error] {result.message}", pytrace=False)
    return result


def verdict(result: Any) -> None:
    """Turn a result into pytest's terms (called by the test in suite.py)."""
    cited = f"{result.level} {', '.join(result.requirements)}"
    if result.outcome is Outcome.SKIP:
        pytest.skip(result.message)
    if result.outcome is Outcome.FAIL:
        pytest.fail(f"{result.message} ({cited})", pytrace=False)
    if result.outcome is Outcome.WARN and result.message.startswith(INFO_PREFIX):
        return  # a profile made this finding information only: shown in the summary, not a warning
    if result.outcome is Outcome.WARN:
        warnings.warn(ScimWarning(f"{result.id}: {result.message} ({cited})"), stacklevel=2)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = _state(session.config)
    if state is not None:
        state.close()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = _state(config)
    if state is None:
        return
    results = state.run.results
    counts = {o: sum(1 for r in results if r.outcome is o) for o in Outcome}
    tr = terminalreporter
    tr.section("SCIM conformance")
    for r in results:
        if r.outcome in (Outcome.FAIL, Outcome.WARN, Outcome.ERROR):
            mark = "INFO" if r.message.startswith(INFO_PREFIX) else r.outcome.value.upper()
            reason = state.accepted(r)
            tr.write_line(f"{mark:5} {r.id} ({r.level} {', '.join(r.requirements)}): {r.message}"
                          + (f" [accepted: {reason}]" if reason else ""))
    tr.write_line(
        f"target {state.run.settings.url}: "
        + ", ".join(f"{counts[o]} {o.value}" for o in Outcome)
        + f" ({len(results)} results, {state.run.http.request_count} requests)"
    )
    shown = state.run.profile.names != ("rfc",)  # the default profile says nothing the counts do not
    for line in verdicts(state.run) if shown else []:
        tr.write_line(f"profile {line['name']}: {line['verdict']}")
    if state.run.leftovers:
        tr.write_line("could not delete: " + "; ".join(state.run.leftovers))
    for kind, path in state.written.items():
        tr.write_line(f"{kind}: {path}")
