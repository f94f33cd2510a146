"""ggzy dbt ARGS...: dbt against the configured warehouse."""

from __future__ import annotations

import click


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def dbt(args: tuple[str, ...]) -> None:
    """Run dbt on the configured warehouse: `ggzy dbt build`, `ggzy dbt docs generate`, ...

    The staging models are incremental: `ggzy dbt build` (as every night) recomputes only the
    keys of the batches loaded since the last run; `ggzy dbt build --full-refresh` rebuilds them
    from all of raw (needed after a change of the feed contract or of tools/gen_staging.py)."""
    from ggzy.transform import run_dbt

    raise SystemExit(run_dbt(list(args), check=False))


commands = [dbt]
