#!/usr/bin/env python3
"""The local dashboard in a real browser (issue 15): headless Debian chromium driven by Selenium
against target/debug/aerostack-server on a free loopback port, with a Python worker connected.

What a user does: open the dashboard URL from the ready file, create a project, see the worker's
Logic Module and call it through *try it*, read an OTP code in the outbox (and log in with it),
run queries in the SQL console, watch the realtime live tail, retry a dead-lettered job.

  .venv/bin/python tests/dashboard/run.py                 # make test-dashboard
  .venv/bin/python tests/dashboard/run.py --screenshots   # also rewrite docs/dashboard/*.png

Nothing is downloaded: chromium and chromedriver come from Debian (scripts/ensure-deps.sh) and
are named explicitly. The whole run is bounded (DEADLINE).
"""

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "target" / "debug" / "aerostack-server"
PYTHON = ROOT / ".venv" / "bin" / "python"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SHOTS = ROOT / "docs" / "dashboard"
DEADLINE = 100.0  # seconds for the whole run (make's limit is 120)
WAIT = 15.0  # seconds for one thing to appear

started = time.monotonic()


def step(msg: str) -> None:
    print(f"[{time.monotonic() - started:5.1f}s] {msg}", flush=True)
    if time.monotonic() - started > DEADLINE:
        raise SystemExit(f"test-dashboard: over the {DEADLINE:.0f} s budget at: {msg}")


