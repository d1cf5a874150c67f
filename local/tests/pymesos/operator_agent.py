"""pymesos (0.3.15) operator client, unmodified: reads an agent's state through
MesosOperatorAgentDriver (POST /api/v1/operator on the agent) and prints every answer as one
JSON object."""
import json
import sys

from pymesos import MesosOperatorAgentDriver


def main():
    driver = MesosOperatorAgentDriver(sys.argv[1])
    answers = {
        "health": driver.getHealth(),
        "version": driver.getVersion(),
        "flags": driver.getFlags(),
        "metrics": driver.getMetrics(5 * 10**9),
        "state": driver.getState(),
        "frameworks": driver.getFrameworks(),
        "executors": driver.getExecutors(),
        "tasks": driver.getTasks(),
        "containers": driver.getContainers(),
    }
    print(json.dumps(answers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
