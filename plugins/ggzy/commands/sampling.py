"""ggzy draw ... / ggzy verify DRAW_ID: 双随机一公开 draws (see ggzy.sampling)."""

from __future__ import annotations

import datetime as dt

import click


@click.group(invoke_without_command=True)
@click.option("--plan", "plan_id", help="Plan id (reference.sampling_plan), e.g. TND-M.")
@click.option("--period", help="Period YYYY-MM, e.g. 2026-11.")
@click.option("--seed", help="The seed committed for this plan and period (default: the escrowed one).")
@click.pass_context
def draw(ctx: click.Context, plan_id: str | None, period: str | None, seed: str | None) -> None:
    """Draw the inspection objects and inspectors of a plan for a period.

    \b
    The seed must have been committed first (`ggzy draw seed-commit`); a period is drawn
    once (running it again prints the existing draw). Subcommands: seed-commit, result, show.
    """
    if ctx.invoked_subcommand is not None:
        return
    if not plan_id or not period:
        raise click.UsageError("give --plan and --period (or a subcommand: seed-commit, result, show)")
    from ggzy.sampling.store import DrawRefused, perform_draw

    try:
        out = perform_draw(plan_id, period, seed)
    except DrawRefused as exc:
        raise click.ClickException(str(exc)) from exc
    verb = "drawn" if out.created else "already drawn"
    click.echo(f"{out.draw_id}: {verb}; {out.selected} of {out.population} objects")
    click.echo(f"  inputs sha256 {out.inputs_hash}")
    click.echo(f"  result sha256 {out.result_hash}")
    _print_draw(out.draw_id)


@draw.command("seed-commit")
@click.option("--plan", "plan_id", required=True)
@click.option("--period", required=True, help="YYYY-MM")
@click.option("--seed", help="The seed; kept in escrow so the scheduled draw can reveal it.")
@click.option("--seed-sha256", "digest", help="Only the seed's sha256 (the office keeps the seed offline).")
def seed_commit(plan_id: str, period: str, seed: str | None, digest: str | None) -> None:
    """Register sha256(seed) for a plan and period, before the draw (publish it)."""
    from ggzy.sampling.store import DrawRefused, commit_seed

    if (seed is None) == (digest is None):
        raise click.UsageError("give exactly one of --seed or --seed-sha256")
    try:
        row = commit_seed(plan_id, period, seed=seed, digest=digest)
    except (DrawRefused, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{plan_id} {period}: seed sha256 {row['seed_sha256']} committed at {row['committed_at']}")


@draw.command("result")
@click.argument("draw_id")
@click.argument("object_id")
@click.option("--finding", required=True, help="检查结果 (text that will be published).")
@click.option("--outcome", type=click.Choice(["no_issue", "issue_found", "referred", "not_inspected"]),
              default="no_issue", show_default=True)
@click.option("--inspected-on", type=click.DateTime(["%Y-%m-%d"]), required=True,
              help="Day the inspection ended (YYYY-MM-DD).")
@click.option("--published-on", type=click.DateTime(["%Y-%m-%d"]), help="Day the result was published.")
def result(draw_id: str, object_id: str, finding: str, outcome: str, inspected_on: dt.datetime,
           published_on: dt.datetime | None) -> None:
    """Record the result of an inspection (append-only; the newest record counts)."""
    from ggzy.sampling.store import DrawRefused, record_result

    try:
        row = record_result(draw_id, object_id, finding=finding, outcome=outcome, inspected_on=inspected_on.date(),
                            published_on=published_on.date() if published_on else None)
    except DrawRefused as exc:
        raise click.ClickException(str(exc)) from exc
    state = f"published {row['published_on']}" if row["published_on"] else "not yet published"
    click.echo(f"{draw_id} {object_id}: {row['outcome']}; publication due {row['publication_due_on']}; {state}")


@draw.command("show")
@click.argument("draw_id")
def show(draw_id: str) -> None:
    """List a draw's objects and inspectors (ids only)."""
    _print_draw(draw_id)


def _print_draw(draw_id: str) -> None:
    from ggzy import db

    with db.connect() as conn:
        rows = conn.execute(
            """select o.stratum, o.rank_in_stratum, o.object_id, o.weight, o.risk_level, o.credit_level,
                      round(o.inclusion_probability::numeric, 4),
                      string_agg(i.inspector_id || ' ' || i.department_code, ', ' order by i.slot)
               from sampling.draw_objects as o
               left join sampling.draw_inspectors as i using (draw_id, object_type, object_id)
               where o.draw_id = %s
               group by 1, 2, 3, 4, 5, 6, 7
               order by 1, 2""",
            (draw_id,),
        ).fetchall()
    for stratum, rank, object_id, weight, risk, credit, pi, inspectors in rows:
        click.echo(f"  {stratum:<45} #{rank} {object_id:<22} w={weight} ({risk}/{credit}) pi={pi}  {inspectors}")


@click.command()
@click.argument("draw_id")
def verify(draw_id: str) -> None:
    """Re-derive a draw from its stored snapshot and seed: exit 0 if confirmed, 1 if refuted."""
    from ggzy.sampling.store import verify as run_verify

    report = run_verify(draw_id)
    for name, ok, detail in report.checks:
        click.echo(f"{'OK  ' if ok else 'FAIL'} {name}: {detail}")
    click.echo(f"{draw_id}: {'CONFIRMED' if report.ok else 'REFUTED'}")
    raise SystemExit(0 if report.ok else 1)


commands = [draw, verify]
