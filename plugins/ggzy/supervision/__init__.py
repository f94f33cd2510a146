"""Supervision after the alert (issue 20): what happens once a risk signal is raised.

- `notify`      — trigger-based supervision (触发式监管): new alerts at or above a severity
                  are sent to their department once (ops.alert_notifications);
- `clues`       — the problem-clue register (问题线索): joint verification by several
                  departments, transfers (移送) with receipt and outcome, decisions;
- `inspections` — special inspections (专项检查) with targets and findings;
- `watch`       — tracking mode (跟踪模式): key projects, entities and experts;
- `credit`      — credit records going out: export for the provincial credit system and
                  credit repairs (信用修复).

Tables: plugins/ggzy/sql/050_supervision.sql. Leaders read them through the marts in
dbt_project/models/marts/supervision (the Superset role cannot read ops).
"""


class SupervisionError(ValueError):
    """A change the supervision rules do not allow, or an unknown object: the message says which."""


def require_actor(by: str | None) -> str:
    if not by or not by.strip():
        raise SupervisionError("say who records this (--by NAME)")
    return by.strip()
