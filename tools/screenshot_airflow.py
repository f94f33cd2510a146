"""Screenshot of the Airflow UI's run list of the nightly DAG (headless Chromium), to see
what a data engineer sees after `make demo`.

    PYTHONPATH=plugins .venv-superset/bin/python tools/screenshot_airflow.py [--port 8080]
"""

from __future__ import annotations

import argparse
import base64
import shutil
import time
from pathlib import Path

import requests
from ggzy_superset.screenshot import CDP, launch

from ggzy import settings


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=settings.AIRFLOW_PORT.integer())
    ap.add_argument("--out", default="docs/screenshots/airflow-runs.png")
    a = ap.parse_args()
    base = f"http://127.0.0.1:{a.port}"
    token = requests.post(f"{base}/auth/token", json={
        "username": settings.AIRFLOW_USER.text(),
        "password": settings.AIRFLOW_PASSWORD.text()}, timeout=30).json()["access_token"]
    proc, ws, profile = launch()
    try:
        cdp = CDP(ws)
        cdp.call("Network.enable")
        cdp.call("Network.setCookie", name="_token", value=token, domain="127.0.0.1", path="/")
        cdp.call("Emulation.setDeviceMetricsOverride", width=1600, height=1000, deviceScaleFactor=1, mobile=False)
        cdp.call("Page.navigate", url=f"{base}/dags/ggzy_nightly/runs")
        time.sleep(12)
        shot = cdp.call("Page.captureScreenshot", format="png")
        Path(a.out).write_bytes(base64.b64decode(shot["data"]))
        print(a.out)
    finally:
        proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
