"""The ``scim-conformance`` command: a thin layer over the pytest plugin.

Exit codes: 0 no check failed; 1 a check failed (or the exchange of a check broke: outcome error) and no
baseline entry accepts it (``--fail-on should`` also counts warnings, ``--fail-on never`` nothing);
2 the run could not be made (bad arguments, target unreachable, credentials rejected, not SCIM);
130 interrupted (after cleanup).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

from . import __version__

EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE, EXIT_INTERRUPTED = 0, 1, 2, 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line and exit 2, as for any run that cannot be made
        self.exit(EXIT_UNUSABLE, f"scim-conformance: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="scim-conformance", description="SCIM 2.0 conformance suite (RFC 7643, RFC 7644).")
    parser.add_argument("--version", action="version", version=f"scim-conformance {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="run the suite against a target (no URL: the embedded scim2-server)")
    run.add_argument("url", nargs="?", help="base URL of the SCIM service provider, e.g. https://host/scim/v2")
    add_auth_options(run)
    run.add_argument("--read-only", action="store_true",
                     help="send no POST/PUT/PATCH/DELETE: checks that would write are skipped")
    run.add_argument("--rate", type=float, metavar="N", help="send at most N requests per second")
    run.add_argument("--json", metavar="PATH", help="JSON report path (default: reports/scim-report-<time>.json)")
    run.add_argument("--reports", metavar="DIR", default="reports", help="folder for reports (default: reports)")
    run.add_argument("--timeout", type=float, default=10.0, help="seconds allowed per request (default: 10)")
    run.add_argument("--insecure", action="store_true", help="do not verify the target's TLS certificate")
    run.add_argument("--select", action="append", default=[], metavar="PREFIX",
                     help="run only checks whose id starts with PREFIX (repeatable)")
    run.add_argument("--profile", action="append", default=[], metavar="NAME",
                     help="vendor profile (repeatable, reported side by side; default: rfc); see `profiles`")
    run.add_argument("--seed", type=int, metavar="N",
                     help="seed of the generated queries and PATCH sequences (default: one derandomized stream)")
    run.add_argument("--examples", type=int, metavar="N", help="generated queries to try (default: 100)")
    run.add_argument("-q", "--quiet", action="store_true", help="print only the summary")
    run.add_argument("-n", "--workers", type=int, default=None, metavar="N",
                     help="run the checks on N threads (each check keeps to its own data; default 1 against a "
                          "URL, 2 against the embedded target, which then runs in its own process)")
    run.add_argument("--fuzz", action="store_true",
                     help="also run the fuzz checks (schemathesis from /Schemas; off by default)")
    run.add_argument("--fuzz-examples", type=int, default=10, metavar="N",
                     help="fuzz: generated requests per operation and mode (default 10)")
    run.add_argument("--fuzz-seconds", type=float, default=60.0, metavar="S",
                     help="fuzz: time budget, shared by the resource types (default 60)")
    add_report_options(run)

    req = sub.add_parser("requirements", help="print the requirement catalogue with coverage")
    req.add_argument("--json", action="store_true", help="print JSON")
    req.add_argument("--status", choices=["covered", "uncovered", "untestable"], help="only this status")

    sub.add_parser("checks", help="list the checks with their requirements and level")
    sub.add_parser("profiles", help="list the vendor profiles (--profile NAME) with a one-line description")

    from . import fuzz, load

    fuzz.add_parser(sub, add_auth_options)
    load.add_parser(sub, add_auth_options)

    explain = sub.add_parser("explain", help="what a check or requirement is about, and how servers fix it")
    explain.add_argument("id", help="a check id (create.status-201), result id or requirement id (7644-3.3-07)")

    rep = sub.add_parser("report", help="render JSON reports: one as HTML/JUnit/terminal, several as a comparison")
    rep.add_argument("reports", nargs="+", metavar="REPORT.json", help="JSON reports written by `run`")
    rep.add_argument("--html", metavar="PATH", help="write HTML (several reports: a results × targets matrix)")
    rep.add_argument("--junit", metavar="PATH", help="write JUnit XML (one report only)")
    rep.add_argument("--baseline", metavar="FILE", help="apply this baseline (one report only)")
    rep.add_argument("--fail-on", choices=["must", "should", "never"], default="must",
                     help="exit 1 on unaccepted MUST failures/errors (must), also warnings (should), or never")

    clean = sub.add_parser("cleanup", help="delete what a run left on the target (found by the run id prefix)")
    clean.add_argument("url", help="base URL of the SCIM service provider")
    which = clean.add_mutually_exclusive_group(required=True)
    which.add_argument("--run-id", help="the run whose resources to delete (run_id in the JSON report)")
    which.add_argument("--all-runs", action="store_true", help="delete the resources of every run (sct…-)")
    clean.add_argument("--dry-run", action="store_true", help="only print what would be deleted")
    clean.add_argument("--timeout", type=float, default=10.0, help="seconds allowed per request (default: 10)")
    clean.add_argument("--insecure", action="store_true", help="do not verify the target's TLS certificate")
    add_auth_options(clean)
    return parser


def add_report_options(run: argparse.ArgumentParser) -> None:
    run.add_argument("--junit", metavar="PATH", help="also write JUnit XML here")
    run.add_argument("--html", metavar="PATH", help="also write a single-file HTML report here")
    run.add_argument("--allure", metavar="DIR", help="also write Allure results into DIR (emptied first)")
    run.add_argument("--baseline", metavar="FILE", help="TOML list of accepted deviations ([[accepted]] id, reason)")
    run.add_argument("--fail-on", choices=["must", "should", "never"], default="must",
                     help="exit 1 on unaccepted MUST failures or errors (must, the default), "
                          "also on warnings (should), or never")
    run.add_argument("--config", metavar="FILE",
                     help="configuration file (default: ./scim-conformance.toml or [tool.scim-conformance] "
                          "in ./pyproject.toml)")
    run.add_argument("--no-config", action="store_true", help="ignore configuration files")


def add_auth_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--token", help="Bearer token (default: $SCIM_TOKEN)")
    parser.add_argument("--basic", metavar="USER:PASSWORD", help="HTTP Basic credentials (default: $SCIM_BASIC)")
    parser.add_argument("--oauth-token-url", metavar="URL", help="OAuth 2.0 token endpoint (client credentials)")
    parser.add_argument("--oauth-client-id", metavar="ID", help="OAuth 2.0 client id")
    parser.add_argument("--oauth-client-secret", metavar="SECRET",
                        help="OAuth 2.0 client secret (default: $SCIM_OAUTH_CLIENT_SECRET)")
    parser.add_argument("--oauth-scope", metavar="SCOPE", help="scope to ask the token for (space-separated)")
    parser.add_argument("--oauth-client-auth", choices=["basic", "post"], default="basic",
                        help="how the client authenticates to the token endpoint (default: basic)")
    parser.add_argument("--header", action="append", default=[], metavar="'NAME: VALUE'",
                        help="send this header with every request (repeatable; its value is redacted)")


def credentials_from(args: argparse.Namespace) -> Any:
    """The credentials of ``args`` (options, then SCIM_TOKEN/SCIM_BASIC/SCIM_OAUTH_CLIENT_SECRET)."""
    from .auth import from_options

    return from_options(
        token=args.token, basic=args.basic, oauth_token_url=args.oauth_token_url,
        oauth_client_id=args.oauth_client_id, oauth_client_secret=args.oauth_client_secret,
        oauth_scope=args.oauth_scope, oauth_client_auth=args.oauth_client_auth, headers=args.header,
        env=os.environ, timeout=args.timeout,
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["run"]:  # scim-conformance.toml / [tool.scim-conformance]: defaults the options override
        from .reporting import ReportError
        from .reporting.config import apply as apply_config

        try:
            apply_config(parser, parser._subparsers._group_actions[0].choices["run"], argv[1:])
        except ReportError as exc:
            _err(str(exc))
            return EXIT_UNUSABLE
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return cmd_run(args)
        if args.command in ("explain", "report"):
            from .reporting.commands import cmd_explain, cmd_report

            return cmd_explain(args) if args.command == "explain" else cmd_report(args)
        if args.command == "requirements":
            return cmd_requirements(args)
        if args.command == "cleanup":
            return cmd_cleanup(args)
        if args.command == "profiles":
            return cmd_profiles()
        if args.command in ("fuzz", "load"):
            from . import fuzz, load

            return fuzz.cmd_fuzz(args) if args.command == "fuzz" else load.cmd_load(args)
        return cmd_checks()
    except BrokenPipeError:  # `scim-conformance requirements | head`
        return EXIT_OK
    except KeyboardInterrupt:  # before any resource was created (cmd_run cleans up after that)
        _err("interrupted")
        return EXIT_INTERRUPTED


def _err(message: str) -> None:
    print(f"scim-conformance: error: {message}", file=sys.stderr)


UNUSED_PLUGINS = ("xdist", "xdist.looponfail", "anyio", "hypothesispytest", "schemathesis")  # pytest11 entry points


def cmd_run(args: argparse.Namespace) -> int:
    import pytest

    from .embedded import start_embedded
    from .engine import Run, Settings, TargetUnusable, sigterm_as_interrupt
    from .plugin import SUITE_FILE, PrestartedRun

    if args.examples is not None and args.examples < 1:
        _err("--examples must be a positive number")
        return EXIT_UNUSABLE
    if args.timeout <= 0:
        _err("--timeout must be positive")
        return EXIT_UNUSABLE
    from .profiles import ProfileError, select

    try:
        select(list(args.profile))  # an unknown or broken profile: one line, before any request
    except ProfileError as exc:
        _err(str(exc))
        return EXIT_UNUSABLE
    sigterm_as_interrupt()
    if args.url and not args.url.startswith(("http://", "https://")):
        _err(f"the URL must start with http:// or https://, not {args.url!r}")
        return EXIT_UNUSABLE
    json_path = args.json or str(
        Path(args.reports) / f"scim-report-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    )
    if not (args.json or getattr(args, "html", None) or getattr(args, "junit", None)):
        # no report named at all (the demo): the readable ones too, beside the JSON in the reports folder
        args.html, args.junit = json_path[: -len(".json")] + ".html", json_path[: -len(".json")] + ".xml"
    from .reporting import ReportError
    from .reporting.commands import finish, prepare

    try:
        outputs = prepare(args, json_path)
    except ReportError as exc:
        _err(str(exc))
        return EXIT_UNUSABLE
    if getattr(args, "token_env", None) and not args.token:  # token-env in the configuration file
        args.token = os.environ.get(args.token_env)
    if args.rate is not None and not args.rate > 0:
        _err("--rate must be a positive number of requests per second")
        return EXIT_UNUSABLE
    from .auth import CredentialError, OAuthError, from_options

    try:
        credentials = credentials_from(args)
    except CredentialError as exc:
        _err(str(exc))
        return EXIT_UNUSABLE
    target = None
    url = args.url
    # a live tenant gets one request at a time unless -n says otherwise; the throwaway embedded target gets
    # two threads and a process of its own when the machine has two cores (results are the same, sooner)
    workers = args.workers if args.workers is not None else (1 if url else min(2, os.cpu_count() or 1))
    if not url:
        target = start_embedded(max(1, workers))  # -n 2+: in its own process, off the checks' interpreter
        url, credentials = target.url, from_options(token=target.token)
        print(f"embedded target: scim2-server at {url}")
    run = Run(Settings(url=url, timeout=args.timeout, embedded=target is not None, select=tuple(args.select),
                       profiles=tuple(args.profile),
                       seed=args.seed, examples=args.examples, workers=max(1, workers), fuzz=args.fuzz,
                       fuzz_examples=args.fuzz_examples, fuzz_seconds=args.fuzz_seconds,
                       credentials=credentials, read_only=args.read_only, rate=args.rate, insecure=args.insecure))
    try:
        prime(run)
        run.start()
    except (TargetUnusable, OAuthError) as exc:
        run.http.close()
        if target:
            target.stop()
        _err(str(exc))
        return EXIT_UNUSABLE
    if not run.cases():
        _err(f"no check id starts with {', '.join(args.select)} (see `scim-conformance checks`)")
        return EXIT_UNUSABLE
    pytest_args = [
        str(SUITE_FILE), "-c", os.devnull, "--rootdir", str(SUITE_FILE.parent),
        "-p", "no:cacheprovider", "-W", "ignore::pytest.PytestAssertRewriteWarning",
        # the suite's test asserts nothing (verdicts are its own): no rewriting of the package's modules at every
        # start (~3 s without a bytecode cache); nor the pytest plugins of other packages, which it does not use
        "--assert=plain", *[arg for name in UNUSED_PLUGINS for arg in ("-p", f"no:{name}")],
    ]
    pytest_args += outputs.pytest_args()
    code = pytest.main(pytest_args, plugins=[PrestartedRun(run, target, None), *outputs.plugins(run)])
    if code == pytest.ExitCode.INTERRUPTED:
        finish(run, outputs, interrupted=True)  # what ran so far is reported
        if run.leftovers:
            _err("interrupted; could not delete: " + "; ".join(run.leftovers))
        else:
            _err("interrupted; the resources this run created were deleted")
        return EXIT_INTERRUPTED
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        _err(f"the suite could not run (pytest exit code {int(code)})")
        return EXIT_UNUSABLE
    return finish(run, outputs)


def open_run(args: argparse.Namespace, **settings: Any) -> tuple[Any, Any]:
    """A started run for the tool commands (fuzz, load): the target of ``args``, or the embedded one.
    Raises ``TargetUnusable`` (or ``CredentialError``/``OAuthError``) with a one-line reason."""
    from .auth import from_options
    from .embedded import EmbeddedTarget
    from .engine import Run, Settings, TargetUnusable

    if args.url and not args.url.startswith(("http://", "https://")):
        raise TargetUnusable(f"the URL must start with http:// or https://, not {args.url!r}")
    if args.timeout <= 0:
        raise TargetUnusable("--timeout must be positive")
    credentials = credentials_from(args)
    target = None
    url = args.url
    if not url:
        target = EmbeddedTarget().start()
        url, credentials = target.url, from_options(token=target.token)
        print(f"embedded target: scim2-server at {url}")
    run = Run(Settings(url=url, timeout=args.timeout, embedded=target is not None, credentials=credentials,
                       **settings))
    try:
        prime(run)
        run.start()
    except BaseException:
        run.http.close()
        if target:
            target.stop()
        raise
    return run, target


def prime(run: Any) -> None:
    """Fetch an OAuth access token before the first request, so a refused client fails the run at once."""
    from .auth import OAuthClientCredentials

    if isinstance(run.http.auth, OAuthClientCredentials):
        run.http.auth.access_token()


def cmd_cleanup(args: argparse.Namespace) -> int:
    from . import cleanup
    from .auth import CredentialError, OAuthError
    from .engine import Run, Settings, TargetUnusable

    if not args.url.startswith(("http://", "https://")):
        _err(f"the URL must start with http:// or https://, not {args.url!r}")
        return EXIT_UNUSABLE
    try:
        cleanup.matcher(args.run_id)
        credentials = credentials_from(args)
    except (CredentialError, cleanup.CleanupError) as exc:
        _err(str(exc))
        return EXIT_UNUSABLE
    run = Run(Settings(url=args.url, timeout=args.timeout, credentials=credentials, insecure=args.insecure))
    try:
        prime(run)
        run.start()
        done, failed = cleanup.remove(run.http, run.discovery, args.run_id, dry_run=args.dry_run)
    except (TargetUnusable, OAuthError, cleanup.CleanupError) as exc:
        _err(str(exc))
        return EXIT_UNUSABLE
    finally:
        run.http.close()
    print(cleanup.summary(done, failed, args.run_id, args.dry_run))
    return EXIT_FAILED if failed else EXIT_OK


def cmd_requirements(args: argparse.Namespace) -> int:
    from .catalog import coverage

    rows = coverage()
    if args.status:
        rows = [r for r in rows if r["status"] == args.status]
    if args.json:
        keep = ("id", "section", "level", "status", "checks", "summary", "url", "untestable_reason")
        print(json.dumps({"requirements": [{k: r[k] for k in keep} for r in rows]}, indent=2))
        return EXIT_OK
    for r in rows:
        where = ", ".join(r["checks"]) if r["checks"] else (r["untestable_reason"] or "")
        print(f"{r['id']:<16} {r['level']:<6} {r['status']:<10} {r['summary']}" + (f"  [{where}]" if where else ""))
    all_rows = coverage()
    musts = {r["id"] for r in all_rows if r["status"] == "covered" and r["level"] in ("MUST", "SHOULD")}
    print(
        f"\n{len(all_rows)} requirements: "
        + ", ".join(
            f"{sum(1 for r in all_rows if r['status'] == s)} {s}" for s in ("covered", "uncovered", "untestable")
        )
        + f"; {len(musts)} MUST/SHOULD-tier covered"
    )
    return EXIT_OK


def cmd_profiles() -> int:
    from .profiles import ProfileError, available

    try:
        profiles = available()
    except ProfileError as exc:
        _err(str(exc))
        return EXIT_UNUSABLE
    for p in sorted(profiles.values(), key=lambda p: (("base", "client", "server").index(p.kind), p.name)):
        counted = ((len(p.skips), "skip"), (len(p.steps), "step"))
        parts = [f"{n} {word}{'s' if n != 1 else ''}" for n, word in counted if n]
        print(f"{p.name:<24} {p.kind:<6} {p.description}" + (f" [{', '.join(parts)}]" if parts else ""))
    return EXIT_OK


def cmd_checks() -> int:
    from .registry import all_checks

    for c in all_checks():
        scope = " per resource type" if c.per_resource_type else ""
        print(f"{c.id:<44} {c.level:<6} {', '.join(c.requirements)}{scope}\n    {c.title}")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
