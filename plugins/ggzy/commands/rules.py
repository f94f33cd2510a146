"""ggzy rules index: write docs/rules.md (the rules found from their legal article)."""

from __future__ import annotations

import click


@click.group()
def rules() -> None:
    """The risk rules: where each is computed and tested, and its legal basis."""


@rules.command("index")
@click.option("--check", is_flag=True, help="Exit 1 if docs/rules.md is not what would be written.")
def index(check: bool) -> None:
    """Write docs/rules.md from the rule seed and the models and tests naming each rule."""
    from ggzy import config, rules_index

    path = config.REPO / rules_index.DOC
    text = rules_index.render()
    if check:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            raise click.ClickException(f"{rules_index.DOC} is out of date: run `ggzy rules index`")
        click.echo(f"{rules_index.DOC} is current")
        return
    click.echo(f"wrote {rules_index.write()}")


commands = [rules]
