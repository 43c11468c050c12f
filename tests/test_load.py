"""The load profile (conformance/load.py, ``scim-conformance load``) against the embedded target."""

from __future__ import annotations

import json
import threading

from conformance import cli
from conformance.embedded import EmbeddedTarget
from conformance.engine import Run, Settings
from conformance.load import LoadRun, percentile


def _load(target: EmbeddedTarget, rate: float, duration: float) -> LoadRun:
    run = Run(Settings(url=target.url, token=target.token))
    try:
        run.start()
        load = LoadRun(run, rate=rate, duration=duration)
        load.execute()
    finally:
        run.http.close()
    return load


class Throttle:
    """Every fifth request answers 429 with Retry-After: 1 (and records when the retry came)."""

    def __init__(self, app):
        self.app = app
        self.count = 0
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            self.count += 1
            throttle = self.count % 5 == 0
        if throttle:
            start_response("429 Too Many Requests", [("Retry-After", "1"), ("Content-Type", "application/scim+json")])
            return [b'{"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "429"}']
        return self.app(environ, start_response)


class Forgetful:
    """Acknowledges every PATCH of displayName but stores nothing: the read-back must see it."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] == "PATCH":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            if b'"displayName"' in body:
                start_response("204 No Content", [])
                return [b""]
            import io

            environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)


def test_a_short_burst_reports_percentiles_and_the_data_is_correct_afterwards():
    with EmbeddedTarget() as target:
        load = _load(target, rate=10, duration=3)
        assert target.storage.resources == [], "everything the burst created is deleted"
    fig = load.figures()
    assert 27 <= fig["requests"] <= 31 and fig["late_ticks"] == 0
    lat = fig["latency_ms"]
    assert 0 < lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"]
    assert fig["errors"] == 0 and fig["error_rate"] == 0.0
    assert fig["data_correct"] is True and fig["mismatches"] == []
    assert fig["resources_created"] >= 4
    assert {"lookup", "create", "update"} <= set(fig["ops"])


def test_a_server_that_loses_writes_is_caught_by_the_read_back():
    with EmbeddedTarget(wrap=Forgetful) as target:
        fig = _load(target, rate=10, duration=2).figures()
    assert fig["data_correct"] is False
    assert any("displayName" in m and "updated" in m for m in fig["mismatches"]), fig["mismatches"]


def test_429_is_retried_after_its_retry_after():
    with EmbeddedTarget(wrap=Throttle) as target:
        fig = _load(target, rate=10, duration=2).figures()
    assert fig["throttled_429"] >= 2
    assert fig["retry_after_waited_s"] >= fig["throttled_429"] * 1.0
    assert fig["retry_after_missing"] == 0
    assert fig["errors"] == 0, fig["errors_by_status"]  # each throttled request went through on its retry
    assert fig["data_correct"] is True, fig["mismatches"]


def test_the_load_command_prints_the_figures(tmp_path, capsys):
    path = tmp_path / "load.json"
    code = cli.main(["load", "--profile", "entra", "--rate", "10", "--duration", "2", "--json", str(path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "latency: p50" in out and "p95" in out and "p99" in out
    assert "every one reads back as the run left it" in out
    assert json.loads(path.read_text())["data_correct"] is True


def test_bad_input_is_one_line(capsys):
    assert cli.main(["load", "--rate", "0"]) == 2
    assert capsys.readouterr().err.startswith("scim-conformance: error: --rate")


def test_percentile_is_nearest_rank():
    values = [float(i) for i in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 99)) == (50.0, 95.0, 99.0)
    assert percentile([], 50) == 0.0 and percentile([3.0], 99) == 3.0
