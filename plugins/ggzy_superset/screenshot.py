"""Full-page screenshots of every dashboard in headless Chromium (no webdriver).

    PYTHONPATH=plugins .venv-superset/bin/python -m ggzy_superset.screenshot [--port 8088] [--out docs/screenshots]

Logs in through Superset's login form, hands the session cookie to Chromium and
drives it over the DevTools protocol (websocket-client, which Superset's venv
already has; no browser download: Debian's /usr/bin/chromium). Waits until no
chart is loading, then saves `<slug>.png`. Also saves `overview-filtered.png`: 总览
with the 州市 filter set to one prefecture (through a dashboard permalink, as a
user would share it), to show that the filter changes the numbers.
Fails (exit 1) when a dashboard shows an error tile or a chart never finishes
(and, with --strict, when a chart shows 没有数据; `check` is the place for that).
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
import websocket

from ggzy_superset import settings
from ggzy_superset.client import Client

CHROMIUM = settings.env.CHROMIUM.value() or shutil.which("chromium") or "/usr/bin/chromium"
WIDTH = 1600

STATE_JS = """
(() => {
  const q = s => Array.from(document.querySelectorAll(s));
  const charts = q('[data-test="chart-grid-component"]');
  const loading = q('.loading, [data-test="loading-indicator"], .ant-skeleton-active');
  const errors = q('[data-test="error-tooltip"], .ant-alert-error, .alert-danger, [data-test="chart-error"]')
      .map(e => (e.innerText || e.getAttribute('aria-label') || 'error').slice(0, 200));
  const empty = q('[data-test="chart-grid-component"]')
      .filter(e => /No results|无结果|没有数据|此查询没有数据返回/.test(e.innerText || '')).length;
  const root = document.querySelector('.dashboard') || document.body;
  return JSON.stringify({charts: charts.length, loading: loading.length, errors, empty,
                         height: Math.max(document.body.scrollHeight, root.scrollHeight),
                         title: document.title, url: location.href});
})()
"""


class CDP:
    def __init__(self, ws_url: str):
        self.ws = websocket.create_connection(ws_url, timeout=120, suppress_origin=True)
        self.n = 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.n += 1
        self.ws.send(json.dumps({"id": self.n, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.n:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def eval(self, expr: str) -> Any:
        res = self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        return res.get("result", {}).get("value")


def session_cookie(base: str) -> dict[str, str]:
    """Log in through the form, as a browser would; returns the cookies."""
    user, password = settings.admin()
    s = requests.Session()
    page = s.get(f"{base}/login/", timeout=30).text
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page)
    data = {"username": user, "password": password}
    if m:
        data["csrf_token"] = m.group(1)
    r = s.post(f"{base}/login/", data=data, timeout=30, allow_redirects=True)
    if "session" not in s.cookies or "/login" in r.url:
        raise SystemExit(f"form login as {user!r} failed at {base}/login/")
    return s.cookies.get_dict()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch() -> tuple[subprocess.Popen, str, str]:
    port = free_port()
    profile = tempfile.mkdtemp(prefix="ggzy-chromium-")
    proc = subprocess.Popen(
        [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-extensions", "--disable-sync", "--no-first-run", "--hide-scrollbars", "--mute-audio",
         "--disable-dev-shm-usage", f"--remote-debugging-port={port}", "--remote-allow-origins=*",
         f"--user-data-dir={profile}", f"--window-size={WIDTH},1000", "--lang=zh-CN", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            targets = requests.get(f"http://127.0.0.1:{port}/json", timeout=2).json()
            pages = [t for t in targets if t.get("type") == "page"]
            if pages:
                return proc, pages[0]["webSocketDebuggerUrl"], profile
        except (requests.RequestException, ValueError):
            pass
        time.sleep(0.3)
    proc.kill()
    raise SystemExit("chromium did not start its DevTools endpoint")


def _settle(cdp: CDP, deadline: float) -> dict[str, Any]:
    """Poll until charts exist and none is loading for 3 polls in a row."""
    calm = 0
    state: dict[str, Any] = {}
    while time.time() < deadline:
        state = json.loads(cdp.eval(STATE_JS) or "{}")
        if state.get("charts", 0) > 0 and state.get("loading", 1) == 0:
            calm += 1
            if calm >= 3:
                return state
        else:
            calm = 0
        time.sleep(1)
    state["timeout"] = True
    return state


def shoot(cdp: CDP, url: str, out: Path, timeout: float = 150) -> dict[str, Any]:
    deadline = time.time() + timeout
    height = 1400
    cdp.call("Emulation.setDeviceMetricsOverride", width=WIDTH, height=height, deviceScaleFactor=1, mobile=False)
    cdp.call("Page.navigate", url=url)
    time.sleep(2)
    state = _settle(cdp, deadline)
    want = min(int(state.get("height") or height) + 20, 12000)
    if want > height:  # grow the viewport to the whole dashboard, let the charts re-render
        height = want
        cdp.call("Emulation.setDeviceMetricsOverride", width=WIDTH, height=height, deviceScaleFactor=1, mobile=False)
        time.sleep(1.5)
        state = _settle(cdp, deadline) | ({"timeout": True} if state.get("timeout") else {})
    time.sleep(2.5)  # echarts animations
    state = json.loads(cdp.eval(STATE_JS) or "{}") | ({"timeout": True} if state.get("timeout") else {})
    shot = cdp.call("Page.captureScreenshot", format="png")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(base64.b64decode(shot["data"]))
    return state


def permalink(client: Client, dashboard_id: int, filter_id: str, column: str, value: str) -> str:
    mask = {filter_id: {"id": filter_id, "extraFormData": {"filters": [{"col": column, "op": "IN", "val": [value]}]},
                        "filterState": {"value": [value], "label": value}, "ownState": {}}}
    res = client.post(f"/api/v1/dashboard/{dashboard_id}/permalink",
                      json={"dataMask": mask, "activeTabs": [], "anchor": "", "urlParams": []})
    return res["url"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="ggzy_superset.screenshot", description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=settings.port())
    ap.add_argument("--out", type=Path, default=settings.SCREENSHOTS_DIR)
    ap.add_argument("--only", action="append", help="dashboard slug (repeatable)")
    ap.add_argument("--strict", action="store_true", help="also fail on charts showing 没有数据 (no data)")
    ap.add_argument("--filter-value", default="昆明市", help="州市 shown in overview-filtered.png")
    args = ap.parse_args(argv)
    base = settings.base_url(args.port)
    client = Client(base).login()
    cookies = session_cookie(base)
    proc, ws_url, profile = launch()
    failures = 0
    try:
        cdp = CDP(ws_url)
        cdp.call("Network.enable")
        host = base.split("://", 1)[1].split(":")[0].split("/")[0]
        for name, value in cookies.items():
            cdp.call("Network.setCookie", name=name, value=value, domain=host, path="/", httpOnly=True)
        cdp.call("Page.enable")
        shots = []
        for d in sorted(client.dashboards(), key=lambda d: d["id"]):
            slug = d.get("slug") or str(d["id"])
            if args.only and slug not in args.only:
                continue
            shots.append((slug, f"{base}/superset/dashboard/{slug}/?standalone=0", d))
            if slug == "overview":
                meta = json.loads(client.get(f"/api/v1/dashboard/{d['id']}")["result"]["json_metadata"] or "{}")
                flt = next((f for f in meta.get("native_filter_configuration", [])
                            if f.get("filterType") == "filter_select"
                            and f["targets"][0].get("column", {}).get("name") == "prefecture_name"), None)
                if flt:
                    shots.append(("overview-filtered", permalink(client, d["id"], flt["id"], "prefecture_name",
                                                                 args.filter_value), d))
        for name, url, d in shots:
            t = time.time()
            state = shoot(cdp, url, args.out / f"{name}.png")
            bad = bool(state.get("errors")) or state.get("timeout") or state.get("charts", 0) == 0 \
                or (state.get("empty", 0) > 0 and args.strict)
            failures += bool(bad)
            print(f"{'FAIL' if bad else 'ok  '} {name:<20} {d['dashboard_title']:<12} charts={state.get('charts')}"
                  f" errors={len(state.get('errors') or [])} empty={state.get('empty')}"
                  f"{' TIMEOUT' if state.get('timeout') else ''} {time.time() - t:.0f}s -> {args.out / (name + '.png')}")
            for e in (state.get("errors") or [])[:5]:
                print(f"       error tile: {e}")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
