"""ggzy warehouse replica [stop|drop|status|url]: the read replica (ggzy.replica);
registered under `ggzy warehouse` by commands/warehouse.py."""

from __future__ import annotations

import click


@click.group(invoke_without_command=True)
@click.pass_context
def replica(ctx: click.Context) -> None:
    """Start a streaming read replica of the embedded warehouse (idempotent); print its URL.

    Readers (analysts, auditors, Superset) use it with their own roles; it refuses writes.
    Port: GGZY_REPLICA_PORT (default GGZY_PG_PORT + 1)."""
    if ctx.invoked_subcommand is not None:
        return
    from ggzy import replica as rp

    try:
        url = rp.start()
    except rp.ReplicaError as e:
        raise click.ClickException(str(e)) from e
    click.echo(url)


@replica.command()
def stop() -> None:
    """Stop the replica (its data stays; `ggzy warehouse replica` starts it again and it catches up)."""
    from ggzy import replica as rp

    rp.stop()


@replica.command()
def drop() -> None:
    """Stop the replica, delete its data and the primary's replication slot."""
    from ggzy import replica as rp

    rp.drop()


@replica.command()
def url() -> None:
    """Print the replica's libpq URL (for psql, or GGZY_WAREHOUSE_URL_FOR_SUPERSET)."""
    from ggzy import replica as rp

    click.echo(rp.replica_url())


@replica.command()
def status() -> None:
    """Is the replica streaming, and how far behind the primary is it? Exit 1 if not running."""
    from ggzy import replica as rp

    if not rp.is_running():
        click.echo("not running")
        raise SystemExit(1)
    lag = rp.lag()
    if lag is None:
        click.echo("running, but not connected to the primary")
        raise SystemExit(1)
    click.echo(f"{lag['state']}, {lag['bytes_behind']} bytes behind, replay lag {lag['replay_lag'] or '0'}")


commands: list = []  # under `ggzy warehouse`, not at the top level
