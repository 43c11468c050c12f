"""Parallel runs (conformance/parallel.py, ``run -n N``): the same results as one thread, each check's
exchanges recorded in its own result, and nothing left on the target."""

from __future__ import annotations

import json

from conformance import cli
from conformance.embedded import EmbeddedTarget
from conformance.engine import Run, Settings
from conformance.parallel import run_all


def _run(target: EmbeddedTarget, workers: int) -> Run:
    run = Run(Settings(url=target.url, token=target.token, workers=workers))
    try:
        run.start()
        run_all(run, workers)
    finally:
        run.http.close()
    return run



def test_four_workers_give_the_results_of_one(monkeypatch):
    monkeypatch.setenv("SCIM_SEQ_EXAMPLES", "2")  # the random sequences: a small budget, the same in both runs
    with EmbeddedTarget() as target:
        one = _run(target, 1)
        assert target.storage.resources == []
        four = _run(target, 4)
        assert target.storage.resources == [], "a parallel run leaves nothing behind"
    assert [r.id for r in four.results] == [r.id for r in one.results], "results keep the order of the cases"
    differ = [
        (r1.id, r1.outcome.value, r4.outcome.value, r4.message)
        for r1, r4 in zip(one.results, four.results, strict=True)
        if r1.outcome is not r4.outcome
    ]
    assert differ == []
    assert four.leftovers == [] and one.leftovers == []
    # every exchange is recorded in the result of the check that sent it (the sink is per thread): a check
    # records as many exchanges on four threads as on one (bar the few whose requests depend on timing)
    same = sum(1 for r1, r4 in zip(one.results, four.results, strict=True) if len(r1.exchanges) == len(r4.exchanges))
    assert same >= 0.95 * len(one.results), f"only {same} of {len(one.results)} results recorded the same exchanges"
    totals = [sum(len(r.exchanges) for r in run.results) for run in (one, four)]
    assert abs(totals[0] - totals[1]) <= 0.05 * totals[0], totals


def test_run_with_workers_on_the_command_line(tmp_path):
    path = tmp_path / "report.json"
    code = cli.main(["run", "-n", "3", "--select", "list.", "--select", "create.", "--json", str(path), "--quiet"])
    data = json.loads(path.read_text())
    assert code == 0, data["summary"]
    ids = [r["id"] for r in data["results"]]
    assert len(ids) == len(set(ids)) and any(i.startswith("create.") for i in ids)
    assert all(r["outcome"] in ("pass", "skip") for r in data["results"])


def test_the_target_in_its_own_process_outlives_ctrl_c_and_reports_what_is_left():
    import os
    import signal

    import httpx

    from conformance.embedded import ProcessTarget, start_embedded

    target = start_embedded(2)  # a parallel run gets the target in a process of its own
    try:
        assert isinstance(target, ProcessTarget) and target.pid != os.getpid()
        headers = {"Authorization": f"Bearer {target.token}"}
        user = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "proc-ctrl-c"}
        assert httpx.post(f"{target.url}/Users", json=user, headers=headers).status_code == 201
        os.kill(target.pid, signal.SIGINT)  # what the terminal sends the whole process group on Ctrl-C
        listed = httpx.get(f"{target.url}/Users", headers=headers)  # still serving: the suite can clean up
        assert listed.status_code == 200 and listed.json()["totalResults"] == 1
    finally:
        final = target.stop()
    assert final == {"resources": 1}
    assert target.pid is None
