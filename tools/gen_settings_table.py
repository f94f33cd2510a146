"""Write README.md's table of environment variables from plugins/ggzy/settings.py.

    .venv/bin/python tools/gen_settings_table.py

The settings module declares each variable once, with its default and meaning; the
README shows the ones a deployment sets. tests/test_settings_declared.py fails when
the committed table differs from what this writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

from ggzy import settings  # noqa: E402


def main() -> int:
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    new = settings.readme_with_table(text)
    if new != text:
        readme.write_text(new, encoding="utf-8")
        print(f"wrote the table of {sum(s.scope == settings.USER for s in settings.SETTINGS.values())} "
              f"variables into {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
