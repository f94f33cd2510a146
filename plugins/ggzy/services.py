"""Background services started by `make demo` (Airflow's api-server, scheduler,
dag-processor and triggerer), with pid files and logs under $GGZY_HOME/run.

On a server, docker-compose.yml runs the same processes; this is the one-machine way.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from ggzy import config, settings
from ggzy.airflow_cli import run_commands
from ggzy.airflow_env import API_PORT, airflow_env

AIRFLOW_SERVICES = {
    "airflow-api-server": ["api-server", "--port", str(API_PORT), "--host", "127.0.0.1"],
    "airflow-scheduler": ["scheduler"],
    "airflow-dag-processor": ["dag-processor"],
    "airflow-triggerer": ["triggerer"],
}


def run_dir() -> Path:
    d = config.home() / "run"
    d.mkdir(parents=True, exist_ok=True)
    return d


def airflow_bin() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def pid_of(name: str) -> int | None:
    f = run_dir() / f"{name}.pid"
    if not f.exists():
        return None
    try:
        pid = int(f.read_text().strip())
        os.kill(pid, 0)
        return pid
    except (ValueError, ProcessLookupError, PermissionError):
        f.unlink(missing_ok=True)
        return None


def start(name: str, argv: list[str], env: dict[str, str]) -> int:
    pid = pid_of(name)
    if pid:
        return pid
    log = open(run_dir() / f"{name}.log", "ab")
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True, cwd=str(config.REPO))
    (run_dir() / f"{name}.pid").write_text(str(proc.pid))
    return proc.pid


def stop(name: str, timeout: float = 20) -> bool:
    return bool(stop_all([name], timeout))


def stop_all(names: list[str], timeout: float = 20) -> list[str]:
    """SIGTERM to each named service's process group at once, then wait up to `timeout` for
    them together (SIGKILL for those still running); returns the names that were running.
    Stopping them one after the other cost a test's teardown ~25 s for seven services."""
    pids = {name: pid for name in names if (pid := pid_of(name))}
    for pid in pids.values():
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.time() + timeout
    alive = dict(pids)
    while alive and time.time() < deadline:
        alive = {name: pid for name, pid in alive.items() if _running(pid)}
        if alive:
            time.sleep(0.2)
    for pid in alive.values():
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for name in pids:
        (run_dir() / f"{name}.pid").unlink(missing_ok=True)
    return list(pids)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


WAREHOUSE_POOL = "ggzy_warehouse_build"


def migrate_airflow(env: dict[str, str] | None = None) -> None:
    """Metadata DB up to date, and the one-slot pool that serialises the steps rebuilding
    shared tables (dbt build, alert sync, publication) across concurrent runs, e.g. a
    backfill next to the scheduled run."""
    run_commands(migrate_commands(), env or airflow_env())


def migrate_commands() -> list[list[str]]:
    """The `airflow` commands of migrate_airflow, to run with others in one process."""
    return [["db", "migrate"],
            ["pools", "set", WAREHOUSE_POOL, "1", "one dbt build / alert sync / publication at a time"]]


def ensure_admin_password() -> None:
    """The simple auth manager keeps its passwords in a JSON file; seed the admin's from
    GGZY_AIRFLOW_PASSWORD (default `admin` for the demo) so the login is known."""
    import json

    f = Path(airflow_env()["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    user = settings.AIRFLOW_USER.text()
    want = settings.AIRFLOW_PASSWORD.text()
    try:
        current = json.loads(f.read_text())
    except (OSError, ValueError):
        current = {}
    if current.get(user) != want:
        current[user] = want
        f.write_text(json.dumps(current))
    f.chmod(0o600)  # a login: the owner's only


def start_airflow(wait: float = 180) -> None:
    migrate_airflow()
    ensure_admin_password()
    env = airflow_env()
    for name, args in AIRFLOW_SERVICES.items():
        start(name, [airflow_bin(), *args], env)
    deadline = time.time() + wait
    while time.time() < deadline:
        if api_healthy():
            return
        time.sleep(2)
    raise SystemExit(f"Airflow api-server did not become healthy in {wait:.0f}s; see {run_dir()}/airflow-api-server.log")


def api_healthy() -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{API_PORT}/api/v2/monitor/health", timeout=3) as r:
            return r.status == 200
    except OSError:
        return False


def stop_airflow() -> None:
    stop_all(list(AIRFLOW_SERVICES))


def admin_password() -> str | None:
    import json

    f = airflow_env()["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
    try:
        return json.loads(Path(f).read_text()).get(settings.AIRFLOW_USER.text())
    except (OSError, ValueError):
        return None
