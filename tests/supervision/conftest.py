"""A warehouse of its own for the supervision tests: generate -> load -> dbt build -> alerts.

A database of its own on the session's server (and a GGZY_HOME of its own), so that the
alert, clue and credit tables hold only what these tests write. Everything passes the URL
explicitly; `ggzy` commands run as subprocesses with the module's environment, as a user
would run them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import psycopg
import pytest
from databases import own_database

REPO = Path(__file__).resolve().parents[2]
GGZY = str(Path(sys.executable).with_name("ggzy"))
FROM, TO, SCALE = "2026-09-01", "2026-10-31", "0.05"


@pytest.fixture(scope="session")
def sv(warehouse_url, tmp_path_factory) -> dict:
    """Loaded and built warehouse with the alerts synced: {'url', 'env', 'ggzy', 'q', 'dbt'}."""
    url = own_database(warehouse_url, "ggzy_supervision_test")
    home = tmp_path_factory.mktemp("ggzy-supervision")
    menv = {"GGZY_HOME": str(home), "GGZY_WAREHOUSE_URL": url, "GGZY_LANDING": str(home / "landing"),
            "DBT_TARGET_PATH": str(home / "dbt-target"), "DBT_LOG_PATH": str(home / "dbt-logs")}
    env = {k: v for k, v in os.environ.items() if k != "AIRFLOW_CONN_GGZY_NOTIFY"} | menv

    def ggzy(*args: str, check: bool = True, extra: dict | None = None) -> subprocess.CompletedProcess:
        proc = subprocess.run([GGZY, *args], env=env | (extra or {}), cwd=REPO, capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise AssertionError(f"ggzy {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return proc

    def q(sql: str, params=None) -> list[tuple]:
        with psycopg.connect(url) as conn:
            return conn.execute(sql, params).fetchall()

    def dbt(*select: str, vars_: str | None = None) -> None:
        args = ["dbt", "build", "-s", *select, "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]
        ggzy(*args, *(["--vars", vars_] if vars_ else []))

    ggzy("generate", "--landing", menv["GGZY_LANDING"], "--from", FROM, "--to", TO, "--scale", SCALE)
    ggzy("load", "--landing", menv["GGZY_LANDING"], "--from", FROM, "--to", TO)
    dbt("+path:models/marts/supervision", "+path:models/disclosure", "+fct_key_watch_list")
    ggzy("alerts", "sync", "--run-id", "test-1")
    return {"url": url, "env": env, "ggzy": ggzy, "q": q, "dbt": dbt}


@pytest.fixture()
def receiver():
    """A local webhook standing in for the departments' inbox: collects the JSON posted;
    `fail` = True answers 500 (a broken receiver)."""
    import json

    got: list[dict] = []
    state = {"fail": False}

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if state["fail"]:
                self.send_response(500)
            else:
                got.append(body)
                self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield {"url": f"http://127.0.0.1:{server.server_port}/dept-inbox", "got": got, "state": state}
    server.shutdown()
    server.server_close()
