"""(Re)write the Great Expectations file context in expectations/gx from the feed contract.

    .venv/bin/python tools/gen_expectations.py

One suite per raw feed table, named after it, plus `batch_ledger` over the load ledger,
each with a checkpoint. The JSON it writes is committed and may be edited by hand after;
run this again only to start over from the contract.

What GX guards here (what arrives), not what dbt tests (keys/relationships we build):
row-count bands against the feed's own history, keys present, identifier formats, enum
domains, plausible ranges, distributions, and the quarantine rate of each file.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

import great_expectations as gx  # noqa: E402
import great_expectations.expectations as gxe  # noqa: E402

from ggzy.feeds import contract as c  # noqa: E402

USCC_RE = r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"
ID_RE = r"^[1-9][0-9]{16}[0-9X]$"
REGION_RE = r"^[1-9][0-9]{5}$"
ROW_BAND = {"$PARAMETER": "max_rows"}

# Distribution guards (warning severity unless said): a sudden shift is worth a look.
DISTRIBUTIONS = {
    "trading_centre__bids": [
        gxe.ExpectColumnProportionOfUniqueValuesToBeBetween(column="bid_id", min_value=0.99, severity="critical"),
    ],
    "trading_centre__evaluations": [
        gxe.ExpectColumnMeanToBeBetween(column="total_score", min_value=30, max_value=98, severity="warning"),
    ],
    "trading_centre__tenders": [
        gxe.ExpectColumnProportionOfUniqueValuesToBeBetween(column="tender_id", min_value=0.95, severity="warning"),
    ],
}

NUMERIC = {c.MONEY, c.NUMBER, c.INTEGER}


def column_expectations(col: c.Column) -> list:
    out: list = []
    if col.required:
        out.append(gxe.ExpectColumnValuesToNotBeNull(column=col.name, severity="critical"))
    if col.kind == c.USCC:
        out.append(gxe.ExpectColumnValuesToMatchRegex(column=col.name, regex=USCC_RE, severity="critical"))
    elif col.kind == c.ID_NO:
        out.append(gxe.ExpectColumnValuesToMatchRegex(column=col.name, regex=ID_RE, severity="critical"))
    elif col.kind == c.REGION:
        out.append(gxe.ExpectColumnValuesToMatchRegex(column=col.name, regex=REGION_RE, severity="critical"))
    elif col.kind == c.ENUM:
        out.append(gxe.ExpectColumnValuesToBeInSet(column=col.name, value_set=list(col.values), severity="critical"))
    elif col.kind in NUMERIC:
        out.append(gxe.ExpectColumnValuesToBeBetween(
            column=col.name, min_value=0, max_value=col.max_value, severity="critical"))
    return out


def main() -> None:
    root = ROOT / "expectations"
    gx_dir = root / "gx"
    if gx_dir.exists():
        shutil.rmtree(gx_dir)
    ctx = gx.get_context(mode="file", project_root_dir=str(root))
    ds = ctx.data_sources.add_pandas("raw")
    for f in c.FILES:
        asset = ds.add_dataframe_asset(f.table)
        bd = asset.add_batch_definition_whole_dataframe("batch")
        suite = gx.ExpectationSuite(name=f.table)
        suite.add_expectation(gxe.ExpectTableRowCountToBeBetween(min_value=0, max_value=ROW_BAND, severity="warning"))
        for col in f.columns:
            for e in column_expectations(col):
                suite.add_expectation(e)
        for e in DISTRIBUTIONS.get(f.table, []):
            suite.add_expectation(e)
        suite = ctx.suites.add(suite)
        vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=f.table, data=bd, suite=suite))
        ctx.checkpoints.add(gx.Checkpoint(name=f.table, validation_definitions=[vd], result_format="SUMMARY"))
    # The load ledger of the day: quarantine rate per delivered file. Critical for files of
    # at least GGZY_GATE_MIN_ROWS rows (quarantine_rate_gated, null below: one bad row of two
    # says nothing about a feed), a warning for every file.
    asset = ds.add_dataframe_asset("batch_ledger")
    bd = asset.add_batch_definition_whole_dataframe("batch")
    suite = gx.ExpectationSuite(name="batch_ledger")
    suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(
        column="quarantine_rate_gated", min_value=0, max_value={"$PARAMETER": "max_quarantine_rate"},
        severity="critical"))
    suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(
        column="quarantine_rate", min_value=0, max_value={"$PARAMETER": "max_quarantine_rate"}, severity="warning"))
    suite.add_expectation(gxe.ExpectColumnValuesToBeInSet(column="status", value_set=["loaded"], severity="critical"))
    suite.add_expectation(gxe.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A="rows_delivered", column_B="rows_loaded", or_equal=True, severity="critical"))
    suite = ctx.suites.add(suite)
    vd = ctx.validation_definitions.add(gx.ValidationDefinition(name="batch_ledger", data=bd, suite=suite))
    ctx.checkpoints.add(gx.Checkpoint(name="batch_ledger", validation_definitions=[vd], result_format="SUMMARY"))
    print(f"wrote {gx_dir}")


if __name__ == "__main__":
    main()
