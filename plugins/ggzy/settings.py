"""Every environment variable GGZY Watch reads, with its default and meaning, declared once.

One set of commands runs any landing zone into any warehouse: what differs between
deployments comes from the environment, and this module is the list of it. Code reads
a variable through its declaration (``settings.PG_PORT.integer()``), never through
``os.environ.get`` with a default of its own; tests/test_settings_declared.py fails when
a module names a ``GGZY_*`` variable that is not declared here, and when README.md's
table (``.venv/bin/python tools/gen_settings_table.py``) differs from ``markdown_table()``.

Standard library only: the Superset side (``ggzy_superset``, another virtualenv) reads
its variables through this module too.

An empty value counts as unset (``GGZY_WAREHOUSE_URL=`` means the embedded warehouse).
Defaults that depend on other settings (``$GGZY_HOME/landing``) are computed where they
are used (``ggzy.config``); ``shown`` says what they are.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

USER, INTERNAL, TEST = "user", "internal", "test"


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None  # as the environment would hold it; None: unset (see `shown`)
    meaning: str
    shown: str = ""  # the README's default column when `default` does not say it
    scope: str = USER  # USER: documented in the README; INTERNAL: set by ggzy for another tool; TEST: tests only

    def value(self) -> str | None:
        given = os.environ.get(self.name)
        return given if given else self.default

    def is_set(self) -> bool:
        return bool(os.environ.get(self.name))

    def text(self) -> str:
        value = self.value()
        if value is None:
            raise LookupError(f"{self.name} is not set and has no default: {self.meaning}")
        return value

    def integer(self) -> int:
        try:
            return int(self.text())
        except ValueError:
            raise ValueError(f"{self.name}={self.value()!r}: not a whole number ({self.meaning})") from None

    def number(self) -> float:
        try:
            return float(self.text())
        except ValueError:
            raise ValueError(f"{self.name}={self.value()!r}: not a number ({self.meaning})") from None

    @property
    def default_shown(self) -> str:
        return self.shown or (f"{self.default}" if self.default is not None else "unset")


SETTINGS: dict[str, Setting] = {}


def declare(name: str, default: str | None, meaning: str, shown: str = "", scope: str = USER) -> Setting:
    if name in SETTINGS:
        raise ValueError(f"{name} declared twice")
    SETTINGS[name] = Setting(name, default, meaning, shown, scope)
    return SETTINGS[name]


# ---------------------------------------------------------------- where things are
WAREHOUSE_URL = declare(
    "GGZY_WAREHOUSE_URL", None,
    "the warehouse as one libpq URL, any PostgreSQL ≥ 15 (`postgresql://user:pw@host:5432/ggzy?sslmode=require`; "
    "percent-encode the password); Airflow's metadata goes to database `airflow` on the same server",
    "unset = embedded PostgreSQL 18 on 127.0.0.1")
LANDING = declare("GGZY_LANDING", None, "landing folder `<landing>/<feed>/<YYYY-MM-DD>/`",
                  "`$GGZY_HOME/landing` (demo data)")
HOME = declare("GGZY_HOME", None, "local state: embedded pgdata, Airflow home, logs, exports, secrets", "`.ggzy/`")
EXPORT_DIR = declare("GGZY_EXPORT_DIR", None, "where the disclosure exports are written", "`$GGZY_HOME/exports`")
PG_PORT = declare("GGZY_PG_PORT", "55432", "port of the embedded warehouse")

# ---------------------------------------------------------------- loading and the quality gate
FEED_DEADLINE_HOURS = declare("GGZY_FEED_DEADLINE_HOURS", "30",
                              "a day's batch is \"late\" this long after the end of its day")
MAX_QUARANTINE_RATE = declare("GGZY_MAX_QUARANTINE_RATE", "0.05",
                              "quality gate: largest share of quarantined rows per file")
GATE_MIN_ROWS = declare("GGZY_GATE_MIN_ROWS", "20",
                        "quality gate: a file with fewer rows only warns on its quarantine rate (one bad row "
                        "of two is 50 %)")
MAX_LINE_BYTES = declare("GGZY_MAX_LINE_BYTES", str(1 << 20),
                         "longest line the loader takes (CSV record, JSON line); longer: quarantined (`too_long`)")
MAX_FIELD_BYTES = declare("GGZY_MAX_FIELD_BYTES", str(64 << 10),
                          "longest value (CSV field, JSON key or string); longer: quarantined (`too_long`)")
MAX_JSON_DEPTH = declare("GGZY_MAX_JSON_DEPTH", "32", "deepest nesting of a JSON line; deeper: quarantined "
                         "(`json_depth`)")
LOAD_AHEAD_DAYS = declare("GGZY_LOAD_AHEAD_DAYS", "1",
                          "batch dates after today + N days (Asia/Shanghai) are held, not loaded")

# ---------------------------------------------------------------- Airflow and notifications
NOTIFY_CONN = declare(
    "AIRFLOW_CONN_GGZY_NOTIFY", None,
    "failure/late-feed notifications and new alerts: `https://…` webhook (JSON) or `smtp://…?to=…`", "none")
NOTIFY_MIN_SEVERITY = declare("GGZY_NOTIFY_MIN_SEVERITY", "high",
                              "new alerts at or above this severity (low, medium, high) are sent to their "
                              "department, once each")
TASK_RETRIES = declare("GGZY_TASK_RETRIES", "2", "retries of every Airflow task (exponential back-off)")
RETRY_DELAY_SECONDS = declare("GGZY_RETRY_DELAY_SECONDS", "60", "first delay before an Airflow task's retry")
SENSOR_POKE_SECONDS = declare("GGZY_SENSOR_POKE_SECONDS", "300",
                              "how often the nightly run looks for a feed's manifest")
SENSOR_TIMEOUT_SECONDS = declare("GGZY_SENSOR_TIMEOUT_SECONDS", str(60 * 60 * 48),
                                 "longest wait for a feed's manifest (the feed deadline skips it earlier)")
SENSOR_MODE = declare("GGZY_SENSOR_MODE", "reschedule",
                      "`reschedule` frees the worker slot between looks; `poke` keeps it (quicker in tests)")
AIRFLOW_PORT = declare("GGZY_AIRFLOW_PORT", "8080", "port of Airflow's web server and API (127.0.0.1)")
AIRFLOW_USER = declare("GGZY_AIRFLOW_USER", "admin", "Airflow's web login (admin)")
AIRFLOW_PASSWORD = declare("GGZY_AIRFLOW_PASSWORD", "admin", "its password", "admin (demo)")
DBT_THREADS = declare("GGZY_DBT_THREADS", "4",
                      "models and tests dbt builds at once, in the night (cosmos) and in `ggzy dbt`")
WAREHOUSE_CONN = declare("AIRFLOW_CONN_GGZY_WAREHOUSE", None,
                         "the warehouse as Airflow's connection `ggzy_warehouse`; set by ggzy from the warehouse "
                         "URL", scope=INTERNAL)

# ---------------------------------------------------------------- scale-out: Celery and the read replica
REDIS_URL = declare("GGZY_REDIS_URL", None,
                    "Celery broker of `ggzy airflow celery` (`redis://:pw@host:6379/0`)",
                    "unset = local redis-server on 127.0.0.1")
REDIS_PORT = declare("GGZY_REDIS_PORT", "56379", "port of that local redis-server")
REDIS_PASSWORD = declare("GGZY_REDIS_PASSWORD", "redis-demo", "its password")
REPLICA_PORT = declare("GGZY_REPLICA_PORT", None, "port of the read replica (`ggzy warehouse replica`)",
                       "`GGZY_PG_PORT` + 1")
REPLICATION_PASSWORD = declare("GGZY_REPLICATION_PASSWORD", None,
                               "password of the replication role `ggzy_replicator`",
                               "generated into `$GGZY_HOME/secrets`")

# ---------------------------------------------------------------- personal data and roles
PSEUDONYM_KEY = declare("GGZY_PSEUDONYM_KEY", None,
                        "key of the pseudonyms (HMAC) of natural persons; see [docs/access.md](docs/access.md) "
                        "for rotation", "generated into `$GGZY_HOME/secrets/pseudonym.key`")
PSEUDONYM_KEY_CONN = declare("AIRFLOW_CONN_GGZY_PSEUDONYM_KEY", None,
                             "the same key as an Airflow connection (`generic://:KEY@`), read when "
                             "`GGZY_PSEUDONYM_KEY` is unset", "none")
ROLE_PASSWORD = declare("GGZY_<ROLE>_PASSWORD", None,
                        "passwords of the database roles (`GGZY_ANALYST_PASSWORD`, `GGZY_AUDITOR_PASSWORD`, "
                        "`GGZY_PIPELINE_PASSWORD`, `GGZY_PUBLIC_PASSWORD`, `GGZY_SUPERSET_PASSWORD`)",
                        "NOLOGIN; demo: generated into `$GGZY_HOME/secrets/roles.env`")
DEMO = declare("GGZY_DEMO", None, "`1` in a demo (`make demo`): role passwords are generated when not given",
               "unset")


def role_password(role: str) -> str | None:
    """GGZY_<ROLE>_PASSWORD of database role `ggzy_<role>` (None: not given)."""
    return os.environ.get(role_password_name(role)) or None


def role_password_name(role: str) -> str:
    """The variable of `ggzy_analyst`'s password: GGZY_ANALYST_PASSWORD."""
    return f"GGZY_{role.removeprefix('ggzy_').upper()}_PASSWORD"


