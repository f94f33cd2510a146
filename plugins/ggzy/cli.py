"""`ggzy`: the data engineers' command line.

Every module in ggzy/commands/ contributes its subcommands through a module-level
`commands` list of click commands, so each part of the system adds its own
without touching this file. Heavy imports stay inside the commands.
"""

from __future__ import annotations

import importlib
import pkgutil

import click

from ggzy import commands as _commands_pkg


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ggzy-watch")
def main() -> None:
    """GGZY Watch: 公共资源交易协同监管数据仓库 (the supervision warehouse).

    Settings come from the environment: GGZY_WAREHOUSE_URL (any PostgreSQL >= 15;
    unset = the embedded one), GGZY_LANDING (landing folder), GGZY_HOME (local state).
    """


def _register() -> None:
    for info in sorted(pkgutil.iter_modules(_commands_pkg.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{_commands_pkg.__name__}.{info.name}")
        for cmd in getattr(module, "commands", []):
            main.add_command(cmd)


_register()

if __name__ == "__main__":
    main()
