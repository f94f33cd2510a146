"""The feed contract (../shared/feed-contract.md) as data.

One declaration serves the loader (which columns, which rules), the quality
suites, the demo generator and the dbt sources, so that the contract is written
down once. Column kinds name the validation rule applied to a delivered value.
"""

from __future__ import annotations

from dataclasses import dataclass

# Column kinds. Each one is a validation rule of the loader (see feeds/rules.py).
TEXT = "text"
USCC = "uscc"  # 统一社会信用代码, GB 32100-2015 check digit
ID_NO = "id_no"  # 居民身份证号, GB 11643 check digit
PARTY_ID = "party_id"  # a USCC or a resident ID number (entity_links.linked_id)
REGION = "region"  # 6-digit GB/T 2260 code
REGION_LIST = "region_list"  # ';'-separated region codes
PROJECT_CODE = "project_code"  # YYYY-RRRRRR-II-TT-NNNNNN after normalisation
ENUM = "enum"
DATE = "date"
TIMESTAMP = "timestamp"
MONEY = "money"  # yuan, >= 0, at most 2 decimals, below an absurdity bound
NUMBER = "number"  # non-negative decimal (scores, shares)
INTEGER = "integer"
BOOL = "bool"
ENUM_LIST = "enum_list"  # ';'-separated enum values

FEEDS = ("trading_centre", "approval", "credit_china", "tax")

# Formats of delivery per feed.
CSV_UTF8 = "csv_utf8"
JSONL = "jsonl"
CSV_GB18030 = "csv_gb18030"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = TEXT
    # required: an empty value quarantines the row (rule `required`). Keys and the
    # facts without which the row means nothing (a bid's price and time, a lot's
    # announcement); every other column may be empty. Every column must be in a
    # CSV header either way: a missing column refuses the batch.
    required: bool = False
    values: tuple[str, ...] = ()  # for ENUM / ENUM_LIST
    pii: bool = False  # personal data: never in public tables, masked for analysts
    # For PROJECT_CODE on a lot: a malformed code is loaded (the warehouse repairs
    # or lists it) instead of quarantining the whole row.
    lenient: bool = False
    max_value: float | None = None  # absurdity bound for MONEY / NUMBER


@dataclass(frozen=True)
class FeedFile:
    feed: str
    name: str  # file name in the batch folder
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # the business key; newest updated_at wins
    version_column: str | None = "updated_at"  # None: rows are events, not versions
    fmt: str = CSV_UTF8
    description: str = ""

    @property
    def stem(self) -> str:
        return self.name.rsplit(".", 1)[0]

    @property
    def table(self) -> str:
        """Raw table name: raw.<feed>__<stem>."""
        return f"{self.feed}__{self.stem}"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


C = Column
BIG = 1e12  # 1 trillion yuan: any single amount above it is absurd
ROLES = ("tenderer", "bidder", "agency")
CATEGORIES = ("construction", "government_procurement", "land", "mining_rights", "state_assets", "other")
INDUSTRIES = ("housing", "transport", "water", "agriculture", "natural_resources", "medical", "other")
METHODS = (
    "open", "invited", "competitive_negotiation", "competitive_consultation",
    "single_source", "inquiry", "auction", "listing",
)
TENDER_STATUS = ("announced", "opened", "awarded", "failed", "cancelled")
OUTCOMES = ("pending", "upheld", "partly_upheld", "rejected", "withdrawn")
VIOLATIONS = ("collusion", "fraud", "bribery", "expert_misconduct", "other")
SUBJECT_TYPES = ("bidder", "expert", "agency", "tenderer")
LINK_TYPES = ("shareholder", "legal_rep", "project_manager", "staff")
MILESTONES = ("construction_start", "completion", "acceptance", "final_settlement")
APPROVAL_TYPES = ("approval", "verification", "filing")
FUNDING = ("government", "state_owned", "private", "mixed")
LIST_TYPES = ("serious_dishonest", "red_list", "administrative_penalty", "abnormal_operation")
MEASURES = ("bid_ban", "procurement_ban", "land_ban", "financing_limit", "public_notice", "other")
TAXPAYER_STATUS = ("normal", "abnormal", "deregistered")
TAX_RATINGS = ("A", "B", "M", "C", "D")

UPDATED = C("updated_at", TIMESTAMP, required=True)

