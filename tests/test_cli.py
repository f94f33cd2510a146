"""The `ggzy` command line as a data engineer meets it first."""

from __future__ import annotations

import socket

import click
import pytest
from click.testing import CliRunner

from ggzy.cli import main
from ggzy.cli_types import IsoDate, Period, TimeZone


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_every_command_has_help():
    runner = CliRunner()
    res = runner.invoke(main, ["--help"])
    assert res.exit_code == 0
    names = sorted(main.commands)
    assert {"load", "generate", "backfill", "checksum", "bench", "gate", "draw", "verify"} <= set(names)
    for name in names:
        res = runner.invoke(main, [name, "--help"])
        assert res.exit_code == 0 and "Usage: main " + name in res.output, (name, res.output)


def test_unreachable_warehouse_is_one_line_saying_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("GGZY_HOME", str(tmp_path))
    monkeypatch.setenv("GGZY_PG_PORT", str(free_port()))  # nothing listens there
    monkeypatch.delenv("GGZY_WAREHOUSE_URL", raising=False)
    res = CliRunner().invoke(main, ["checksum"])
    assert res.exit_code == 1
    assert "cannot reach the warehouse" in res.output and "ggzy warehouse start" in res.output
    assert "Traceback" not in res.output


def _leaf_commands(group: click.Group, path: tuple[str, ...] = ()):
    """Every runnable command under `group`, discovered from the click tree."""
    for name, cmd in sorted(group.commands.items()):
        if isinstance(cmd, click.Group):
            if cmd.invoke_without_command:
                yield (*path, name), cmd
            yield from _leaf_commands(cmd, (*path, name))
        else:
            yield (*path, name), cmd


_DATE_NAMES = {"date", "day", "batch_date", "start", "end", "since", "inspected_on", "published_on"}


def _bad_values(param: click.Parameter) -> list[str]:
    """Values a user could mistype for this parameter, by its type and name."""
    t = param.type
    if isinstance(t, click.Choice):
        return ["no-such-choice"]
    if isinstance(t, click.DateTime | IsoDate) or (param.name in _DATE_NAMES and t == click.STRING):
        return ["2026-02-30", "2026/01/05", "tomorrow"]
    if isinstance(t, click.IntRange | click.FloatRange):
        return ["abc", "-999999"]
    if t in (click.INT, click.FLOAT):
        return ["abc", "1e999x"]
    if isinstance(t, Period) or param.name == "period":
        return ["2026-13", "2026-1", "last month"]
    if isinstance(t, TimeZone):
        return ["Mars/Olympus"]
    if isinstance(t, click.Path) and t.exists:
        return ["/nonexistent/ggzy-cli-test"]
    return []


def _good_value(param: click.Parameter, tmp_path) -> str:
    t = param.type
    if isinstance(t, click.Choice):
        return t.choices[0]
    if isinstance(t, click.Path):
        return str(tmp_path)
    if isinstance(t, click.IntRange | click.FloatRange) or t in (click.INT, click.FLOAT):
        return "1"
    if isinstance(t, Period) or param.name == "period":
        return "2026-01"
    return "2026-01-05"


def _cases():
    for path, cmd in _leaf_commands(main):
        for p in cmd.params:
            if p.is_flag if isinstance(p, click.Option) else False:
                continue
            for bad in _bad_values(p):
                yield pytest.param(path, cmd, p.name, bad, id=f"{' '.join(path)}:{p.name}={bad!r}")


@pytest.mark.parametrize(("path", "cmd", "name", "bad"), list(_cases()))
def test_every_bad_argument_is_a_usage_error(path, cmd, name, bad, tmp_path, monkeypatch):
    """Exit code 2 and a message naming the problem, no traceback, nothing run: the
    warehouse is unreachable, so a command that went past its arguments would exit 1."""
    monkeypatch.setenv("GGZY_HOME", str(tmp_path))
    monkeypatch.setenv("GGZY_PG_PORT", str(free_port()))
    monkeypatch.delenv("GGZY_WAREHOUSE_URL", raising=False)
    args = list(path)
    for p in cmd.params:
        value = bad if p.name == name else (_good_value(p, tmp_path) if p.required else None)
        if value is None:
            continue
        args += [p.opts[0], value] if isinstance(p, click.Option) else [value]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2, (args, res.exit_code, res.output, res.exception)
    assert "Traceback" not in res.output and "Error" in res.output, res.output


def test_the_walk_covers_the_commands_that_take_dates():
    """The walk is not vacuous: the date, period and number options are all in it."""
    ids = {c.id.split(":")[0] for c in _cases()}
    assert {"load", "generate", "publish", "gate", "draw", "audit log"} <= ids, ids


def test_a_missing_input_file_is_one_line_not_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("GGZY_HOME", str(tmp_path))
    monkeypatch.setenv("GGZY_PG_PORT", str(free_port()))
    monkeypatch.delenv("GGZY_WAREHOUSE_URL", raising=False)
    res = CliRunner().invoke(main, ["eval", "--landing", str(tmp_path)])  # no ground truth generated there
    assert res.exit_code == 1 and "Traceback" not in res.output, res.output
    assert res.output.startswith("Error: ") and len(res.output.strip().splitlines()) == 1, res.output
