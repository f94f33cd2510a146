"""Stop the Superset server that `ggzy_superset.setup` started for this GGZY_HOME.

    PYTHONPATH=plugins .venv-superset/bin/python -m ggzy_superset.stop
"""

from __future__ import annotations

import sys

from ggzy_superset import server


def main() -> int:
    state = server.running()
    if server.stop():
        print(f"[superset] stopped pid {state['pid']} (port {state['port']})")
    else:
        print("[superset] not running")
    return 0


if __name__ == "__main__":
    sys.exit(main())
