"""Drives the master's web UI in headless Chromium (Selenium), for local/tests/webui_browser.rs.

Protocol with the Rust test: this script prints `STEP <name> ...` lines as checks pass, then
`READY` once the dashboard shows the first task; the test launches a second task and answers with
`NEWTASK <task name>` on stdin as it launches it; the script checks it appears without a reload,
prints `KILL`, and after `KILLED <task name>` checks it moves to the completed tasks; it follows the first
task's sandbox to its stdout, checks the console and the network log, and prints `PASS ...`.
Every wait is bounded; any failure raises (non-zero exit, traceback on stderr).
"""

import argparse
import http.client
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

WAIT = 20


def say(*words):
    print(*words, flush=True)


def click(wait, by, selector):
    """Clicks the element, finding it again if a re-render replaced it meanwhile."""
    def attempt(d):
        try:
            d.find_element(by, selector).click()
            return True
        except (StaleElementReferenceException, NoSuchElementException):
            return False
    wait.until(attempt)


def text_of(driver, css):
    return driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.textContent : '';", css)


def prefix_proxy(upstream, prefix):
    """A reverse proxy serving the master under `prefix` (streams bodies, chunked)."""
    host, port = upstream

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def do_GET(self):
            self.forward()

        def do_POST(self):
            self.forward()

        def forward(self):
            if not self.path.startswith(prefix + "/"):
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in ("host", "connection", "content-length")}
            upstream_conn = http.client.HTTPConnection(host, port, timeout=60)
            try:
                upstream_conn.request(self.command, self.path[len(prefix):], body=body, headers=headers)
                reply = upstream_conn.getresponse()
                self.send_response(reply.status)
                for k, v in reply.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                while True:
                    data = reply.read1(65536)
                    if not data:
                        break
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                self.close_connection = True
            finally:
                upstream_conn.close()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def requests_seen(driver):
    """URLs the browser requested since the last call."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def no_console_errors(driver):
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, "console errors: %s" % errors


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--chromium", default="/usr/bin/chromium")
    p.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    p.add_argument("--agents", type=int, required=True)
    p.add_argument("--task", required=True, help="name of the running task")
    p.add_argument("--stdout", required=True, help="text the task wrote to its stdout")
    p.add_argument("--standby", help="a standby master's URL")
    p.add_argument("--leaderless", help="the URL of a master that knows no leader")
    p.add_argument("--screenshot")
    args = p.parse_args()

    options = webdriver.ChromeOptions()
    options.binary_location = args.chromium
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              "--window-size=1400,900", "--no-first-run", "--disable-background-networking",
              "--disable-component-update", "--disable-default-apps", "--disable-sync"):
        options.add_argument(a)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(args.chromedriver), options=options)
    driver.set_page_load_timeout(WAIT)
    driver.set_script_timeout(WAIT)
    try:
        run(driver, args)
    except Exception:
        # What the page showed, for the failure message.
        print("page %s:\n%s" % (driver.current_url, text_of(driver, "body")), file=sys.stderr)
        raise
    finally:
        driver.quit()


def run(driver, args):
    wait = WebDriverWait(driver, WAIT, poll_frequency=0.05)
    started = time.time()
    driver.get(args.url)

    # The dashboard: the agents and the running task.
    wait.until(lambda d: text_of(d, "#agent-counts").strip().startswith(str(args.agents)))
    wait.until(lambda d: args.task in text_of(d, "#dash-active"))
    say("STEP dashboard agents=%d task=%s load_ms=%d"
        % (args.agents, args.task, (time.time() - started) * 1000))
    if args.screenshot:
        driver.save_screenshot(args.screenshot)
        say("STEP screenshot", args.screenshot)

    # A new task shows on the open page, without a reload.
    driver.execute_script("window.__noReload = 'still here';")
    say("READY")
    line = sys.stdin.readline().split()
    assert line and line[0] == "NEWTASK", "expected NEWTASK, got %r" % line
    new_task = line[1]
    told = time.time()
    wait.until(lambda d: new_task in text_of(d, "#dash-active"))
    latency_ms = (time.time() - told) * 1000
    assert driver.execute_script("return window.__noReload;") == "still here", "the page reloaded"
    mode = text_of(driver, "#live")
    say("STEP new-task latency_ms=%d mode=%s" % (latency_ms, mode.replace(" ", "_")))
    say("KILL")
    line = sys.stdin.readline().split()
    assert line and line[0] == "KILLED", "expected KILLED, got %r" % line
    told = time.time()
    wait.until(lambda d: new_task in text_of(d, "#dash-completed")
               and new_task not in text_of(d, "#dash-active"))
    killed_ms = (time.time() - told) * 1000
    say("STEP killed latency_ms=%d" % killed_ms)

    # The first task's sandbox, through the master's proxy, and its stdout in the log viewer.
    click(wait, By.XPATH, "//table[@id='dash-active']//tr[td[contains(., '%s')]]//a[@class='sandbox']"
          % args.task)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "a.file[data-name='stdout']"))
    say("STEP sandbox", driver.find_element(By.ID, "breadcrumb").text)
    click(wait, By.CSS_SELECTOR, "a.file[data-name='stdout']")
    wait.until(lambda d: args.stdout in text_of(d, "#log"))
    say("STEP stdout", json.dumps(text_of(driver, "#log").strip()))

    # The agent's page: its executors with live usage, through the master's proxy.
    driver.execute_script("location.hash = '#/';")
    click(wait, By.XPATH, "//table[@id='dash-active']//tr[td[contains(., '%s')]]//a[starts-with(@href, '#/agents/')]"
          % args.task)
    wait.until(lambda d: "Executors (live usage)" in text_of(d, "main") and args.task in text_of(d, "main"))
    wait.until(lambda d: d.execute_script(
        "return [...document.querySelectorAll('main table tbody td')].some("
        "td => /^\\d+\\.\\d{3} \\/ /.test(td.textContent));"))
    say("STEP agent page with live usage")

    # The master's log in the log viewer, from the dashboard.
    driver.execute_script("location.hash = '#/';")
    click(wait, By.XPATH, "//dt[text()='Master log']/following-sibling::dd[1]/a[text()='View']")
    wait.until(lambda d: "a line of the master's log" in text_of(d, "#log"))
    say("STEP master log")

    # The task page links straight to stdout too; the other pages render.
    for route, css, expect in (("#/frameworks", "#fw-active", "webui"),
                               ("#/agents", "#agents", "Active"),
                               ("#/tasks", "#tasks", args.task),
                               ("#/roles", "#roles", "e2e"),
                               ("#/offers", "h1", "Outstanding")):
        driver.execute_script("location.hash = arguments[0];", route)
        wait.until(lambda d: expect in text_of(d, css))
    say("STEP pages")

    # No console errors; no request left loopback.
    no_console_errors(driver)
    hosts = set()
    for u in requests_seen(driver):
        url = urlparse(u)
        hosts.add(url.scheme if url.scheme in ("data", "about", "blob") else url.hostname)
    outside = {h for h in hosts if h not in ("127.0.0.1", "localhost", "data", "about", "blob")}
    assert not outside, "requests left loopback: %s" % outside
    say("STEP loopback hosts=%s" % ",".join(sorted(hosts)))

    # Behind a reverse proxy that serves the master under /mesos: every URL the page uses is
    # relative, so the dashboard and a task's stdout work there too.
    master = urlparse(args.url)
    proxy = prefix_proxy((master.hostname, master.port), "/mesos")
    base = "http://127.0.0.1:%d/mesos/" % proxy.server_address[1]
    driver.get(base)
    wait.until(lambda d: args.task in text_of(d, "#dash-active"))
    click(wait, By.XPATH, "//table[@id='dash-active']//tr[td[contains(., '%s')]]//a[@title='%s']"
          % (args.task, args.task))
    click(wait, By.CSS_SELECTOR, "a.stdout")
    wait.until(lambda d: args.stdout in text_of(d, "#log"))
    no_console_errors(driver)
    urls = requests_seen(driver)
    stray = [u for u in urls if not u.startswith(base) and not u.startswith("data:")]
    assert not stray, "requests outside the prefix: %s" % stray
    proxy.shutdown()
    say("STEP prefix-proxy requests=%d" % len(urls))
    # The big-cluster view (summaries and server-side task search), forced with ?big.
    driver.get(args.url + "?big")
    wait.until(lambda d: "summary every 1s" in text_of(d, "#live"))
    wait.until(lambda d: args.task in text_of(d, "#dash-active"))
    driver.execute_script("location.hash = '#/tasks?q=' + encodeURIComponent(arguments[0]);", args.task)
    wait.until(lambda d: args.task in text_of(d, "#tasks tbody") and "1 tasks" in text_of(d, ".table-tools"))
    driver.execute_script("location.hash = '#/tasks?state=TASK_KILLED';")
    wait.until(lambda d: "second-task" in text_of(d, "#tasks tbody") and args.task not in text_of(d, "#tasks tbody"))
    say("STEP big-cluster view")

    # With no leader the page says so; on a standby it follows the leader.
    if args.leaderless:
        driver.get(args.leaderless)
        wait.until(lambda d: "No master is currently leading" in text_of(d, "#banner"))
        say("STEP no-leader banner")
    if args.standby:
        driver.get(args.standby)
        wait.until(lambda d: d.current_url.startswith(args.url))
        wait.until(lambda d: args.task in text_of(d, "#dash-active"))
        say("STEP standby followed to", driver.current_url)
    no_console_errors(driver)
    say("PASS latency_ms=%d killed_ms=%d hosts=%s" % (latency_ms, killed_ms, ",".join(sorted(hosts))))


if __name__ == "__main__":
    main()
