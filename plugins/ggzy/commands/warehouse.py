"""ggzy warehouse start|stop|url|status."""

from __future__ import annotations

import click

from ggzy.commands.replica import replica


@click.group()
def warehouse() -> None:
    """The warehouse server (embedded PostgreSQL unless GGZY_WAREHOUSE_URL is set)."""


@warehouse.command()
def start() -> None:
    """Start the embedded warehouse (idempotent) and create its databases and schemas."""
    from ggzy import pseudonym, schema
    from ggzy import warehouse as wh

    url = wh.start()
    schema.bootstrap(url)
    click.echo(wh._redact(url) + "   (full URL with the password: ggzy warehouse url)")
    # which key the pseudonyms are made with (after a rotation: the new one), never the key
    click.echo(f"pseudonym key in force: fingerprint {pseudonym.fingerprint(pseudonym.key())}", err=True)


@warehouse.command()
def stop() -> None:
    """Stop the embedded warehouse (no-op for an external one)."""
    from ggzy import warehouse as wh

    wh.stop()


@warehouse.command()
def url() -> None:
    """Print the libpq URL an analyst can paste into psql."""
    from ggzy import config

    click.echo(config.warehouse_url())


@warehouse.command()
def status() -> None:
    """Say whether the warehouse answers."""
    from ggzy import config
    from ggzy import warehouse as wh

    ok = wh.is_running(config.warehouse_url())
    click.echo("running" if ok else "not running")
    raise SystemExit(0 if ok else 1)


warehouse.add_command(replica)

commands = [warehouse]
