"""What the generator injects for each risk rule, and the thresholds clean data respects.

Ground truth (`_ground_truth/anomalies.csv`) lists every injected subject. It is "as of"
the last generated day: an injection is only made where its evidence lands inside the
generated range (e.g. a settlement overrun needs the settlement milestone delivered).
Clean data is built to stay clear of every deterministic rule, with a margin, so that a
correct detector finds exactly the ground truth (statistical rules: the listed subjects
are the planted ones; a detector may find a few more by chance).

Counts: each lot-level rule gets ``round(rate * lots * anomaly_rate)`` subjects (at least
one when ``anomaly_rate > 0`` and a candidate exists; `RATES` below). A lot carries at most
one injected rule, except where one injection implies another (noted below), which the
ground truth then lists too.

| rule_id | injected | clean data guarantees |
|---|---|---|
| cl_no_approval | a construction lot with an empty `project_code` (detail `no_code`), or whose project is approved after the lot was announced (`approved_after_announcement`) | every construction lot carries a code that links to a project approved ≥ 30 days before announcement; non-construction lots (procurement, land, mining, state assets, other) carry no code and are out of scope |
| cl_broken_link | a construction lot whose `project_code` is malformed (wrong segment length, letter O for 0) or well-formed but unknown | codes typed with spaces / full-width characters normalise (NFKC, strip spaces, upper) to a linked code (listed in `_ground_truth/messy_values.csv`, not anomalies) |
| cl_award_above_control | comprehensive-evaluation lot won by a bid 1–6 % above `control_price` (bid kept valid) | valid bids ≤ 98.5 % of control; bids above control are rejected (`is_valid=false`) |
| cl_contract_deviation | `contract_amount` differs from `award_price` by 8–25 % | contract = award, or within ±1 % |
| cl_start_before_award | `construction_start` milestone 5–40 days before the award date | construction starts 7–60 days after signing |
| cl_settlement_overrun | `final_settlement.amount` 15–40 % above `contract_amount` (threshold > 10 %) | settlement 90–105 % of contract |
| cl_stage_overdue | lot awarded ≥ 35 days before the last day; contract signed 40–75 days after award (maybe not yet delivered) | contract signed ≤ 28 calendar days after award (threshold: no contract within 30 calendar days) |
| tl_complaint_forward_late | complaint forwarded 5–10 working days after `received_at` (limit 3) | forwarded within 0–2 working days |
| tl_complaint_answer_late | `feedback_at` 8–15 working days after `accepted_at` (limit 5) | feedback 1–4 working days after acceptance |
| tl_guest_notice_late | expert case on a remote-evaluation lot: `guest_site_notified_at` 10–20 working days after `decided_at` (limit 7) | 1–5 working days; cases not about experts of remote lots have no notification |
| tl_publicity_late | tendered lot (open/invited): candidates publicised (`publicity_start`) 4–11 days after the evaluation report (the day of the evaluations), or for 1–2 days only | publicity starts 0–2 days after the evaluation, lasts 3–5 days (实施条例第54条: within 3 days, at least 3 days) |
| a40_same_file_maker / _ca_cert / _ip / _mac / _bond_account / _project_manager | 2 (30 %: 3) bidders of one lot share that bid attribute | every bidder company has its own machines, IPs, CA cert, bond account and project managers, distinct across the world |
| a40_identical_price | two valid bids of one lot have the same `bid_price` | prices distinct within a lot |
| a40_price_progression | all 4–6 (valid) bids of a lot form an arithmetic progression (equal differences to the cent) | no lot with ≥ 3 bids has all sorted differences equal (auction/listing lots included, although increment bidding makes progressions normal there: a detector should skip them) |
| a34_shared_legal_rep | a second company with the same legal representative (same ID no. in entities and `legal_rep` link) bids next to the first | legal reps distinct |
| a34_controlling_shareholder | a company holding 51–100 % of another bidder (`shareholder` link, `linked_id` = its USCC) bids in the same lot | shareholders of bidders are persons |
| a34_shared_phone | a second company with the same `contact_phone` bids next to the first | phones distinct |
| ps_price_screen, net_cobid_ring, net_rotation | bid-rigging rings: fixed groups of 3–5 companies of one prefecture bid alone together in 10–25 lots a year, the win rotates through the group in turn and cover bids sit 0.4–2 % above the winner (low CV, large relative distance). Each ring lot is listed for ps_price_screen and net_cobid_ring, and for net_rotation once awarded | clean discounts: lot mean 3–10 %, bidder spread sd 3 %; bidders drawn at random from the prefecture/province pool |
| pf_single_bid | awarded lot (not `single_source`) with exactly one bid; also implied by pf_all_but_winner_rejected | awarded lots have ≥ 3 valid bids (single-source lots: one bid by design); failed lots have 0 or 2 bids |
| pf_all_but_winner_rejected | ≥ 3 bids, all but the winner (the lowest) rejected | ≥ 3 valid bids remain after rejections |
| pf_lowest_rejected | lowest-price lot whose lowest bid is rejected (报价低于成本, `is_valid=false`), ≥ 3 valid bids remain | a rejected bid is never the lowest; an empty `is_valid` means "not evaluated yet" (bid version delivered at opening), not a rejection |
| pf_short_bid_period | open construction lot with 10–17 days between `announced_at` and `bid_deadline` | period ≥ `MIN_BID_DAYS[method]` + 1 day (20 open/invited/auction/listing, 10 competitive consultation, 3 negotiation/inquiry, 5 single source) |
| pf_award_near_control | comprehensive lot, ≥ 3 bids, won at 99.1–99.9 % of control | award ≤ 98.5 % of control |
| pf_late_winning_bid | the winning bid submitted 5–90 minutes after `bid_deadline` | bids ≥ 10 minutes before the deadline |
| pf_split_lots | one tenderer's project split into 3–4 negotiated (not tendered) construction lots, each 1.6–3.99 M yuan (under the 4 M mandatory-tender threshold, together above it), announced within 14 days; every lot listed | clean construction lots are tendered (open or invited); clean lots of one project below the threshold that together pass it are near-misses of the rule, as is government procurement of goods of no known kind |
| cr_banned_bidder | a company on the serious-dishonest list with `bid_ban` (effective, not revoked) bids; half of them win | banned companies do not bid during the ban; after 信用修复 (`revoked_on`) or expiry they bid again and are not flagged |
| cr_tax_abnormal_winner | winner is a 非正常户 (`abnormal`) or D-rated taxpayer | winners are normal taxpayers rated A/B/M/C when they win; abnormal/D taxpayers never win. Near-miss: a few winners turn abnormal/D 1-30 days after their last award (a new taxpayer version) |
| cr_shell_winner | winner established 60–300 days before the award, 0 insured employees, tax paid < 0.1 % of the contract | regular companies have ≥ 5 insured employees |
| ex_employed_by_bidder | a panel expert's `employer_id` is a bidder of the lot | panels exclude experts employed by any bidder of the lot (回避) |
| ex_favouritism | a (special) expert gives one company a tech score 12–18 points above the rest of the panel's mean for it, in 2–4 lots of that company (comprehensive evaluation); the favoured company often wins | expert leniency sd 1.2 + noise sd 1.8 points; but `DIVIDED_PANEL_PCT` % of panels disagree widely (noise sd 6): there a 10-point deviation is ordinary (near-misses: such lots with a deviation ≥ 10), never repeatedly for one pair |
| ex_winner_affinity | one (special) expert sits on the panels of 8–12 lots won by the same company | panels drawn at random from the specialty pool; by chance a pair reaches ~5–6 lots a year at scale 1 in small prefectures |

Subject ids are as delivered: `tender_id`, `complaint_id`, `case_id`.
"""

