"""Start and stop the Superset web server (gunicorn) in the background.

One server per GGZY_HOME: its pid and port are kept in $GGZY_HOME/superset/server.json.
Only that pid is ever signalled.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ggzy_superset import settings


def state_file() -> Path:
    return settings.superset_home() / "server.json"


def log_file() -> Path:
    return settings.superset_home() / "superset.log"


def superset_env() -> dict[str, str]:
    """Environment for every Superset process we start."""
    env = dict(os.environ)
    env["SUPERSET_CONFIG_PATH"] = str(settings.CONFIG_FILE)
    env["SUPERSET_HOME"] = str(settings.superset_home())
    env["FLASK_APP"] = "superset"
    env["SUPERSET_SECRET_KEY"] = settings.secret_key()
    env.setdefault("SUPERSET_ENV", "production")
    plugins = str(settings.PACKAGE_DIR.parent)
    env["PYTHONPATH"] = plugins + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def superset_cli(*args: str, check: bool = True, quiet: bool = True) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("superset")
    cmd = [str(exe), *args]
    out = subprocess.run(cmd, env=superset_env(), capture_output=quiet, text=True)
    if check and out.returncode != 0:
        detail = (out.stderr or "")[-2000:] + (out.stdout or "")[-1000:] if quiet else ""
        raise RuntimeError(f"`superset {' '.join(a for a in args if 'password' not in a)}` failed ({out.returncode}): {detail}")
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours is not alive
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return True


def running() -> dict | None:
    """The recorded server if its process is alive, else None."""
    path = state_file()
    if not path.exists():
        return None
    try:
        state = json.loads(path.read_text())
    except ValueError:
        return None
    if _alive(int(state["pid"])):
        return state
    path.unlink(missing_ok=True)
    return None


def start(port: int, host: str, workers: int) -> dict:
    """Start gunicorn in its own session; returns the recorded state."""
    home = settings.superset_home()
    home.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable, "-m", "gunicorn",
        "--bind", f"{host}:{port}",
        "--workers", str(workers),
        "--worker-class", "gthread",
        "--threads", "4",
        "--timeout", "180",
        "--graceful-timeout", "20",
        "--limit-request-line", "0",
        "--limit-request-field_size", "0",
        "--access-logfile", "-",
        "superset.app:create_app()",
    ]
    log = open(log_file(), "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(cmd, env=superset_env(), stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True, cwd=str(home))
    state = {"pid": proc.pid, "port": port, "host": host, "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    state_file().write_text(json.dumps(state))
    return state


def stop(timeout: float = 30) -> bool:
    """Stop the recorded server. Returns True if one was running."""
    state = running()
    if not state:
        return False
    pid = int(state["pid"])
    os.kill(pid, signal.SIGTERM)  # gunicorn's master stops its workers
    deadline = time.time() + timeout
    while time.time() < deadline and _alive(pid):
        time.sleep(0.3)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    state_file().unlink(missing_ok=True)
    return True
