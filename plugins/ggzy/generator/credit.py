"""Credit China records: the serious-dishonest list (bid bans: the banned bidders the plan
made bid, companies whose ban was revoked or expired), red lists, administrative penalties
and abnormal operation of regular companies, each with its decision and validity dates.
"""

from __future__ import annotations


class CreditRecords:
    """Mixin of World: fills `world.credit` (one dict per record)."""

    def build_credit(self) -> None:
        rng = self.rng
        seq = 0

        def record(ent: int, list_type: str, decided: int, until: int | None, revoked: int | None,
                   measures: str, reason: str, authority: str) -> None:
            nonlocal seq
            seq += 1
            self.credit.append(dict(ent=ent, id=f"XY53{decided + 30000:06d}{self.serial(seq - 1) + 1:05d}", list_type=list_type,
                                    decided=decided, until=until, revoked=revoked, measures=measures,
                                    reason=reason, authority=authority))

        for ent, decided in self.banned:
            record(ent, "serious_dishonest", decided, decided + 3 * 365, None, "bid_ban;procurement_ban",
                   "在招标投标活动中提供虚假材料骗取中标", "云南省住房和城乡建设厅")
        for ent, _, decided, until, revoked in self.credit_specials:
            record(ent, "serious_dishonest", decided, until, revoked, "bid_ban;procurement_ban",
                   "串通投标被依法处理", "云南省发展和改革委员会")
        regular = [i for v in self._group_all.values() for i in v]
        for list_type, share, measures, reason in (
                ("red_list", 0.03, "public_notice", "纳税信用A级纳税人"),
                ("administrative_penalty", 0.02, "public_notice", "安全生产违法行为被处以罚款"),
                ("abnormal_operation", 0.01, "public_notice", "未按规定报送年度报告")):
            k = max(1, round(share * len(regular)))
            for i in sorted(rng.choice(len(regular), size=min(k, len(regular)), replace=False).tolist()):
                decided = self.s - 400 + int(rng.integers(0, 400 + self.days))
                revoked = None
                if list_type == "abnormal_operation" and rng.random() < 0.4:
                    revoked = decided + int(rng.integers(30, 200))
                record(regular[i], list_type, decided, decided + 365 * 2 if list_type != "abnormal_operation" else None,
                       revoked, measures, reason, "云南省市场监督管理局" if list_type == "abnormal_operation" else "云南省发展和改革委员会")
