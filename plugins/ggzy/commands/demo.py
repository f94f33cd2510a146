"""ggzy demo up|down (what `make demo` and `make stop` run)."""

from __future__ import annotations

import click


@click.group()
def demo() -> None:
    """The one-machine demo: everything real, left running."""


@demo.command()
def up() -> None:
    """Start the warehouse, generate and load demo data, run the nightly DAG, start Superset."""
    from ggzy.demo import up as _up

    _up()


@demo.command()
def down() -> None:
    """Stop Superset, Airflow and the embedded warehouse."""
    from ggzy.demo import down as _down

    _down()


commands = [demo]