from __future__ import annotations

CONSTRUCTION_THRESHOLD_YUAN = 4_000_000  # 必须招标的施工单项合同估算价 (2018 规定)
SPLIT_BAND = (0.90, 1.00)  # clean construction control prices stay out of this band of the threshold
SPLIT_SHARE = (0.40, 0.9975)  # share of the threshold a split lot's control price is drawn from
SPLIT_WINDOW_DAYS = 90  # seeds/mandatory_tender_thresholds.csv window_days (construction)
TENDER_METHODS = ("open", "invited")  # construction lots procured so were tendered: no split
NEAR_CONTROL = 0.01
CLEAN_MAX_DISCOUNT_SHARE = 0.985  # clean valid bids stay at or below 98.5 % of control
CONTRACT_DEVIATION = 0.05
SETTLEMENT_OVERRUN = 0.10
CONTRACT_DAYS = 30
FORWARD_WORKDAYS = 3
ANSWER_WORKDAYS = 5
GUEST_NOTICE_WORKDAYS = 7
PUBLICITY_REPORT_DAYS = 3  # candidates publicised within 3 days of the evaluation report (实施条例第54条)
PUBLICITY_MIN_DAYS = 3  # ... for at least 3 days
SHELL_MAX_AGE_DAYS = 365
SHELL_MAX_TAX_SHARE = 0.001