# ---------------------------------------------------------------- the demo
DEMO_SCALE = declare("GGZY_DEMO_SCALE", "0.05", "size of the demo landing zone (`ggzy generate --scale`)")
DEMO_HISTORY_DAYS = declare("GGZY_DEMO_HISTORY_DAYS", "300", "days of history the demo loads before its nights")
DEMO_NIGHTLY_DAYS = declare("GGZY_DEMO_NIGHTLY_DAYS", "3", "nights the demo runs through Airflow")
DEMO_SEED = declare("GGZY_DEMO_SEED", "20261123", "seed of the demo generator (same seed, same landing zone)")

# ---------------------------------------------------------------- Superset
SUPERSET_HOST = declare("GGZY_SUPERSET_HOST", "127.0.0.1", "bind address of Superset's web server")
SUPERSET_PORT = declare("GGZY_SUPERSET_PORT", "8088", "its port")
SUPERSET_URL = declare("GGZY_SUPERSET_URL", None, "Superset's address for the checks and screenshots",
                       "`http://<host>:<port>`")
SUPERSET_ADMIN = declare("GGZY_SUPERSET_ADMIN", "admin", "Superset's web login (admin)")
SUPERSET_ADMIN_PASSWORD = declare("GGZY_SUPERSET_ADMIN_PASSWORD", "admin",
                                  "its password (`GGZY_SUPERSET_PASSWORD` is the database role's)", "admin (demo)")
