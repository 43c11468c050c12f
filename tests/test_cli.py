"""The command line: a clear line and exit 2 for every run that cannot be made."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conformance import cli


@pytest.fixture(scope="module")
def html_site():
    """A web server that answers every path with an HTML page and 200."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - stdlib name
            body = b"<!doctype html><html><body>Welcome</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/scim/v2"
    server.shutdown()
    server.server_close()


def _run(capsys, *argv):
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_wrong_token_is_diagnosed_as_such(capsys, embedded_target, tmp_path):
    code, _, err = _run(capsys, "run", embedded_target.url, "--token", "wrong", "--json", str(tmp_path / "r.json"))
    assert code == 2
    assert "credentials rejected" in _one_line(err)
    assert not (tmp_path / "r.json").exists()


def test_unreachable_url(capsys):
    code, _, err = _run(capsys, "run", "http://127.0.0.1:9/v2", "--timeout", "2")
    assert code == 2
    assert "cannot reach http://127.0.0.1:9/v2: connection refused" in _one_line(err)


def test_unresolvable_host(capsys):
    code, _, err = _run(capsys, "run", "http://no-such-host.invalid/v2", "--timeout", "2")
    assert code == 2
    assert "does not resolve" in _one_line(err)


def test_html_page_is_not_a_scim_endpoint(capsys, html_site):
    code, _, err = _run(capsys, "run", html_site, "--token", "t")
    assert code == 2
    line = _one_line(err)
    assert "not a SCIM endpoint" in line and "text/html" in line


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["run", "ftp://example"], "must start with http"),
        (["run", "--timeout", "0"], "--timeout must be positive"),
        (["run", "--frobnicate"], "unrecognized arguments"),
        (["nonsense"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(capsys, argv, needle):
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    assert code == 2
    assert needle in _one_line(capsys.readouterr().err)


def test_select_matching_nothing_exits_2(capsys, embedded_target):
    code, _, err = _run(capsys, "run", embedded_target.url, "--token", embedded_target.token, "--select", "zzz")
    assert code == 2 and "no check id starts with zzz" in _one_line(err)


def test_run_against_a_url_writes_the_json_report(capsys, embedded_target, tmp_path):
    path = tmp_path / "out" / "report.json"
    code, out, _ = _run(capsys, "run", embedded_target.url, "--token", embedded_target.token,
                        "--json", str(path), "--select", "discovery.")
    data = json.loads(path.read_text())
    assert code == (1 if data["summary"]["fail"] + data["summary"]["error"] else 0)
    assert data["target"]["url"] == embedded_target.url and data["target"]["embedded"] is False
    assert str(path) in out


def test_checks_command_lists_every_check(capsys):
    from conformance.registry import all_checks

    code, out, _ = _run(capsys, "checks")
    assert code == 0
    assert all(c.id in out for c in all_checks())
