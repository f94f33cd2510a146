"""A small client for Superset's REST API (login, CSRF, JSON helpers)."""

from __future__ import annotations

import json
import time
from typing import Any

import requests

from ggzy_superset import settings


class SupersetError(RuntimeError):
    pass


class Client:
    """A logged-in session: bearer token for the API plus the session cookie and
    CSRF token that Superset wants on state-changing requests."""

    def __init__(self, base_url: str | None = None, username: str | None = None, password: str | None = None):
        self.base = (base_url or settings.base_url()).rstrip("/")
        user, pw = settings.admin()
        self.username = username or user
        self.password = password or pw
        self.s = requests.Session()
        self.token: str | None = None

    # -- plumbing ---------------------------------------------------------------
    def url(self, path: str) -> str:
        return self.base + path

    def healthy(self) -> bool:
        try:
            r = self.s.get(self.url("/health"), timeout=3)
            return r.status_code == 200 and r.text.strip() == "OK"
        except requests.RequestException:
            return False

    def wait_healthy(self, timeout: float = 180) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.healthy():
                return
            time.sleep(1)
        raise SupersetError(f"Superset at {self.base} not healthy after {timeout:.0f}s")

    def login(self) -> Client:
        r = self.s.post(
            self.url("/api/v1/security/login"),
            json={"username": self.username, "password": self.password, "provider": "db", "refresh": True},
            timeout=30,
        )
        if r.status_code != 200:
            raise SupersetError(f"login as {self.username!r} failed: HTTP {r.status_code} {r.text[:200]}")
        self.token = r.json()["access_token"]
        self.s.headers["Authorization"] = f"Bearer {self.token}"
        csrf = self.s.get(self.url("/api/v1/security/csrf_token/"), timeout=30)
        csrf.raise_for_status()
        self.s.headers["X-CSRFToken"] = csrf.json()["result"]
        self.s.headers["Referer"] = self.base
        return self

    def request(self, method: str, path: str, *, ok: tuple[int, ...] = (200, 201), **kw: Any) -> Any:
        kw.setdefault("timeout", 120)
        r = self.s.request(method, self.url(path), **kw)
        if r.status_code not in ok:
            raise SupersetError(f"{method} {path}: HTTP {r.status_code} {r.text[:500]}")
        ctype = r.headers.get("content-type", "")
        return r.json() if ctype.startswith("application/json") else r

    def get(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Any:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> Any:
        return self.request("PUT", path, **kw)

    # -- objects ------------------------------------------------------------------------
    def list_all(self, resource: str, columns: list[str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        page = 0
        while True:
            q = _rison({"columns": columns, "page": page, "page_size": 100})
            res = self.get(f"/api/v1/{resource}/?q={q}")
            out.extend(res["result"])
            if len(out) >= res["count"] or not res["result"]:
                return out
            page += 1

    def dashboards(self) -> list[dict[str, Any]]:
        return self.list_all("dashboard", ["id", "uuid", "slug", "dashboard_title", "published"])

    def dashboard_charts(self, dashboard_id: int) -> list[dict[str, Any]]:
        return self.get(f"/api/v1/dashboard/{dashboard_id}/charts")["result"]

    def chart(self, chart_id: int) -> dict[str, Any]:
        return self.get(f"/api/v1/chart/{chart_id}")["result"]

    def chart_data(self, query_context: dict[str, Any]) -> dict[str, Any]:
        return self.post("/api/v1/chart/data", json=query_context, ok=(200,))


def _rison(value: Any) -> str:
    """Minimal rison encoder for list queries (dicts, lists, str, int, bool)."""
    if isinstance(value, bool):
        return "!t" if value else "!f"
    if value is None:
        return "!n"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        safe = value and all(c.isalnum() or c in "-_./~" for c in value) and not value[0].isdigit() and value[0] != "-"
        return value if safe else "'" + value.replace("!", "!!").replace("'", "!'") + "'"
    if isinstance(value, (list, tuple)):
        return "!(" + ",".join(_rison(v) for v in value) + ")"
    if isinstance(value, dict):
        return "(" + ",".join(f"{k}:{_rison(v)}" for k, v in value.items()) + ")"
    raise TypeError(type(value))


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=False)
