"""Superset reads this file via SUPERSET_CONFIG_PATH (docker-compose points here).

The configuration lives in plugins/ggzy_superset/superset_config.py, next to the
setup that uses it; this file only re-exports it.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

from ggzy_superset.superset_config import *  # noqa: E402,F401,F403