SUPERSET_WORKERS = declare("GGZY_SUPERSET_WORKERS", "2", "gunicorn workers of Superset")
WAREHOUSE_URL_FOR_SUPERSET = declare(
    "GGZY_WAREHOUSE_URL_FOR_SUPERSET", None,
    "the URL Superset reads the marts with (the read-only `ggzy_superset` role, or a replica)",
    "`GGZY_WAREHOUSE_URL`, else the embedded warehouse")
SUPERSET_WAREHOUSE_URL = declare("GGZY_SUPERSET_WAREHOUSE_URL", None,
                                 "older name of `GGZY_WAREHOUSE_URL_FOR_SUPERSET`")
SUPERSET_METADATA_URL = declare("SUPERSET_METADATA_URL", None, "Superset's own metadata database (SQLAlchemy URL)",
                                "SQLite `$GGZY_HOME/superset/superset.db`")
SUPERSET_METADATA_URL_OLD = declare("GGZY_SUPERSET_METADATA_URL", None, "older name of `SUPERSET_METADATA_URL`")
SUPERSET_SECRET_KEY = declare("SUPERSET_SECRET_KEY", None, "Flask secret; encrypts the stored warehouse password",
                              "generated into `$GGZY_HOME/superset/secret_key`")
CHROMIUM = declare("GGZY_CHROMIUM", None, "the browser that takes the dashboard screenshots",
                   "`chromium` on the PATH")

# ---------------------------------------------------------------- set by ggzy for dbt's profile (profiles.yml)
for _name, _meaning in (("GGZY_PG_HOST", "host"), ("GGZY_PG_PORT_DBT", "port"), ("GGZY_PG_USER", "user"),
                        ("GGZY_PG_PASSWORD", "password"), ("GGZY_PG_DATABASE", "database")):
    declare(_name, None, f"the warehouse URL's {_meaning}, for dbt_project/profiles.yml (ggzy.transform.dbt_env)",
            scope=INTERNAL)

# ---------------------------------------------------------------- tests only (tests/conftest.py and friends)
declare("GGZY_TEST_WAREHOUSE_URL", None, "a running server the tests use instead of starting one", scope=TEST)
declare("GGZY_TEST_SESSION_HOME", None, "the test session's GGZY_HOME, shared with subprocesses", scope=TEST)
declare("GGZY_TEST_FEEDS_PORT", None, "port of the loader tests' own server", scope=TEST)
declare("GGZY_TEST_ARTEFACTS", None, "where report tests keep the PDFs they made", scope=TEST)


def markdown_table() -> str:
    """README.md's table of the variables a deployment sets (tools/gen_settings_table.py)."""
    rows = ["| variable | meaning | default |", "|---|---|---|"]
    for s in SETTINGS.values():
        if s.scope == USER:
            rows.append(f"| `{s.name}` | {s.meaning} | {s.default_shown} |")
    return "\n".join(rows) + "\n"


README_BEGIN = "<!-- generated from plugins/ggzy/settings.py by tools/gen_settings_table.py: edit there -->\n"
README_END = "<!-- end of the generated table -->\n"


def readme_with_table(readme: str) -> str:
    """README.md's text with the generated table between its two markers."""
    head, sep, rest = readme.partition(README_BEGIN)
    _, sep2, tail = rest.partition(README_END)
    if not (sep and sep2):
        raise ValueError(f"README.md lacks the markers {README_BEGIN.strip()} … {README_END.strip()}")
    return head + README_BEGIN + markdown_table() + README_END + tail
