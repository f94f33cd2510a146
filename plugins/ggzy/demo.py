"""`make demo`: one machine, every component real and left running.

Steps (each skipped when already done, so a second run is quick):
1. the embedded warehouse (or GGZY_WAREHOUSE_URL) with its schemas and roles;
2. a demo landing zone in the feed contract's formats (GGZY_LANDING, or generated);
3. the history before the recent days loaded with `ggzy load` (an initial load);
4. Airflow's services, and the nightly DAG run by the scheduler for the recent days
   (an `airflow backfill`), so the UI shows real, successful runs;
5. a 双随机 draw; supervision after the alert (ggzy.supervision.demo: a special
   inspection, a watched entity, one bid-rigging case from alert to credit repair);
   Superset with the dashboards imported; URLs and logins printed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import time
import zoneinfo
from pathlib import Path

import click

from ggzy import config, settings

SCALE = settings.DEMO_SCALE.number()
HISTORY_DAYS = settings.DEMO_HISTORY_DAYS.integer()
NIGHTLY_DAYS = settings.DEMO_NIGHTLY_DAYS.integer()
SEED = settings.DEMO_SEED.integer()
SUPERSET_PORT = settings.SUPERSET_PORT.integer()


def last_complete_batch_date() -> dt.date:
    """The newest batch date whose nightly interval has ended: batch D is processed by the
    run of the interval [D 02:00, D+1 02:00) Asia/Shanghai (dags/ggzy_nightly.py)."""
    now = dt.datetime.now(zoneinfo.ZoneInfo(config.TIMEZONE))
    return (now - dt.timedelta(hours=2)).date() - dt.timedelta(days=1)


def window() -> tuple[dt.date, dt.date, dt.date]:
    """(history start, first nightly date, last nightly date): the nightly runs cover
    the last NIGHTLY_DAYS batch dates whose intervals are complete."""
    last = last_complete_batch_date()
    first_nightly = last - dt.timedelta(days=NIGHTLY_DAYS - 1)
    return first_nightly - dt.timedelta(days=HISTORY_DAYS), first_nightly, last


def step(title: str):
    click.secho(f"==> {title}", fg="cyan", bold=True)
    return time.monotonic()


def done(t0: float, what: str = "done") -> None:
    click.echo(f"    {what} in {time.monotonic() - t0:.1f}s")


def superset_python() -> Path:
    return config.REPO / ".venv-superset" / "bin" / "python"


def up() -> None:
    from ggzy import schema, services, warehouse
    from ggzy.airflow_env import API_PORT
    from ggzy.runs import backfill_with_scheduler

    start, first, last = window()
    t = step("warehouse")
    url = warehouse.start()
    schema.bootstrap(url)
    _maybe("ggzy.roles", "apply_roles", url)
    from ggzy.warehouse import _redact

    done(t, _redact(config.warehouse_url()))

    landing = config.landing()
    t = step(f"demo landing zone {start} .. {last} (scale {SCALE}) in {landing}")
    stamp = landing / "_ground_truth" / "demo.json"
    regenerated = False
    want = {"start": start.isoformat(), "end": last.isoformat(), "scale": SCALE, "seed": SEED}
    if settings.LANDING.is_set():
        done(t, "using the given landing folder")
    elif stamp.exists() and json.loads(stamp.read_text()) == want:
        done(t, "already generated")
    else:
        from ggzy.generator import generate

        generate(landing, start, last, scale=SCALE, seed=SEED)
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(json.dumps(want))
        regenerated = True
        done(t, "generated")

    t = step(f"initial load of the history {start} .. {first - dt.timedelta(days=1)}")
    import inspect

    from ggzy.feeds.load import load_range

    kw = {"skip_unchanged": True} if "skip_unchanged" in inspect.signature(load_range).parameters else {}
    results = load_range(landing, start, first - dt.timedelta(days=1), url=url, **kw)
    done(t, f"{len(results)} batches")

    t = step("Airflow services")
    services.start_airflow()
    done(t, f"api-server healthy on :{API_PORT}")

    t = step(f"nightly DAG through the scheduler for {first} .. {last} (airflow backfill)")
    # new demo data: redo completed runs too, so no batch of an older demo stays in raw
    states = backfill_with_scheduler(first, last, reprocess="completed" if regenerated else "failed")
    for d, s in sorted(states.items()):
        click.echo(f"    {d}: {s}")
    done(t)
    if any(s != "success" for s in states.values()):
        raise SystemExit("some nightly runs did not succeed: see the Airflow UI")

    t = step("双随机一公开 draw")
    done(t, demo_draw(url, last))

    t = step("监管闭环: special inspection, watch list, one case from alert to credit repair")
    from ggzy.supervision.demo import demo_supervision

    done(t, demo_supervision(url, last, first))

    t = step("Superset")
    if superset_python().exists():
        subprocess.run([str(superset_python()), "-m", "ggzy_superset.setup", "--port", str(SUPERSET_PORT)],
                       check=True, cwd=config.REPO, env=_superset_env(url))
        done(t, f"running on :{SUPERSET_PORT}")
    else:
        done(t, "skipped: .venv-superset missing (run `make venvs`)")

    click.secho("\nGGZY Watch is running:", fg="green", bold=True)
    for line in summary(API_PORT):
        click.echo(line)


def _login(user: settings.Setting, password: settings.Setting) -> str:
    """A login as it may be printed: the demo default is no secret (it is in git); a
    password the user chose is never printed, only the variable that holds it."""
    if password.is_set():
        return f"{user.text()} / ${password.name}"
    return f"{user.text()} / {password.default} (demo default; set {password.name})"


def summary(api_port: int) -> list[str]:
    """The closing lines of `make demo`: where everything is, with every password masked."""
    from ggzy.warehouse import _redact

    return [
        f"  Airflow   http://127.0.0.1:{api_port}   login {_login(settings.AIRFLOW_USER, settings.AIRFLOW_PASSWORD)}",
        f"  Superset  http://127.0.0.1:{SUPERSET_PORT}   login "
        f"{_login(settings.SUPERSET_ADMIN, settings.SUPERSET_ADMIN_PASSWORD)}",
        f"  Warehouse {_redact(config.warehouse_url())}   (full URL: make -s warehouse-url; "
        f"role logins: {config.secrets_dir()}/roles.env)",
        "  Stop with: make stop",
    ]


def demo_draw(url: str, day: dt.date) -> str:
    """Last month's and this month's tender draws, as the office would make them: a seed
    committed first, then the draw, then its verification. Last month's inspections are
    recorded as done (some published, some not yet) so the follow-up has something to show.
    Idempotent: existing commitments, draws and results are kept."""
    from ggzy import db
    from ggzy.sampling.store import DrawRefused, commit_seed, draw_id_for, perform_draw, record_result, verify
    from ggzy.transform import run_dbt

    this_month = day.replace(day=1)
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    said = []
    for month in (last_month, this_month):
        period = f"{month:%Y-%m}"
        try:
            commit_seed("TND-M", period, seed=f"ggzy-demo-{period}", url=url)
        except DrawRefused:
            pass  # committed before
        perform_draw("TND-M", period, url=url, require_due=False)
        draw_id = draw_id_for("TND-M", period)
        said.append(f"{draw_id} {'verified' if verify(draw_id, url=url).ok else 'NOT VERIFIED'}")
    draw_id = draw_id_for("TND-M", f"{last_month:%Y-%m}")
    with db.connect(url) as conn:
        done_before = conn.execute("select count(*) from sampling.inspection_results where draw_id = %s",
                                   (draw_id,)).fetchone()[0]
        objects = [r[0] for r in conn.execute(
            "select object_id from sampling.draw_objects where draw_id = %s order by object_id", (draw_id,))]
    if not done_before:
        outcomes = ("no_issue", "no_issue", "issue_found", "referred")
        findings = {"no_issue": "未发现问题", "issue_found": "发现问题，已责令整改", "referred": "发现违法线索，已移交处理"}
        for i, object_id in enumerate(objects[: max(1, len(objects) * 3 // 4)]):
            inspected = this_month + dt.timedelta(days=2 + i % 10)
            published = inspected + dt.timedelta(days=6) if i % 4 else None
            outcome = outcomes[i % len(outcomes)]
            record_result(draw_id, object_id, finding=findings[outcome], outcome=outcome,
                          inspected_on=inspected, published_on=published if published and published <= day else None,
                          url=url)
    run_dbt(["build", "--quiet", "-s", "path:models/marts/sampling", "path:models/disclosure/sampling"], url=url)
    return "; ".join(said)


def superset_warehouse_url(url: str) -> str:
    """Superset reads the warehouse as the role made for it (marts, disclosure, reference),
    not as the superuser; the superuser only while that role has no password."""
    from ggzy import roles

    pw, _ = roles.password_for(roles.role("ggzy_superset"))
    if not pw:
        return config.libpq_url(url)
    return config.with_login(url, "ggzy_superset", pw)


def _superset_env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    name = settings.WAREHOUSE_URL_FOR_SUPERSET.name
    env[name] = settings.WAREHOUSE_URL_FOR_SUPERSET.value() or superset_warehouse_url(url)
    env["PYTHONPATH"] = str(config.REPO / "plugins")
    return env


def _maybe(module: str, fn: str, *args):
    """Call an optional part of the system if it is installed in this checkout."""
    import importlib

    try:
        mod = importlib.import_module(module)
    except ImportError:
        click.echo(f"    ({module} not available yet; skipped)")
        return None
    return getattr(mod, fn)(*args)


def down() -> None:
    from ggzy import celery_local, replica, services, warehouse

    if superset_python().exists():
        subprocess.run([str(superset_python()), "-m", "ggzy_superset.setup", "--stop"], cwd=config.REPO,
                       env={**os.environ, "PYTHONPATH": str(config.REPO / "plugins")}, check=False)
    # Airflow on Celery (`ggzy airflow celery up`) has workers and Redis besides the services
    if celery_local.executor_info():
        celery_local.stop()
    else:
        services.stop_airflow()
    replica.stop()
    warehouse.stop()
    click.echo("stopped")
