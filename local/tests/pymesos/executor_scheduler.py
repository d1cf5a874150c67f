"""A pymesos (0.3.15) scheduler whose tasks run on a pymesos HTTP executor (executor.py), all
unmodified client code. Launches --tasks tasks on the custom executor: task-0 carries "wait" and
is killed once running (TASK_KILLED); the others finish (TASK_FINISHED, their data echoed back).
Prints one line per event (framework messages decoded) and exits 0 when every task ended as
expected (1 on an unexpected state or an ERROR, 2 on timeout)."""
import argparse
import sys
import threading

from addict import Dict
from pymesos import MesosSchedulerDriver, Scheduler, decode_data, encode_data


class Launcher(Scheduler):
    def __init__(self, tasks, executor_command):
        self.tasks = tasks
        self.executor_command = executor_command
        self.launched = 0
        self.ended = {}
        self.messages = 0
        self.done = threading.Event()
        self.failure = None
        self.lock = threading.Lock()

    def registered(self, driver, framework_id, master_info):
        print("REGISTERED", framework_id.value, flush=True)

    def resourceOffers(self, driver, offers):
        for offer in offers:
            def scalar(name):
                return sum(r.scalar.value for r in offer.resources if r.name == name)
            # The executor's own resources come out of the first offer used on an agent.
            cpus, mem = scalar("cpus") - 0.1, scalar("mem") - 32
            tasks = []
            while self.launched < self.tasks and cpus >= 0.1 - 1e-6 and mem >= 32:
                task = Dict()
                index = self.launched
                task.task_id.value = "task-%d" % index
                task.agent_id.value = offer.agent_id.value
                task.name = "pymesos http executor task %d" % index
                task.data = encode_data(b"wait" if index == 0 else b"payload-%d" % index)
                task.executor.executor_id.value = "pymesos-executor"
                task.executor.name = "pymesos http executor"
                task.executor.command.value = self.executor_command
                task.executor.resources = [
                    dict(name="cpus", type="SCALAR", scalar={"value": 0.1}),
                    dict(name="mem", type="SCALAR", scalar={"value": 32}),
                ]
                task.resources = [
                    dict(name="cpus", type="SCALAR", scalar={"value": 0.1}),
                    dict(name="mem", type="SCALAR", scalar={"value": 32}),
                ]
                tasks.append(task)
                self.launched += 1
                cpus -= 0.1
                mem -= 32
            if tasks:
                driver.launchTasks(offer.id, tasks, {"refuse_seconds": 1})
            else:
                driver.declineOffer(offer.id, {"refuse_seconds": 3600})

    def statusUpdate(self, driver, update):
        task = update.task_id.value
        data = decode_data(update.data).decode() if update.get("data") else ""
        print("UPDATE", task, update.state, data, flush=True)
        expected = "TASK_KILLED" if task == "task-0" else "TASK_FINISHED"
        if update.state == "TASK_RUNNING":
            if task == "task-0":
                driver.killTask(update.task_id)
            return
        with self.lock:
            if update.state != expected:
                self.failure = "%s %s: %s" % (task, update.state, update.get("message", ""))
                self.done.set()
                return
            self.ended[task] = update.state
            self.check()

    def frameworkMessage(self, driver, executor_id, agent_id, data):
        print("MESSAGE", executor_id.value, decode_data(data).decode(), flush=True)
        with self.lock:
            self.messages += 1
            self.check()

    def check(self):
        if len(self.ended) == self.tasks and self.messages >= self.tasks:
            self.done.set()

    def error(self, driver, message):
        self.failure = "ERROR " + message
        self.done.set()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--master", required=True)
    parser.add_argument("--tasks", type=int, default=3)
    parser.add_argument("--executor", required=True, help="the executor's command")
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    framework = Dict()
    framework.user = ""
    framework.name = "pymesos-http-executor"
    scheduler = Launcher(args.tasks, args.executor)
    driver = MesosSchedulerDriver(scheduler, framework, args.master, use_addict=True)
    driver.start()
    finished_in_time = scheduler.done.wait(args.timeout)
    driver.stop()
    driver.join()
    if not finished_in_time:
        print("TIMEOUT", scheduler.ended, flush=True)
        return 2
    if scheduler.failure:
        print("FAILED", scheduler.failure, flush=True)
        return 1
    print("ALL ENDED", len(scheduler.ended), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
