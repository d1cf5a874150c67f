"""pymesos (0.3.15) operator client, unmodified: reads the master's state through
MesosOperatorMasterDriver (POST /api/v1/operator) and prints every answer as one JSON object."""
import json
import sys

from pymesos import MesosOperatorMasterDriver


def main():
    driver = MesosOperatorMasterDriver(sys.argv[1])
    answers = {
        "health": driver.getHealth(),
        "version": driver.getVersion(),
        "flags": driver.getFlags(),
        "metrics": driver.getMetrics(5 * 10**9),
        "master": driver.getMaster(),
        "state": driver.getState(),
        "agents": driver.getAgents(),
        "frameworks": driver.getFrameworks(),
        "executors": driver.getExecutors(),
        "tasks": driver.getTasks(),
        "roles": driver.getRoles(),
    }
    print(json.dumps(answers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
