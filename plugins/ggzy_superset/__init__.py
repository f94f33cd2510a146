"""GGZY Watch on Superset 6.1: configuration, setup, checks and screenshots.

This package runs in the Superset virtualenv (`.venv-superset`, SQLAlchemy 1.4,
pandas 2.1), never in the pipeline venv, and imports nothing from `ggzy` but
`ggzy.settings` (standard library only): the two stacks cannot share a venv.
Dependencies are the standard library plus what Superset itself brings (requests,
PyYAML, psycopg2, websocket-client).

Run with the repository's `plugins/` on the path::

    PYTHONPATH=plugins .venv-superset/bin/python -m ggzy_superset.setup --port 8088
    PYTHONPATH=plugins .venv-superset/bin/python -m ggzy_superset.stop
    PYTHONPATH=plugins .venv-superset/bin/python -m ggzy_superset.check
    PYTHONPATH=plugins .venv-superset/bin/python -m ggzy_superset.screenshot
    PYTHONPATH=plugins .venv-superset/bin/python -m ggzy_superset.export     # UI edits -> dashboards/

Environment: the Superset rows of `ggzy.settings` (GGZY_SUPERSET_PORT, SUPERSET_SECRET_KEY,
GGZY_WAREHOUSE_URL_FOR_SUPERSET), read through `settings.py`; README.md lists them all.
"""

__version__ = "0.1.0"
