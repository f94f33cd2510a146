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
    pid = pid_of(name)
    if not pid:
        return False
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
            time.sleep(0.3)
        except ProcessLookupError:
            break
    else:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    (run_dir() / f"{name}.pid").unlink(missing_ok=True)
    return True


WAREHOUSE_POOL = "ggzy_warehouse_build"


def migrate_airflow(env: dict[str, str] | None = None) -> None:
    """Metadata DB up to date, and the one-slot pool that serialises the steps rebuilding
    shared tables (dbt build, alert sync, publication) across concurrent runs, e.g. a
    backfill next to the scheduled run."""
    env = env or airflow_env()
    subprocess.run([airflow_bin(), "db", "migrate"], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    subprocess.run([airflow_bin(), "pools", "set", WAREHOUSE_POOL, "1",
                    "one dbt build / alert sync / publication at a time"], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


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
    for name in reversed(list(AIRFLOW_SERVICES)):
        stop(name)


def admin_password() -> str | None:
    import json

    f = airflow_env()["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
    try:
        return json.loads(Path(f).read_text()).get(settings.AIRFLOW_USER.text())
    except (OSError, ValueError):
        return None
