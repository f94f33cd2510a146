"""Write dbt_project/seeds/holiday_calendar.csv from the `chinese_calendar` package.

    .venv/bin/python tools/gen_calendar.py [--from-year 2018] [--to-year 2026]

The package carries the State Council's yearly holiday notices (国务院办公厅关于
部分节假日安排的通知), including the adjusted working weekends (调休), but only for the
years it knows (2004-2026 in 1.11). The seed is therefore a snapshot, committed and
reviewed like any other reference data, so that no run depends on the installed
library. Years the package does not know are not written: the model
`int_workdays` falls back to Monday-Friday for them and says so
(`calendar_source = 'weekend_fallback'`); when a new notice is published the office
either adds its days to `seeds/calendar_overrides.csv` or reruns this script after
upgrading the package.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "dbt_project" / "seeds" / "holiday_calendar.csv"

# The package names holidays in English; the office reads Chinese.
HOLIDAY_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


def rows(from_year: int, to_year: int) -> list[dict[str, str]]:
    import chinese_calendar as cc

    out = []
    day = dt.date(from_year, 1, 1)
    end = dt.date(to_year, 12, 31)
    while day <= end:
        is_workday = cc.is_workday(day)  # raises NotImplementedError for unknown years
        is_holiday, name = cc.get_holiday_detail(day)
        weekend = day.weekday() >= 5
        if is_workday:
            kind = "adjusted_workday" if weekend else "workday"
        elif name is not None:
            kind = "holiday"
        else:
            kind = "weekend"
        out.append({
            "calendar_date": day.isoformat(),
            "is_workday": "true" if is_workday else "false",
            "day_kind": kind,
            "holiday_name": name or "",
            "holiday_name_zh": HOLIDAY_ZH.get(name, name) if name else "",
        })
        day += dt.timedelta(days=1)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from-year", type=int, default=2018)
    ap.add_argument("--to-year", type=int, default=2026)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    try:
        data = rows(args.from_year, args.to_year)
    except NotImplementedError as exc:  # a year the installed package does not know
        print(f"chinese_calendar: {exc}; lower --to-year or upgrade the package", file=sys.stderr)
        return 1
    with args.out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(data[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(data)
    print(f"wrote {len(data)} days {args.from_year}-{args.to_year} to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
