"""marathon-python 0.13.0 (PyPI), unmodified, against service-framework: create, list, get,
scale, list tasks, deployments, info, ping, kill a task, delete. Every answer is parsed into
the client's model classes (they reject keys Marathon does not send). Prints one JSON object.
Usage: python marathon_client.py http://host:port"""
import collections
import collections.abc
import json
import sys
import time

# marathon 0.13.0 (its latest release) encodes nested models with `collections.Iterable`, which
# Python 3.10 removed: the alias it expects, as the usual compatibility shim (the library itself
# is not modified).
collections.Iterable = collections.abc.Iterable

from marathon import MarathonClient, NotFoundError
from marathon.models import MarathonApp, MarathonHealthCheck

url = sys.argv[1]
client = MarathonClient(url, timeout=10)
DEADLINE = 60


def wait(what, check):
    start = time.time()
    while time.time() - start < DEADLINE:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise SystemExit("timed out waiting for " + what)


out = {"ping": client.ping().decode()}
info = client.get_info()
out["info_name"] = info.name
app = MarathonApp(
    cmd="python3 -m http.server $PORT0 --bind 127.0.0.1",
    cpus=0.1, mem=32, instances=1,
    port_definitions=[{"port": 0}],
    health_checks=[MarathonHealthCheck(protocol="HTTP", path="/", port_index=0,
                                       grace_period_seconds=30, interval_seconds=1,
                                       timeout_seconds=2, max_consecutive_failures=3)],
    labels={"team": "shop"},
)
created = client.create_app("/py/web", app)
out["created"] = created.id if created else None
out["created_instances"] = created.instances if created else None
out["listed"] = [a.id for a in client.list_apps()]


def running(n):
    tasks = client.list_tasks("/py/web")
    healthy = [t for t in tasks
               if t.state == "TASK_RUNNING" and t.health_check_results
               and t.health_check_results[0].alive]
    return tasks if len(tasks) == n and len(healthy) == n else None


tasks = wait("1 healthy task", lambda: running(1))
out["task_ports"] = tasks[0].ports
out["task_started_at_type"] = type(tasks[0].started_at).__name__
scaled = client.scale_app("/py/web", instances=2)
out["scale_answer_keys"] = sorted(scaled.keys())
out["deployments_while_scaling"] = [d.id for d in client.list_deployments()]
tasks = wait("2 healthy tasks", lambda: running(2))
out["tasks"] = len(tasks)
out["all_tasks"] = len(client.list_tasks())
wait("no deployment", lambda: client.list_deployments() == [])
got = client.get_app("/py/web")
out["got_instances"] = got.instances
out["got_tasks_running"] = got.tasks_running
out["got_version_type"] = type(got.version).__name__
killed = client.kill_task("/py/web", tasks[0].id, scale=True)
# With scale=True Marathon answers with the deployment that scales the app down.
out["killed"] = sorted(killed.keys())
wait("scaled down to 1 by the kill", lambda: client.get_app("/py/web").instances == 1)
deleted = client.delete_app("/py/web")
out["delete_answer_keys"] = sorted(deleted.keys())
try:
    client.get_app("/py/web")
    out["missing"] = "found"
except NotFoundError:
    out["missing"] = "404"
print(json.dumps(out))
