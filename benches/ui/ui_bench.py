"""The browser half of `ui-bench` (benches/src/bin/ui-bench.rs): loads the dashboard and the
tasks page in headless Chromium, then waits for one more agent (the bench registers it after
`READY`, and answers `REGISTERED`). Prints `RESULT dashboard_ms= tasks_page_ms=
bytes_transferred= update_latency_ms=`. Every wait is bounded (WAIT seconds)."""

import argparse
import json
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

WAIT = 120


def text_of(driver, css):
    return driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.textContent : '';", css)


def received_bytes(driver):
    """Bytes the browser received so far (encoded, per request the larger of the finished total
    and the sum of the chunks seen, so open streams count too)."""
    finished, chunks = {}, {}
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message["method"] == "Network.loadingFinished":
            finished[params["requestId"]] = params.get("encodedDataLength", 0)
        elif message["method"] == "Network.dataReceived":
            rid = params["requestId"]
            chunks[rid] = chunks.get(rid, 0) + params.get("encodedDataLength", 0)
    ids = set(finished) | set(chunks)
    return sum(max(finished.get(i, 0), chunks.get(i, 0)) for i in ids)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--tasks", type=int, required=True)
    p.add_argument("--agents", type=int, required=True)
    p.add_argument("--chromium", default="/usr/bin/chromium")
    p.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    args = p.parse_args()
    options = webdriver.ChromeOptions()
    options.binary_location = args.chromium
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              "--window-size=1400,900", "--no-first-run", "--disable-background-networking"):
        options.add_argument(a)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(args.chromedriver), options=options)
    driver.set_page_load_timeout(WAIT)
    driver.set_script_timeout(WAIT)
    try:
        wait = WebDriverWait(driver, WAIT, poll_frequency=0.02)
        t0 = time.time()
        driver.get(args.url)
        wait.until(lambda d: d.execute_script(
            "const e = document.querySelector('#task-counts a[href$=\"TASK_RUNNING\"] b');"
            "return e ? Number(e.textContent) : -1;") == args.tasks)
        wait.until(lambda d: d.execute_script(
            "return document.querySelectorAll('#dash-active tbody tr').length;") > 1)
        dashboard_ms = (time.time() - t0) * 1000
        t1 = time.time()
        driver.execute_script("location.hash = '#/tasks';")
        wait.until(lambda d: d.execute_script(
            "return document.querySelectorAll('#tasks tbody tr td a').length;") > 0)
        tasks_page_ms = (time.time() - t1) * 1000
        driver.execute_script("location.hash = '#/';")
        wait.until(lambda d: text_of(d, "#agent-counts").strip().startswith(str(args.agents)))
        print("READY", flush=True)
        line = sys.stdin.readline().strip()
        assert line == "REGISTERED", line
        t2 = time.time()
        wait.until(lambda d: text_of(d, "#agent-counts").strip().startswith(str(args.agents + 1)))
        update_ms = (time.time() - t2) * 1000
        print("mode: %s" % text_of(driver, "#live"), flush=True)
        print("RESULT dashboard_ms=%d tasks_page_ms=%d bytes_transferred=%d update_latency_ms=%d"
              % (dashboard_ms, tasks_page_ms, received_bytes(driver), update_ms), flush=True)
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
