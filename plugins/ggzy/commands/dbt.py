"""ggzy dbt ARGS...: dbt against the configured warehouse."""

from __future__ import annotations

import click


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def dbt(args: tuple[str, ...]) -> None:
    """Run dbt on the configured warehouse: `ggzy dbt build`, `ggzy dbt docs generate`, ..."""
    from ggzy.transform import run_dbt

    raise SystemExit(run_dbt(list(args), check=False))


commands = [dbt]
