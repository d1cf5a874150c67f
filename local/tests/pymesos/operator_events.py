"""pymesos (0.3.15) operator client, unmodified: subscribes to the master's event stream through
MesosOperatorMasterDriver (POST /api/v1/operator, SUBSCRIBE) and prints one line per event it
hands to its OperatorMaster callbacks. Prints READY once subscribed; exits 0 when the task
named on the command line is TASK_FINISHED and its framework was removed (2 on timeout)."""
import json
import sys
import threading

from pymesos import MesosOperatorMasterDriver, OperatorMaster


class Printer(OperatorMaster):
    def __init__(self, task):
        self.task = task
        self.finished = False
        self.done = threading.Event()

    def show(self, kind, what):
        print(kind, json.dumps(what, sort_keys=True), flush=True)

    def taskAdded(self, task_info):
        self.show("TASK_ADDED", task_info)

    def taskUpdated(self, task_info):
        self.show("TASK_UPDATED", task_info)
        if task_info["status"]["task_id"]["value"] == self.task and \
                task_info["state"] == "TASK_FINISHED":
            self.finished = True

    def frameworkAdded(self, framework_info):
        self.show("FRAMEWORK_ADDED", framework_info)

    def frameworkUpdated(self, framework_info):
        self.show("FRAMEWORK_UPDATED", framework_info)

    def frameworkRemoved(self, framework_info):
        self.show("FRAMEWORK_REMOVED", framework_info)
        if self.finished:
            self.done.set()

    def agentAdded(self, agent_info):
        self.show("AGENT_ADDED", agent_info)

    def agentRemoved(self, agent_id):
        self.show("AGENT_REMOVED", agent_id)


class Driver(MesosOperatorMasterDriver):
    def on_subscribed(self, info):
        state = info["get_state"]
        print("READY agents=%d" % len(state["get_agents"].get("agents", [])), flush=True)
        super(Driver, self).on_subscribed(info)


def main():
    printer = Printer(sys.argv[2])
    driver = Driver(sys.argv[1], printer)
    driver.start()
    finished = printer.done.wait(float(sys.argv[3]) if len(sys.argv) > 3 else 60)
    driver.stop()
    return 0 if finished else 2


if __name__ == "__main__":
    sys.exit(main())
