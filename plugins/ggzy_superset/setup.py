"""Set up and start Superset for GGZY Watch, idempotently.

    PYTHONPATH=plugins .venv-superset/bin/python -m ggzy_superset.setup [--port 8088] [--restart]

1. metadata DB: `superset db upgrade` + `superset init` (skipped when Superset's
   version, our config and the metadata URL are unchanged since the last run);
2. start gunicorn in the background (pid in $GGZY_HOME/superset/server.json),
   unless ours is already running, and wait for /health;
3. admin user from GGZY_SUPERSET_ADMIN / GGZY_SUPERSET_ADMIN_PASSWORD (created, or its
   password reset, only when logging in with them fails);
4. import dashboards/ through the REST API (overwrite; the warehouse URL and
   password from the environment), skipped when neither the YAML nor the URL
   changed and the dashboards are there.
A second run with nothing changed takes a few seconds.

    --no-start   prepare and import, then stop the server again (an init container)
    --stop       stop the server (same as `python -m ggzy_superset.stop`)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from importlib import metadata

from ggzy_superset import bundle, server, settings
from ggzy_superset.client import Client, SupersetError


def _stamp_path():
    return settings.superset_home() / "setup-stamps.json"


def _stamps() -> dict:
    try:
        return json.loads(_stamp_path().read_text())
    except (OSError, ValueError):
        return {}


def _save_stamp(key: str, value: str) -> None:
    stamps = _stamps()
    stamps[key] = value
    _stamp_path().write_text(json.dumps(stamps, indent=1))


def _h(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def log(msg: str) -> None:
    print(f"[superset] {msg}", flush=True)


def migrate_metadata(force: bool = False) -> None:
    key = _h(metadata.version("apache-superset"), settings.CONFIG_FILE.read_text(), settings.metadata_url())
    if not force and _stamps().get("metadata") == key:
        log("metadata DB up to date")
        return
    t = time.time()
    server.superset_cli("db", "upgrade")
    server.superset_cli("init")
    _save_stamp("metadata", key)
    log(f"metadata DB upgraded and initialised ({time.time() - t:.0f}s)")


def ensure_admin(base_url: str) -> Client:
    user, password = settings.admin()
    client = Client(base_url, user, password)
    try:
        return client.login()
    except SupersetError:
        pass
    out = server.superset_cli("fab", "create-admin", "--username", user, "--firstname", "GGZY",
                              "--lastname", "Admin", "--email", f"{user}@ggzy.local", "--password", password)
    if "already exist" in (out.stdout + out.stderr):
        server.superset_cli("fab", "reset-password", "--username", user, "--password", password)
        log(f"admin {user!r}: password reset from {settings.ADMIN_PASSWORD_ENV}")
    else:
        log(f"admin {user!r} created")
    return Client(base_url, user, password).login()


def import_dashboards(client: Client, force: bool = False) -> None:
    url = settings.warehouse_url()
    key = _h(bundle.digest(), url, client.base)
    present = {d["uuid"] for d in client.dashboards()}
    wanted = _dashboard_uuids()
    if not force and _stamps().get("import") == key and wanted <= present:
        log(f"dashboards up to date ({len(wanted)})")
        return
    data, passwords = bundle.build_zip(url)
    t = time.time()
    client.post(
        "/api/v1/assets/import/",
        files={"bundle": ("ggzy_dashboards.zip", data, "application/zip")},
        data={"passwords": json.dumps(passwords)},
        ok=(200,),
        timeout=600,
    )
    _save_stamp("import", key)
    log(f"imported {len(wanted)} dashboards from dashboards/ ({time.time() - t:.0f}s); warehouse {settings.redact(url)}")


def _dashboard_uuids() -> set[str]:
    import yaml

    return {yaml.safe_load(p.read_text("utf-8"))["uuid"] for p in (settings.DASHBOARDS_DIR / "dashboards").glob("*.yaml")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="ggzy_superset.setup", description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=settings.port())
    ap.add_argument("--host", default=settings.host())
    ap.add_argument("--workers", type=int, default=settings.workers())
    ap.add_argument("--restart", action="store_true", help="restart the server if it is running")
    ap.add_argument("--force", action="store_true", help="rerun db upgrade/init and the import")
    ap.add_argument("--no-import", action="store_true", help="do not import dashboards/")
    ap.add_argument("--no-start", action="store_true",
                    help="prepare and import, then stop again (an init step, e.g. in docker-compose)")
    ap.add_argument("--stop", action="store_true", help="stop the server started for this GGZY_HOME, and exit")
    args = ap.parse_args(argv)
    if args.stop:
        from ggzy_superset import stop

        return stop.main()
    t0 = time.time()
    settings.superset_home().mkdir(parents=True, exist_ok=True)
    settings.secret_key()

    state = server.running()
    if state and (args.restart or int(state["port"]) != args.port):
        log(f"stopping the running server (pid {state['pid']}, port {state['port']})")
        server.stop()
        state = None
    migrate_metadata(force=args.force)
    base = settings.base_url(args.port)
    probe = Client(base)
    if state is None:
        if probe.healthy():
            log(f"port {args.port} already serves a Superset that is not ours; choose another --port")
            return 2
        state = server.start(args.port, args.host, args.workers)
        log(f"started gunicorn pid {state['pid']} on {args.host}:{args.port}; log {server.log_file()}")
    try:
        probe.wait_healthy(timeout=240)
    except SupersetError as exc:
        log(f"{exc}; last log lines:\n" + _tail(server.log_file()))
        return 1
    client = ensure_admin(base)
    if not args.no_import:
        import_dashboards(client, force=args.force)
    user, _ = settings.admin()
    if args.no_start:
        server.stop()
        log(f"prepared in {time.time() - t0:.0f}s (server stopped again: --no-start)")
        return 0
    log(f"ready in {time.time() - t0:.0f}s: {base}/dashboard/list/  (login {user} / ${settings.ADMIN_PASSWORD_ENV})")
    return 0


def _tail(path, n: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


if __name__ == "__main__":
    sys.exit(main())
