"""Subcommands of `ggzy`, one module per part of the system (see ggzy.cli)."""
