"""A pymesos (0.3.15) HTTP executor, unmodified client code: MesosExecutorDriver subscribes to
the agent's /api/v1/executor (found through MESOS_AGENT_ENDPOINT). Every task it is given
answers TASK_RUNNING and a framework message listing the MESOS_* variables the executor saw;
a task whose data says "wait" then runs until it is killed (TASK_KILLED), any other finishes
(TASK_FINISHED, echoing its data back)."""
import json
import os
import sys

from pymesos import Executor, MesosExecutorDriver, decode_data, encode_data

VARIABLES = ["MESOS_AGENT_ENDPOINT", "MESOS_FRAMEWORK_ID", "MESOS_EXECUTOR_ID",
             "MESOS_DIRECTORY", "MESOS_SANDBOX", "MESOS_SLAVE_ID", "MESOS_SLAVE_PID",
             "MESOS_CHECKPOINT", "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD"]


def status(task, state, data=None):
    update = dict(task_id=task["task_id"], state=state)
    if data is not None:
        update["data"] = encode_data(data)
    return update


class Echo(Executor):
    def registered(self, driver, executor_info, framework_info, agent_info):
        print("REGISTERED", executor_info["executor_id"]["value"],
              framework_info["id"]["value"], agent_info["hostname"], flush=True)

    def launchTask(self, driver, task):
        data = decode_data(task.get("data", "")) if task.get("data") else b""
        driver.sendStatusUpdate(status(task, "TASK_RUNNING"))
        seen = {name: os.environ.get(name) for name in VARIABLES}
        seen["task"] = task["task_id"]["value"]
        # killpg(0, ...) on shutdown must reach only this executor's processes.
        seen["pgid"] = os.getpgid(0)
        seen["sid"] = os.getsid(0)
        driver.sendFrameworkMessage(encode_data(json.dumps(seen).encode()))
        if data != b"wait":
            driver.sendStatusUpdate(status(task, "TASK_FINISHED", b"echo:" + data))

    def killTask(self, driver, task_id):
        driver.sendStatusUpdate(dict(task_id=task_id, state="TASK_KILLED"))

    def frameworkMessage(self, driver, message):
        print("MESSAGE", decode_data(message), flush=True)

    def shutdown(self, driver):
        print("SHUTDOWN", flush=True)


if __name__ == "__main__":
    driver = MesosExecutorDriver(Echo(), use_addict=True)
    driver.run()
    sys.exit(0)