class Api:
    """The platform's HTTP API (what an SDK would call), for setting up data."""

    def __init__(self, url: str, key: str) -> None:
        self.url, self.key = url, key

    def call(self, method: str, path: str, body=None, key=True, raw: bytes = None, ctype: str = None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", ctype or "application/json")
        if key:
            req.add_header("X-Aerostack-Key", self.key)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def ok(self, method: str, path: str, body=None, **kw):
        status, v = self.call(method, path, body, **kw)
        assert 200 <= status < 300, f"{method} {path}: {status} {v}"
        return v


def png(w: int = 96, h: int = 64) -> bytes:
    """A small gradient PNG (for the storage preview)."""
    rows = b"".join(b"\x00" + bytes(c for x in range(w) for c in (40 + x * 2, 70 + y * 2, 229)) for y in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def upload(api: Api, key: str, data: bytes, ctype: str) -> None:
    boundary = "----dashboardtest"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n{key}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"contentType\"\r\n\r\n{ctype}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n"
            f"Content-Type: {ctype}\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    status, v = api.call("POST", "/v1/storage/upload", raw=body, ctype=f"multipart/form-data; boundary={boundary}")
    assert status == 200, f"upload {key}: {status} {v}"


def wait_for(what: str, check, timeout: float = WAIT, every: float = 0.2):
    end = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


def browser() -> webdriver.Chrome:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            raise SystemExit(f"test-dashboard: {path} is missing: apt-get install chromium chromium-driver (scripts/ensure-deps.sh does)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              "--window-size=1440,1000", "--no-first-run", "--disable-extensions", "--hide-scrollbars"):
        opts.add_argument(a)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


class Page:
    def __init__(self, driver: webdriver.Chrome, base: str, shots: bool) -> None:
        self.d, self.base, self.shots = driver, base, shots

    def open(self, path: str) -> None:
        self.d.get(self.base + path)

    def find(self, css: str, timeout: float = WAIT):
        return WebDriverWait(self.d, timeout).until(lambda d: d.find_element(By.CSS_SELECTOR, css))

    def submit(self, css_or_element) -> None:
        """Click a form's button and wait for the next page (the old one goes stale)."""
        el = self.find(css_or_element) if isinstance(css_or_element, str) else css_or_element
        el.click()

        def gone(_driver) -> bool:
            try:
                el.is_enabled()
                return False
            except WebDriverException:  # stale, or chromium's "node does not belong to the document"
                return True

        WebDriverWait(self.d, WAIT).until(gone)

    def text(self) -> str:
        return self.d.find_element(By.TAG_NAME, "body").text

    def flash_ok(self) -> str:
        el = self.find("p.flash.ok")
        return el.text

    def shot(self, name: str) -> None:
        """The whole page (up to 1800 px high) as docs/dashboard/<name>.png."""
        if not self.shots:
            return
        SHOTS.mkdir(parents=True, exist_ok=True)
        height = min(int(self.d.execute_script("return document.documentElement.scrollHeight")), 1800)
        metrics = {"width": 1440, "height": max(height, 800), "deviceScaleFactor": 1, "mobile": False}
        self.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        try:
            self.d.execute_script("window.scrollTo(0, 0)")
            self.d.save_screenshot(str(SHOTS / f"{name}.png"))
        finally:
            self.d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        step(f"screenshot docs/dashboard/{name}.png")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--screenshots", action="store_true",
                    default=os.environ.get("AEROSTACK_DASHBOARD_SCREENSHOTS") == "1",
                    help="rewrite docs/dashboard/*.png (or AEROSTACK_DASHBOARD_SCREENSHOTS=1)")
    args = ap.parse_args()
    if not SERVER.exists():
        raise SystemExit(f"test-dashboard: {SERVER} is missing: cargo build -p aerostack-server")
    procs = []
    tmp = tempfile.TemporaryDirectory(prefix="aerostack-dashboard-test-")
    driver = None
    try:
        ready = Path(tmp.name) / "ready.json"
        env = {k: v for k, v in os.environ.items() if not k.startswith("AEROSTACK_")}
        log = open(Path(tmp.name) / "server.log", "w")
        procs.append(subprocess.Popen([str(SERVER), "--ephemeral", "--port", "0", "--ready-file", str(ready)],
                                      stdout=log, stderr=subprocess.STDOUT, env=env))
        info = wait_for("the ready file", lambda: ready.exists() and json.loads(ready.read_text()))
        assert info.get("dashboard_url", "").startswith(info["url"] + "/?token="), info
        api = Api(info["url"], info["api_key"])
        step(f"platform at {info['url']}")

        wenv = dict(env, AEROSTACK_API_KEY=info["api_key"], AEROSTACK_API_URL=info["api_url"])
        wlog = open(Path(tmp.name) / "worker.log", "w")
        procs.append(subprocess.Popen([str(PYTHON), str(Path(__file__).with_name("worker.py"))],
                                      stdout=wlog, stderr=subprocess.STDOUT, env=wenv))
        wait_for("the Python worker", lambda: "greet" in api.ok("GET", "/v1/local/workers").get("modules", []), timeout=30)
        step("Python worker connected (module greet, job flaky-report)")

        # Data for every page (what an app would have made).
        api.ok("POST", "/v1/db/query", {"sql": "CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, price REAL)"})
        for n, p in [("Blue shirt", 19.5), ("Red scarf", 12.0), ("Green hat", 15.25)]:
            api.ok("POST", "/v1/db/query", {"sql": "INSERT INTO products (name, price) VALUES (?, ?)", "params": [n, p]})
        api.ok("POST", "/v1/cache/set", {"key": "session:ada", "value": {"user": "ada", "cart": 3}, "ttl": 3600})
        api.ok("POST", "/v1/cache/set", {"key": "feature:new-checkout", "value": True})
        upload(api, "images/banner.png", png(), "image/png")
        upload(api, "docs/readme.txt", b"hello from storage\n", "text/plain")
        api.ok("POST", "/v1/secrets/set", {"key": "STRIPE_KEY", "value": "sk_test_not_shown_123"})
        auth = "/api/v1/public/projects/default/auth"
        api.ok("POST", f"{auth}/register", {"email": "grace@example.com", "password": "Sup3rSecret!", "name": "Grace"}, key=False)
        job = api.ok("POST", "/v1/queue/enqueue", {"type": "flaky-report", "data": {"month": "2026-11"}, "maxRetries": 0})["jobId"]

        driver = browser()
        page = Page(driver, info["url"], args.screenshots)
        step("chromium started")

        # The token URL sets the session and drops the token from the address bar.
        driver.get(info["dashboard_url"])
        wait_for("the Overview", lambda: driver.current_url == info["url"] + "/dashboard")
        assert "token=" not in driver.current_url
        assert info["api_key"] in page.text(), "the default project's key is listed"
        # Without the token (a fresh browser profile would be the same): the page says where it is.
        # Create a project.
        page.find("#new-project-name").send_keys("Browser Shop")
        page.submit("#create-project")
        assert "Project Browser Shop created" in page.flash_ok()
        assert "API keys of Browser Shop" in page.text()
        assert "ac_secret_" in page.find("span.api-key code").text
        step("created project Browser Shop from the Overview")
        Select(page.find("#project-picker")).select_by_value("default")
        wait_for("the default project", lambda: "p=default" in driver.current_url)
        page.shot("overview")

        # Logic Lab: the module, its URLs, try it, the invocation log.
        page.open("/dashboard/logic?p=default")
        body = page.text()
        worker_row = page.find("section:nth-of-type(1) tbody tr").text
        assert "Python" in worker_row and "aerostack-python/" in worker_row, f"the worker's language: {worker_row}"
        for want in ("greet", "Greet someone", "POST, GET", "GET on", "public", "flaky-report",
                     f"{info['url']}/api/v1/public/projects/default/custom/greet"):
            assert want in body, f"Logic Lab lacks {want!r}"
        Select(page.find("#try-slug")).select_by_value("greet")
        Select(page.find("#try-method")).select_by_value("POST")
        box = page.find("#try-body")
        box.clear()
        box.send_keys('{"name": "Ada"}')
        page.find("#try-send").click()
        status = wait_for("the try-it answer", lambda: page.find("#try-status").text or None)
        assert status.startswith("200"), status
        answer = json.loads(page.find("#try-answer").text)
        assert answer == {"hello": "Ada"}, answer
        assert page.find("#try-time").text.endswith(" ms")
        step(f"try it: POST greet -> {status}, {answer}, {page.find('#try-time').text}")
        Select(page.find("#try-method")).select_by_value("GET")
        Select(page.find("#try-auth")).select_by_value("public")
        page.find("#try-send").click()
        wait_for("the GET answer", lambda: "GET" in page.find("#try-url").text and page.find("#try-answer").text.count("Ada") == 1)
        page.shot("logic-lab-try-it")
        page.open("/dashboard/logic?p=default")
        rows = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "section:nth-of-type(4) tbody tr")]
        assert any("greet" in r and "200" in r and "GET" in r for r in rows), rows
        assert any("greet" in r and "200" in r and "POST" in r for r in rows), rows
        step("the invocation log shows both calls")
        page.shot("logic-lab")

        # Outbox: an OTP code, read in the page, logs the user in.
        api.ok("POST", f"{auth}/otp/send", {"email": "ada@example.com"}, key=False)
        page.open("/dashboard/outbox?p=default")
        code = page.find("b.otp-code").text
        assert code.isdigit() and len(code) >= 4, code
        session = api.ok("POST", f"{auth}/otp/verify", {"email": "ada@example.com", "code": code}, key=False)
        assert session.get("accessToken"), session
        step(f"read OTP {code} in the outbox and logged in with it")
        page.shot("outbox")
        page.open("/dashboard/auth?p=default")
        assert "ada@example.com" in page.text() and "grace@example.com" in page.text()
        page.shot("auth")

        # Database: the console, results grid and an API-shaped error.
        page.open("/dashboard/db?p=default")
        sql = page.find("#sql")
        sql.clear()
        sql.send_keys("INSERT INTO products (name, price) VALUES ('Yellow socks', 4.5)")
        page.submit("#run-sql")
        assert "1 change(s)" in page.find("#sql-meta").text
        sql = page.find("#sql")
        sql.clear()
        sql.send_keys("SELECT name, price FROM products WHERE price < 13 ORDER BY price")
        page.submit("#run-sql")
        grid = page.find("#sql-results").text
        assert "Yellow socks" in grid and "Red scarf" in grid and "Blue shirt" not in grid, grid
        step("SQL console: insert, then select into the grid")
        sql = page.find("#sql")
        sql.clear()
        sql.send_keys("SELECT * FROM missing_table")
        page.submit("#run-sql")
        err = page.find("#sql-error").text
        assert "DB_QUERY_FAILED" in err or "no such table" in err, err
        sql = page.find("#sql")
        sql.clear()
        sql.send_keys("SELECT id, name, price FROM products ORDER BY id")
        page.submit("#run-sql")
        page.find("#sql-results")
        page.shot("database")

        # Realtime: the live tail shows an emitted event.
        page.open("/dashboard/realtime?p=default")
        wait_for("the live tail", lambda: page.find("#tail-state").text == "live")
        api.ok("POST", "/v1/realtime/emit", {"event": "order.created", "data": {"id": 42}, "room": "orders"})
        row = wait_for("a tail row", lambda: driver.find_elements(By.CSS_SELECTOR, "tr.tail-row"))
        assert "orders" in row[0].text and "order.created" in row[0].text, row[0].text
        step("live tail: order.created on orders")
        page.shot("realtime")

        # Queue: the job dead-letters; Retry runs it again.
        wait_for("the dead letter", lambda: api.ok("POST", "/v1/queue/job", {"jobId": job})["job"]["status"] == "failed", timeout=20)
        page.open("/dashboard/queue?p=default&status=failed")
        row = page.find(f"tr:has(code.job-id)")
        assert job in row.text and "the report service is down" in row.text, row.text
        page.shot("queue")
        page.submit(row.find_element(By.CSS_SELECTOR, "button.retry"))
        assert "queued again" in page.flash_ok()
        again = wait_for("the retried run", lambda: (lambda j: j if j.get("attempts") == 2 and j.get("status") == "failed" else None)(
            api.ok("POST", "/v1/queue/job", {"jobId": job})["job"]), timeout=20)
        step(f"retried the dead letter: {again['attempts']} runs, status {again['status']}")

        # The rest renders (and is captured for the README).
        page.open("/dashboard/cache?p=default")
        assert "session:ada" in page.text()
        page.shot("cache")
        page.open("/dashboard/storage?p=default")
        assert "images/banner.png" in page.text()
        page.find("img.thumb")
        page.shot("storage")
        page.open("/dashboard/secrets?p=default")
        assert "STRIPE_KEY" in page.text() and "sk_test_not_shown_123" not in driver.page_source
        page.submit("button.reveal")
        assert page.find("code.secret-value").text == "sk_test_not_shown_123"
        step("secrets: masked, then revealed")
        page.shot("secrets")
        step("all dashboard browser checks passed")
    finally:
        if driver is not None:
            try:
                driver.quit()
            except WebDriverException:
                pass
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        if sys.exc_info()[0] is not None:
            for name in ("server.log", "worker.log"):
                f = Path(tmp.name) / name
                if f.exists():
                    print(f"--- {name} (last lines) ---\n" + "\n".join(f.read_text().splitlines()[-30:]), file=sys.stderr)
        tmp.cleanup()


if __name__ == "__main__":
    main()
