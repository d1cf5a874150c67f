"""chronos-python 1.2.1 (PyPI), unmodified, against cron-framework: add a job (and a
dependent), list, search, run now, kill its tasks, delete; through both the Chronos 3
(/v1/scheduler) and Chronos 2 (/scheduler) prefixes. Prints one JSON object.
Usage: python chronos_client.py host:port marker_dir"""
import json
import os
import sys
import time

import chronos

server, marker_dir = sys.argv[1], sys.argv[2]
v1 = chronos.connect(server)
v2 = chronos.connect(server, scheduler_api_version=None)
DEADLINE = 60


def wait(what, check):
    start = time.time()
    while time.time() - start < DEADLINE:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise SystemExit("timed out waiting for " + what)


out = {}
job = {
    "name": "pyjob",
    "command": "echo ran >> %s/pyjob" % marker_dir,
    "owner": "ops@example.com",
    "disabled": False,
    "schedule": "R/2099-01-01T00:00:00Z/P1D",
    "epsilon": "PT30S",
    "cpus": 0.1,
    "mem": 32,
}
out["add"] = v1.add(job)
child = {
    "name": "pychild",
    "command": "echo ran >> %s/pychild" % marker_dir,
    "owner": "ops@example.com",
    "disabled": False,
    "async": False,
    "parents": ["pyjob"],
    "cpus": 0.1,
    "mem": 32,
}
out["add_dependent"] = v2.add(child)
out["listed"] = sorted(j["name"] for j in v1.list())
out["search"] = [j["name"] for j in v1.search(name="pyj")]
out["run"] = v1.run("pyjob")
wait("pyjob and its dependent ran",
     lambda: os.path.exists(os.path.join(marker_dir, "pychild")))


def counted():
    jobs = {j["name"]: j for j in v1.list()}
    return jobs if jobs["pyjob"]["successCount"] == 1 and jobs["pychild"]["successCount"] == 1 else None


jobs = wait("the successes counted", counted)
out["last_success"] = jobs["pyjob"]["lastSuccess"]
out["kill"] = v1.delete_tasks("pyjob")
out["delete"] = v1.delete("pychild")
out["after_delete"] = sorted(j["name"] for j in v2.list())
try:
    v1.run("nope")
    out["missing"] = "ran"
except chronos.ChronosAPIError as e:
    out["missing"] = str(e)
print(json.dumps(out))
