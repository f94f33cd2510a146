"""Argument types of the `ggzy` commands, checked when the command line is parsed, so a
bad value is a usage error (exit 2) naming the option, before any work or connection.

The values stay ISO text (commands convert them where they use them), so a command
adopts a type by changing only its option's `type=`.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import click


class IsoDate(click.ParamType):
    """A calendar date YYYY-MM-DD (a batch date)."""

    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, dt.date):
            return value.isoformat()
        text = str(value).strip()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            try:
                return dt.date.fromisoformat(text).isoformat()
            except ValueError as e:
                self.fail(f"{value!r} is not a date ({e})", param, ctx)
        self.fail(f"{value!r} is not a date YYYY-MM-DD", param, ctx)


class Period(click.ParamType):
    """A calendar month YYYY-MM (a sampling period)."""

    name = "YYYY-MM"

    def convert(self, value, param, ctx):
        text = str(value).strip()
        m = re.fullmatch(r"(\d{4})-(\d{2})", text)
        if not m or not 1 <= int(m.group(2)) <= 12:
            self.fail(f"{value!r} is not a month YYYY-MM", param, ctx)
        return text


class TimeZone(click.ParamType):
    """An IANA time zone name (Asia/Shanghai, UTC)."""

    name = "ZONE"

    def convert(self, value, param, ctx):
        if isinstance(value, zoneinfo.ZoneInfo):
            return value
        try:
            return zoneinfo.ZoneInfo(str(value))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            self.fail(f"{value!r} is not a time zone (e.g. Asia/Shanghai, UTC)", param, ctx)


ISO_DATE = IsoDate()
PERIOD = Period()
TIME_ZONE = TimeZone()