MIN_BID_DAYS: dict[str, int] = {
    "open": 20, "invited": 20, "auction": 20, "listing": 20,
    "competitive_consultation": 10, "competitive_negotiation": 3, "inquiry": 3, "single_source": 5,
}
# Methods whose minimum bid period is in WORKING days (财政部令第74号 第29、45条: 不得少于3个工作日),
# counted as the risk model does: working days after the announcement day up to and including
# the deadline day. The others count calendar days.
MIN_BID_WORKDAY_METHODS: frozenset[str] = frozenset({"competitive_negotiation", "inquiry"})

# Share of lots receiving each lot-level injection (before anomaly_rate).
RATES: dict[str, float] = {
    "cl_no_approval": 0.004, "cl_broken_link": 0.004, "cl_award_above_control": 0.004,
    "cl_contract_deviation": 0.004, "cl_start_before_award": 0.004, "cl_settlement_overrun": 0.004,
    "cl_stage_overdue": 0.004, "tl_publicity_late": 0.004,
    "a40_same_file_maker": 0.003, "a40_same_ca_cert": 0.003, "a40_same_ip": 0.004, "a40_same_mac": 0.003,
    "a40_same_bond_account": 0.003, "a40_same_project_manager": 0.003, "a40_identical_price": 0.003,
    "a40_price_progression": 0.003,
    "a34_shared_legal_rep": 0.003, "a34_controlling_shareholder": 0.003, "a34_shared_phone": 0.003,
    "pf_single_bid": 0.004, "pf_all_but_winner_rejected": 0.003, "pf_lowest_rejected": 0.003,
    "pf_short_bid_period": 0.004, "pf_award_near_control": 0.004, "pf_late_winning_bid": 0.003,
    "pf_split_lots": 0.003,  # groups = rate * lots / 3
    "cr_banned_bidder": 0.004, "cr_tax_abnormal_winner": 0.003, "cr_shell_winner": 0.003,
    "ex_employed_by_bidder": 0.004, "ex_favouritism": 0.004, "ex_winner_affinity": 0.004,
}
COMPLAINT_RATES: dict[str, float] = {"tl_complaint_forward_late": 0.10, "tl_complaint_answer_late": 0.10}
GUEST_CASES_RATE = 0.0015
# Near-misses (`_ground_truth/near_misses.csv`), per lot: winners whose tax status turns bad after the award
TAX_CHANGE_AFTER_AWARD_RATE = 0.002
# The trading-centre system's abbreviations of department kinds (seeds/department_code_aliases.csv)
DEPARTMENT_ALIASES: dict[str, str] = {
    "GGZY": "JYZX", "DRC": "FGW", "FIN": "CZJ", "HOUSING": "ZJJ", "TRANSPORT": "JTJ", "WATER": "SLJ",
    "AGRI": "NYNCJ", "NATRES": "ZRZYJ", "AUDIT": "SJJ", "DISCIPLINE": "JW", "POLICE": "GAJ",
}
# ... and comprehensive lots whose panel disagrees widely (tech-score noise sd 6 points, not 1.8)
DIVIDED_PANEL_PCT = 15  # tl_guest_notice_late cases per lot
RINGS_PER_SCALE = 20  # rings at scale 1 (at least 3)
