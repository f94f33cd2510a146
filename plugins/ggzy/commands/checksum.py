"""ggzy checksum: order-independent checksums of every mart and disclosure table."""

from __future__ import annotations

import click


@click.command()
@click.option("--schema", "schemas", multiple=True, default=("marts", "disclosure"), show_default=True)
@click.option("--total", is_flag=True, help="print only one checksum over all tables")
def checksum(schemas: tuple[str, ...], total: bool) -> None:
    """Print rows and an md5 per table; equal output = identical warehouse outputs."""
    import hashlib

    from ggzy.checksum import checksums

    sums = checksums(schemas=tuple(schemas))
    if total:
        click.echo(hashlib.md5("".join(f"{k}{n}{h}" for k, (n, h) in sorted(sums.items())).encode()).hexdigest())
        return
    for name, (n, h) in sorted(sums.items()):
        click.echo(f"{h}  {n:>9}  {name}")


commands = [checksum]
