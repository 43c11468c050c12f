"""The reporting side of the CLI: the outputs of ``run``, and the ``report`` and ``explain`` commands."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import ReportError, gate, load_report
from . import baseline as baseline_mod

EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2


def _err(message: str) -> None:
    print(f"scim-conformance: error: {message}", file=sys.stderr)


def check_file_paths(paths: dict[str, str | None]) -> None:
    """Refuse (one-line :class:`ReportError`) a report path that is a folder; ``paths``: option name -> path."""
    for option, path in paths.items():
        if path and Path(path).is_dir():
            raise ReportError(f"{option} {path} is a folder; give a file path")


def write_formats(data: dict[str, Any], json_path: str | None, junit_path: str | None,
                  html_path: str | None) -> dict[str, str]:
    """Write the report ``data`` in each format given a path; what was written where, by kind."""
    from .. import report as json_report
    from . import html, junit

    paths: dict[str, str] = {}
    if json_path:
        paths["JSON report"] = str(json_report.write(data, json_path))
    if junit_path:
        paths["JUnit report"] = str(junit.write(data, junit_path))
    if html_path:
        paths["HTML report"] = str(html.write(data, html_path))
    return paths


@dataclass
class Outputs:
    """What ``run`` writes and how it gates, checked before the run starts."""

    json: str
    junit: str | None = None
    html: str | None = None
    allure: str | None = None
    quiet: bool = False
    fail_on: str = "must"
    baseline_file: str | None = None
    baseline: list[dict[str, str]] = field(default_factory=list)

    def pytest_args(self) -> list[str]:
        args = ["-p", "no:terminal"]  # the terminal is ours (terminal.Progress and the summary)
        if self.allure:
            args += ["--alluredir", self.allure, "--clean-alluredir"]
        else:
            args += ["-p", "no:allure_pytest"]
        return args

    def plugins(self, run: Any) -> list[Any]:
        from .terminal import Progress

        return [] if self.quiet else [Progress(run)]


def prepare(args: argparse.Namespace, json_path: str) -> Outputs:
    """Validate the report options (one-line :class:`ReportError`) before anything is sent."""
    out = Outputs(
        json=json_path,
        junit=getattr(args, "junit", None),
        html=getattr(args, "html", None),
        allure=getattr(args, "allure", None),
        quiet=bool(getattr(args, "quiet", False)),
        fail_on=getattr(args, "fail_on", "must") or "must",
        baseline_file=getattr(args, "baseline", None),
    )
    check_file_paths({f"--{kind}": getattr(out, kind) for kind in ("json", "junit", "html")})
    if out.allure:
        if Path(out.allure).exists() and not Path(out.allure).is_dir():
            raise ReportError(f"--allure {out.allure} is a file; give a folder")
        try:
            import allure_pytest  # noqa: F401
        except ImportError:
            raise ReportError("--allure needs allure-pytest (pip install allure-pytest)") from None
    if out.baseline_file:
        out.baseline = baseline_mod.load(out.baseline_file)
    return out


def finish(run: Any, out: Outputs, interrupted: bool = False) -> int:
    """Build the JSON report, apply the baseline, write every format, print the summary; the exit code."""
    from .. import report as json_report
    from . import terminal

    data = json_report.build(run)
    if out.baseline_file:
        baseline_mod.apply(data, out.baseline, out.baseline_file)
    try:
        paths = write_formats(data, out.json, out.junit, out.html)
    except OSError as exc:
        _err(f"cannot write a report: {exc}")
        return EXIT_UNUSABLE
    if out.allure:
        paths["Allure results"] = out.allure + " (view: allure serve " + out.allure + ")"
    colour = terminal.use_colour(sys.stdout)
    sys.stdout.write(terminal.summary(data, paths, colour=colour, quiet=out.quiet))
    if interrupted:
        return EXIT_FAILED
    return EXIT_FAILED if gate(data, out.fail_on) else EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    from .explain import explain

    try:
        sys.stdout.write(explain(args.id))
    except ReportError as exc:
        _err(str(exc))
        return EXIT_UNUSABLE
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    """Render JSON reports: one -> terminal summary (+ HTML/JUnit); several -> a comparison matrix."""
    from . import compare, html, junit, terminal

    try:
        reports = [(path, load_report(path)) for path in args.reports]
        if len(reports) > 1 and (args.junit or args.baseline):
            raise ReportError("--junit and --baseline take one report; several reports only make --html")
        if len(reports) > 1 and not args.html:
            raise ReportError("several reports are compared with --html OUT")
        if args.baseline:
            baseline_mod.apply(reports[0][1], baseline_mod.load(args.baseline), args.baseline)
        paths: dict[str, str] = {}
        if len(reports) > 1:
            paths["comparison HTML report"] = str(compare.write(reports, args.html))
            for path, data in reports:
                print(f"{path}: {terminal.verdict_line(data)}")
            for kind, path in paths.items():
                print(f"{kind}: {path}")
            return EXIT_OK
        data = reports[0][1]
        if args.html:
            paths["HTML report"] = str(html.write(data, args.html))
        if args.junit:
            paths["JUnit report"] = str(junit.write(data, args.junit))
    except ReportError as exc:
        _err(str(exc))
        return EXIT_UNUSABLE
    except OSError as exc:
        _err(f"cannot write a report: {exc}")
        return EXIT_UNUSABLE
    sys.stdout.write(terminal.summary(data, paths, colour=terminal.use_colour(sys.stdout)))
    return EXIT_FAILED if gate(data, args.fail_on) else EXIT_OK
