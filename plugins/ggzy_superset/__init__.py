"""GGZY Watch on Superset 6.1: configuration, setup, checks and screenshots.

This package runs in the Superset virtualenv (`.venv-superset`, SQLAlchemy 1.4,
pandas 2.1), never in the pipeline venv, and imports nothing from `ggzy`: the
two stacks cannot share a venv. Dependencies are the standard library plus what
Superset itself brings (requests, PyYAML, psycopg2, websocket-client).

Run with the repository's `plugins/` on the path::

    PYTHONPATH=plugins .venv-superset/bin/python -m ggzy_superset.setup --port 8088
    PYTHONPATH=plugins .venv-superset/bin/python -m ggzy_superset.stop
    PYTHONPATH=plugins .venv-superset/bin/python -m ggzy_superset.check
    PYTHONPATH=plugins .venv-superset/bin/python -m ggzy_superset.screenshot
    PYTHONPATH=plugins .venv-superset/bin/python -m ggzy_superset.export     # UI edits -> dashboards/

Environment (see `settings.py`):

| variable | meaning | default |
|---|---|---|
| GGZY_HOME | local state; Superset keeps `$GGZY_HOME/superset/` | `<repo>/.ggzy` |
| GGZY_SUPERSET_PORT | port of the web server (127.0.0.1) | 8088 |
| GGZY_SUPERSET_HOST | bind address | 127.0.0.1 |
| GGZY_SUPERSET_ADMIN / GGZY_SUPERSET_ADMIN_PASSWORD | admin login (GGZY_SUPERSET_PASSWORD is the database role's) | admin / admin |
| SUPERSET_SECRET_KEY | Flask secret; encrypts stored DB passwords | generated once into `$GGZY_HOME/superset/secret_key` |
| SUPERSET_METADATA_URL | Superset's own metadata DB (SQLAlchemy URL) | SQLite `$GGZY_HOME/superset/superset.db` |
| GGZY_WAREHOUSE_URL_FOR_SUPERSET | URL Superset uses to read the marts (ideally the read-only `ggzy_superset` role) | `GGZY_WAREHOUSE_URL`, else the embedded warehouse |
| GGZY_WAREHOUSE_URL / GGZY_PG_PORT | as for the pipeline | embedded on 127.0.0.1:55432 |
| GGZY_SUPERSET_WORKERS | gunicorn workers | 2 |
"""

__version__ = "0.1.0"
