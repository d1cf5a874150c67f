"""A pymesos (0.3.15) scheduler, unmodified client code: launches --tasks command tasks on the
command executor, acknowledges their updates (pymesos does it implicitly), and exits 0 once every
task is TASK_FINISHED (1 on a failed task or an ERROR, 2 on timeout). Prints one line per event
for the Rust test that runs it."""
import argparse
import sys
import threading

from addict import Dict
from pymesos import MesosSchedulerDriver, Scheduler


class Launcher(Scheduler):
    def __init__(self, tasks, command):
        self.tasks = tasks
        self.command = command
        self.launched = 0
        self.finished = set()
        self.done = threading.Event()
        self.failure = None

    def registered(self, driver, framework_id, master_info):
        print("REGISTERED", framework_id.value, flush=True)

    def reregistered(self, driver, master_info):
        print("REREGISTERED", driver.framework_id, flush=True)

    def resourceOffers(self, driver, offers):
        for offer in offers:
            def scalar(name):
                return sum(r.scalar.value for r in offer.resources if r.name == name)
            slots = min(int(scalar("cpus") / 0.1 + 1e-6), int(scalar("mem") / 32))
            tasks = []
            while self.launched < self.tasks and len(tasks) < slots:
                task = Dict()
                task.task_id.value = "task-%d" % self.launched
                task.agent_id.value = offer.agent_id.value
                task.name = "pymesos task %d" % self.launched
                task.command.value = self.command
                task.resources = [
                    dict(name="cpus", type="SCALAR", scalar={"value": 0.1}),
                    dict(name="mem", type="SCALAR", scalar={"value": 32}),
                ]
                tasks.append(task)
                self.launched += 1
            if tasks:
                driver.launchTasks(offer.id, tasks, {"refuse_seconds": 1})
            else:
                driver.declineOffer(offer.id, {"refuse_seconds": 3600})

    def statusUpdate(self, driver, update):
        print("UPDATE", update.task_id.value, update.state, flush=True)
        if update.state == "TASK_FINISHED":
            self.finished.add(update.task_id.value)
            if len(self.finished) == self.tasks:
                self.done.set()
        elif update.state in ("TASK_FAILED", "TASK_LOST", "TASK_ERROR", "TASK_KILLED",
                              "TASK_DROPPED", "TASK_GONE"):
            self.failure = "%s %s: %s" % (update.task_id.value, update.state,
                                          update.get("message", ""))
            self.done.set()

    def error(self, driver, message):
        self.failure = "ERROR " + message
        self.done.set()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--master", required=True)
    parser.add_argument("--tasks", type=int, default=3)
    parser.add_argument("--command", default="echo hello from pymesos")
    parser.add_argument("--failover_timeout", type=float, default=0)
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    framework = Dict()
    framework.user = ""
    framework.name = "pymesos-launcher"
    framework.failover_timeout = args.failover_timeout
    scheduler = Launcher(args.tasks, args.command)
    driver = MesosSchedulerDriver(scheduler, framework, args.master, use_addict=True)
    driver.start()
    finished_in_time = scheduler.done.wait(args.timeout)
    driver.stop()
    driver.join()
    if not finished_in_time:
        print("TIMEOUT", len(scheduler.finished), "of", args.tasks, "finished", flush=True)
        return 2
    if scheduler.failure:
        print("FAILED", scheduler.failure, flush=True)
        return 1
    print("ALL FINISHED", len(scheduler.finished), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
