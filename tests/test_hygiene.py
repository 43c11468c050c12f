"""Data hygiene on a live tenant: the run id on everything created, nothing left behind (also after
Ctrl-C or SIGTERM), and nothing that existed before the run touched beyond reading."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from conformance.embedded import EmbeddedTarget
from conformance.engine import RUN_PREFIX, Run, Settings


class Recorder:
    """WSGI middleware that remembers each request (and can slow the target down)."""

    def __init__(self, app, delay: float = 0.0):
        self.app, self.delay = app, delay
        self.requests: list[tuple[str, str, bytes]] = []
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        import io

        environ["wsgi.input"] = io.BytesIO(body)
        with self.lock:
            self.requests.append((environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), body))
        if self.delay:
            time.sleep(self.delay)
        return self.app(environ, start_response)


@pytest.fixture
def recorded():
    holder = {}

    def wrap(app):
        holder["rec"] = Recorder(app)
        return holder["rec"]

    with EmbeddedTarget(wrap=wrap) as target:
        yield target, holder["rec"]


def _client(target):
    return httpx.Client(base_url=target.url + "/", headers={"Authorization": f"Bearer {target.token}"})


def _all(client, endpoint):
    return client.get(endpoint, params={"count": 1000}).json().get("Resources", [])


def test_run_touches_only_its_own_data(recorded):
    target, rec = recorded
    with _client(target) as client:
        before_user = client.post("Users", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                                                  "userName": "pre-existing.person"}).json()
        before_group = client.post("Groups", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                                    "displayName": "Pre-existing group",
                                                    "members": [{"value": before_user["id"]}]}).json()
        rec.requests.clear()
        run = Run(Settings(url=target.url, token=target.token))
        run.start()
        run.run_all()
        run.http.close()

        creates = [(p, json.loads(b)) for m, p, b in rec.requests if m == "POST" and p.rstrip("/").count("/") == 2]
        assert creates, "the suite created nothing: the test proves nothing"
        bulk_ops = [op for path, body in creates if path.rstrip("/").endswith("/Bulk")
                    for op in body.get("Operations", [])]
        datas = [(p, b) for p, b in creates if not p.rstrip("/").endswith("/Bulk")]
        datas += [(f"Bulk {op.get('path')}", op.get("data") or {}) for op in bulk_ops if op.get("method") == "POST"]
        assert bulk_ops, "the suite sent no bulk request: the bulk part of this test proves nothing"
        for path, data in datas:
            names = [data.get(k) for k in ("userName", "displayName", "name") if data.get(k)]
            assert any(run.run_id in str(n) for n in names), f"POST {path} without the run id: {data}"
        pre_ids = {before_user["id"], before_group["id"]}
        writes = [(m, p) for m, p, _ in rec.requests if m in ("PUT", "PATCH", "DELETE")]
        writes += [(op.get("method"), op.get("path", "")) for op in bulk_ops if op.get("method") != "POST"]
        assert not [w for w in writes if any(i in w[1] for i in pre_ids)], "a pre-existing resource was written"

        users, groups = _all(client, "Users"), _all(client, "Groups")
        assert [u["id"] for u in users] == [before_user["id"]], "the suite left users behind"
        assert [g["id"] for g in groups] == [before_group["id"]], "the suite left groups behind"
        assert users[0]["meta"]["version"] == before_user["meta"]["version"]
        assert groups[0]["meta"]["version"] == before_group["meta"]["version"]
        assert run.leftovers == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupted_run_cleans_up(sig, tmp_path):
    holder = {}

    def wrap(app):
        holder["rec"] = Recorder(app, delay=0.03)
        return holder["rec"]

    with EmbeddedTarget(wrap=wrap) as target:
        rec = holder["rec"]
        env = {**os.environ, "SCIM_TOKEN": target.token}
        proc = subprocess.Popen(
            [sys.executable, "-m", "conformance.cli", "run", target.url, "--json", str(tmp_path / "r.json")],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            posts = [p for m, p, _ in rec.requests if m == "POST"]
            if len(posts) >= 4:
                break
            time.sleep(0.05)
        else:
            proc.kill()
            pytest.fail("the run never created anything")
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, (proc.returncode, out[-2000:], err[-2000:])
        assert "Traceback" not in err
        assert "interrupted" in err
        with _client(target) as client:
            left = [r for ep in ("Users", "Groups") for r in _all(client, ep)
                    if RUN_PREFIX in json.dumps(r)]
        assert left == [], f"left behind after {sig.name}: {left}"