FILES: tuple[FeedFile, ...] = (
    FeedFile("trading_centre", "entities.csv", (
        C("entity_id", USCC, required=True),
        C("entity_name", required=True),
        C("entity_role", ENUM, required=True, values=ROLES),
        C("legal_rep_name", pii=True),
        C("legal_rep_id_no", ID_NO, pii=True),
        C("contact_name", pii=True),
        C("contact_phone", pii=True),
        C("address"),
        C("region_code", REGION),
        C("registered_capital", MONEY, max_value=BIG),
        C("established_on", DATE),
        UPDATED,
    ), key=("entity_id",), description="market entity (市场主体) versions"),
    FeedFile("trading_centre", "entity_links.csv", (
        C("entity_id", USCC, required=True),
        C("link_type", ENUM, required=True, values=LINK_TYPES),
        C("linked_id", PARTY_ID, required=True, pii=True),
        C("linked_name", pii=True),
        C("share_pct", NUMBER, max_value=100),
        UPDATED,
    ), key=("entity_id", "link_type", "linked_id"), description="people and companies linked to an entity"),
    FeedFile("trading_centre", "tenders.csv", (
        C("tender_id", required=True),
        C("project_code", PROJECT_CODE, lenient=True),
        C("tender_name", required=True),
        C("category", ENUM, required=True, values=CATEGORIES),
        C("industry", ENUM, values=INDUSTRIES),
        C("region_code", REGION, required=True),
        C("tenderer_id", USCC, required=True),
        C("agency_id", USCC),
        C("procurement_method", ENUM, required=True, values=METHODS),
        C("control_price", MONEY, max_value=BIG),
        C("announced_at", TIMESTAMP, required=True),  # a lot exists because it was announced
        C("bid_deadline", TIMESTAMP),
        C("opened_at", TIMESTAMP),
        C("evaluation_method", ENUM, values=("lowest_price", "comprehensive")),
        C("evaluation_separated", BOOL),
        C("remote_evaluation", BOOL),
        C("host_site", REGION),
        C("guest_sites", REGION_LIST),
        C("status", ENUM, required=True, values=TENDER_STATUS),
        UPDATED,
    ), key=("tender_id",), description="tender lot (标段) versions"),
    FeedFile("trading_centre", "bids.csv", (
        C("bid_id", required=True),
        C("tender_id", required=True),
        C("bidder_id", USCC, required=True),
        C("bid_price", MONEY, required=True, max_value=BIG),  # a bid is a price offered at a time
        C("submitted_at", TIMESTAMP, required=True),
        C("client_ip"),
        C("client_mac"),
        C("file_maker_code"),
        C("ca_cert_serial"),
        C("bond_account", pii=True),
        C("bond_paid_at", TIMESTAMP),
        C("project_manager_id_no", ID_NO, pii=True),
        C("is_valid", BOOL),
        C("rejection_reason"),
        UPDATED,
    ), key=("bid_id",), description="bids"),
    FeedFile("trading_centre", "experts.csv", (
        C("expert_id", required=True),
        C("expert_name", pii=True),
        C("employer_id", USCC),
        C("specialty"),
        C("region_code", REGION),
        UPDATED,
    ), key=("expert_id",), description="evaluation experts (评标专家)"),
    FeedFile("trading_centre", "evaluations.csv", (
        C("tender_id", required=True),
        C("expert_id", required=True),
        C("bidder_id", USCC, required=True),
        C("site", REGION),
        C("tech_score", NUMBER, max_value=100),
        C("commercial_score", NUMBER, max_value=100),
        C("price_score", NUMBER, max_value=100),
        C("total_score", NUMBER, max_value=100),
        C("evaluated_at", TIMESTAMP, required=True),
    ), key=("tender_id", "expert_id", "bidder_id"), version_column="evaluated_at",
        description="expert x bidder scores"),
    FeedFile("trading_centre", "awards.csv", (
        C("tender_id", required=True),
        C("winner_id", USCC, required=True),
        C("award_price", MONEY, max_value=BIG),
        C("awarded_at", TIMESTAMP),
        C("publicity_start", DATE),
        C("publicity_end", DATE),
        UPDATED,
    ), key=("tender_id",), description="awards (中标/成交)"),
    FeedFile("trading_centre", "contracts.csv", (
        C("contract_id", required=True),
        C("tender_id", required=True),
        C("winner_id", USCC, required=True),
        C("contract_amount", MONEY, max_value=BIG),
        C("signed_at", TIMESTAMP),
        UPDATED,
    ), key=("contract_id",), description="contracts"),
    FeedFile("trading_centre", "complaints.csv", (
        C("complaint_id", required=True),
        C("tender_id"),
        C("kind", ENUM, required=True, values=("complaint", "report")),
        C("channel", ENUM, values=("online", "paper")),
        C("received_at", TIMESTAMP, required=True),
        C("received_by"),
        C("forwarded_to"),
        C("forwarded_at", TIMESTAMP),
        C("accepted_at", TIMESTAMP),
        C("resolved_at", TIMESTAMP),
        C("feedback_at", TIMESTAMP),
        C("outcome", ENUM, values=OUTCOMES),
        UPDATED,
    ), key=("complaint_id",), description="complaints and reports (投诉/举报) versions"),
    FeedFile("trading_centre", "cases.csv", (
        C("case_id", required=True),
        C("tender_id"),
        C("subject_type", ENUM, required=True, values=SUBJECT_TYPES),
        C("subject_id", required=True),
        C("violation", ENUM, required=True, values=VIOLATIONS),
        C("decided_by"),
        C("decided_at", TIMESTAMP),
        C("penalty"),
        C("guest_site_notified_at", TIMESTAMP),
        UPDATED,
    ), key=("case_id",), description="violations handled (处理决定)"),
    FeedFile("approval", "projects.jsonl", (
        C("project_code", PROJECT_CODE, required=True),
        C("project_name", required=True),
        C("owner_id", USCC, required=True),
        C("region_code", REGION),
        C("industry", ENUM, values=INDUSTRIES),
        C("approval_type", ENUM, values=APPROVAL_TYPES),
        C("approval_doc_no"),
        C("approved_at", TIMESTAMP),
        C("approved_investment", MONEY, max_value=BIG),
        C("budget_amount", MONEY, max_value=BIG),
        C("funding_source", ENUM, values=FUNDING),
        UPDATED,
    ), key=("project_code",), fmt=JSONL, description="approved investment projects (一项一码)"),
    FeedFile("approval", "milestones.jsonl", (
        C("project_code", PROJECT_CODE, required=True),
        C("tender_id"),
        C("milestone", ENUM, required=True, values=MILESTONES),
        C("occurred_on", DATE, required=True),
        C("amount", MONEY, max_value=BIG),
        UPDATED,
    ), key=("project_code", "tender_id", "milestone"), fmt=JSONL, description="project milestones"),
    FeedFile("credit_china", "records.jsonl", (
        C("record_id", required=True),
        C("entity_id", USCC, required=True),
        C("entity_name"),
        C("list_type", ENUM, required=True, values=LIST_TYPES),
        C("reason"),
        C("authority"),
        C("decision_no"),
        C("decided_on", DATE),
        C("effective_from", DATE, required=True),
        C("effective_until", DATE),
        C("revoked_on", DATE),
        C("measures"),  # ";"-separated; the list is open (e.g. bid_ban;procurement_ban)
        UPDATED,
    ), key=("record_id",), fmt=JSONL, description="Credit China list records"),
    FeedFile("tax", "taxpayers.csv", (
        C("entity_id", USCC, required=True),
        C("entity_name"),
        C("taxpayer_status", ENUM, required=True, values=TAXPAYER_STATUS),
        C("credit_rating", ENUM, values=TAX_RATINGS),
        C("rating_year", INTEGER),
        C("tax_paid_last_year", MONEY, max_value=BIG),
        C("invoiced_revenue_last_year", MONEY, max_value=BIG),
        C("insured_employees", INTEGER),
        UPDATED,
    ), key=("entity_id",), fmt=CSV_GB18030, description="taxpayer status and credit rating"),
)


def files_of(feed: str) -> tuple[FeedFile, ...]:
    return tuple(f for f in FILES if f.feed == feed)


def feed_file(feed: str, name: str) -> FeedFile:
    for f in FILES:
        if f.feed == feed and (f.name == name or f.stem == name):
            return f
    raise KeyError(f"{feed}/{name} is not in the feed contract")


# Yunnan's 16 prefecture-level divisions (GB/T 2260), for generator and seeds.
YUNNAN_PREFECTURES: dict[str, str] = {
    "530100": "昆明市", "530300": "曲靖市", "530400": "玉溪市", "530500": "保山市",
    "530600": "昭通市", "530700": "丽江市", "530800": "普洱市", "530900": "临沧市",
    "532300": "楚雄彝族自治州", "532500": "红河哈尼族彝族自治州", "532600": "文山壮族苗族自治州",
    "532800": "西双版纳傣族自治州", "532900": "大理白族自治州", "533100": "德宏傣族景颇族自治州",
    "533300": "怒江傈僳族自治州", "533400": "迪庆藏族自治州",
}
PROVINCE_CODE = "530000"

__all__ = [name for name in dir() if not name.startswith("_")]

