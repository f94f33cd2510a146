"""The pipeline benchmark's report judges issue 18's targets from a run of scales 1 and 16 (a
reused landing zone's generation is not counted as generation)."""

from __future__ import annotations

from ggzy.benchmark import ScaleResult, Step, report


def run_of(night_1: float, night_16: float, generation_16: Step) -> str:
    one = ScaleResult(1, [Step("year: generate", 27, 140), Step("year: dbt build", 50, 180),
                          Step("night: load", 0.5, 60), Step("night: dbt build", night_1, 180)])
    sixteen = ScaleResult(16, [generation_16, Step("year: load", 360, 120), Step("year: dbt build", 400, 180),
                               Step("night: load", 2, 70), Step("night: dbt build", night_16, 180)])
    return report([one, sixteen])


def test_a_night_that_follows_the_day_meets_the_targets():
    text = run_of(40, 55, Step("year: generate", 1000, 160))
    assert "| night at scale 16 ≤ 60 s | 57.0 s | yes |" in text
    assert "| night(16) / night(1) ≤ 2 | 1.41× | yes |" in text
    assert "| scale-16 year without generation ≤ 1.1 × 762 s | 760 s | yes |" in text
    assert "| scale-16 year, generation included, ≤ 1.1 × 1138 s | 1760 s | **no** |" in text


def test_a_night_that_follows_the_history_does_not():
    text = run_of(40, 300, Step("year: generate (reused, not timed)", 0, 0))
    assert "| night at scale 16 ≤ 60 s | 302.0 s | **no** |" in text
    assert "| night(16) / night(1) ≤ 2 | 7.46× | **no** |" in text
    assert "scale-16 year, generation included" not in text  # a reused landing zone's generation was not timed
