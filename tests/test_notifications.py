"""Failure and late-feed notices reach the webhook configured by environment
(AIRFLOW_CONN_GGZY_NOTIFY), and a broken notifier never fails the pipeline."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer


def test_failure_callback_posts_to_the_webhook(monkeypatch):
    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    t = threading.Thread(target=server.handle_request, daemon=True)
    t.start()
    monkeypatch.setenv("AIRFLOW_CONN_GGZY_NOTIFY", f"http://127.0.0.1:{server.server_port}/hook")
    from ggzy.dag_support import notify_failure

    class Run:
        dag_id, run_id = "ggzy_nightly", "scheduled__2026-11-22T18:00:00+00:00"

    class TI:
        task_id = "load_tax"

    notify_failure({"dag_run": Run(), "ti": TI(), "reason": "task_failure"})
    t.join(timeout=10)
    server.server_close()
    assert len(received) == 1
    text = received[0]["text"]
    assert "ggzy_nightly" in text and "load_tax" in text and "scheduled__2026-11-22" in text


def test_a_broken_notifier_does_not_raise(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_GGZY_NOTIFY", "http://127.0.0.1:1/nobody-listens")
    from ggzy.dag_support import notify

    notify("[GGZY] test")  # logs the error, returns
