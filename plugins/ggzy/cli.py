"""`ggzy`: the data engineers' command line.

Every module in ggzy/commands/ contributes its subcommands through a module-level
`commands` list of click commands, so each part of the system adds its own
without touching this file. Heavy imports stay inside the commands.
"""

from __future__ import annotations

import importlib
import pkgutil

import click
import psycopg

from ggzy import commands as _commands_pkg


class _Group(click.Group):
    """A warehouse that cannot be reached is a one-line error saying what to do, not
    a traceback (the commands connect lazily, deep inside). A value the option types did
    not catch (ggzy.cli_types checks most at parse time) is a usage error, exit 2: the
    ValueError of date.fromisoformat, int(), a registry lookup ("unknown feed")..."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ValueError as e:
            raise click.UsageError(str(e).splitlines()[0] if str(e) else type(e).__name__, ctx) from e
        except FileNotFoundError as e:  # a file the command needs and the user has not made yet
            raise click.ClickException(str(e)) from e
        except psycopg.errors.UndefinedTable as e:
            first = str(e).strip().splitlines()[0]
            raise click.ClickException(f"{first}: the warehouse is not built that far yet "
                                       "(`ggzy warehouse start`, then `ggzy dbt build`, or `make demo`)") from e
        except psycopg.OperationalError as e:
            if not str(e).startswith("connection"):
                raise
            first = str(e).strip().splitlines()[0]
            raise click.ClickException(
                f"cannot reach the warehouse ({first}). Start the embedded one with `ggzy warehouse start` "
                "(or `make demo`), or set GGZY_WAREHOUSE_URL to a running PostgreSQL.") from e


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
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
