"""The `ggzy` command line as a data engineer meets it first."""

from __future__ import annotations

import socket

from click.testing import CliRunner

from ggzy.cli import main


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
