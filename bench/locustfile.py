"""The entra provisioning burst (conformance/load.py) for Locust, to load a SCIM server from many machines.

Locust is not a dependency of scim-conformance; install it where the load is generated (`pip install locust`).
One user of this file provisions synthetic users the way Entra ID does: a lookup by userName (expected
empty), a create, a PATCH, a second lookup, and for some a deprovisioning (PATCH active=false, DELETE).
Every name starts with a per-process run id (``sctload<hex>``), so `scim-conformance cleanup URL --run-id ...`
finds what an interrupted run left.

    SCIM_TOKEN=... locust -f bench/locustfile.py --host https://host/scim/v2 --headless -u 50 -r 5 -t 5m
    # distributed: one master, any number of workers (each runs this file)
    SCIM_TOKEN=... locust -f bench/locustfile.py --master --host https://host/scim/v2 --headless -u 500 -r 20 -t 10m
    SCIM_TOKEN=... locust -f bench/locustfile.py --worker --master-host MASTER_IP

The rate per user is set by ``wait_time``: constant_throughput(0.5) sends at most half a request per second
per simulated user, so 50 users give Entra ID's 25 requests/s.
"""

from __future__ import annotations

import json
import os
import random
import secrets

from locust import HttpUser, constant_throughput, task

RUN_ID = f"sctload{secrets.token_hex(3)}"
USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SCIM_JSON = "application/scim+json"


class EntraProvisioning(HttpUser):
    wait_time = constant_throughput(0.5)

    def on_start(self) -> None:
        self.client.headers.update(
            {
                "Authorization": f"Bearer {os.environ.get('SCIM_TOKEN', '')}",
                "Accept": SCIM_JSON,
                "Content-Type": SCIM_JSON,
            }
        )
        self.serial = 0

    @task
    def provision_one_user(self) -> None:
        self.serial += 1
        name = f"{RUN_ID}-{id(self) % 100000:05d}-{self.serial:05d}"
        lookup = {"filter": f"userName eq {json.dumps(name)}"}
        self.client.get("/Users", params=lookup, name="lookup")
        with self.client.post(
            "/Users",
            name="create",
            catch_response=True,
            data=json.dumps({"schemas": [USER_URN], "userName": name, "active": True, "displayName": name}),
        ) as resp:
            if resp.status_code != 201:
                resp.failure(f"create answered {resp.status_code}")
                return
            uid = resp.json().get("id")
        patch = {
            "schemas": [PATCH_URN],
            "Operations": [{"op": "replace", "path": "displayName", "value": f"{name} updated"}],
        }
        self.client.patch(f"/Users/{uid}", data=json.dumps(patch), name="update")
        self.client.get("/Users", params=lookup, name="lookup")
        if random.random() < 0.4:  # deprovision
            patch = {"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "active", "value": False}]}
            self.client.patch(f"/Users/{uid}", data=json.dumps(patch), name="disable")
        self.client.delete(f"/Users/{uid}", name="delete")  # leave nothing behind
