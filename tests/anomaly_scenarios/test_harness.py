"""The harness's verdicts: which fired checks count as a detection, and the report tables."""

from __future__ import annotations

from evaluation.eval_checks import false_alarm_table, scenario_table
from evaluation.pipeline import Fired, RunResult, Size, expected_fired


def test_detection_needs_every_expected_check_with_its_severity() -> None:
    # corrupted timestamps are quarantined: the ERROR check on marts.quarantined_records detects them
    quarantined = Fired("quarantined_records", "ERROR", "check")
    assert expected_fired("corrupted_timestamps", [quarantined])
    assert not expected_fired("corrupted_timestamps", [])
    assert not expected_fired("corrupted_timestamps", [Fired("quarantined_records", "WARN", "check")])
    assert not expected_fired(
        "corrupted_timestamps", [Fired("assert_no_stage_history_before_deal_creation", "WARN", "dbt")]
    )


def test_any_of_the_expected_checks_is_enough_when_the_scenario_says_so() -> None:
    assert expected_fired("bulk_edit_flap", [Fired("transition_burst", "WARN", "check")])
    assert expected_fired("bulk_edit_flap", [Fired("regression_rate_jump", "WARN", "check")])
    assert not expected_fired("bulk_edit_flap", [Fired("stuck_deals", "WARN", "check")])
    assert expected_fired("stuck_deals", [Fired("stuck_deals", "WARN", "check")])
    assert not expected_fired("stuck_deals", [])


def test_tables_report_detections_and_false_alarms() -> None:
    size = Size(100, 300)
    hit = RunResult("lead_volume_collapse", 1, size, fired=[Fired("lead_volume_anomaly", "WARN", "check")])
    quiet = RunResult("clean", 1, size, checks_evaluated=["lead_volume_anomaly", "stuck_deals"])
    noisy = RunResult(
        "clean",
        2,
        size,
        checks_evaluated=["lead_volume_anomaly", "stuck_deals"],
        fired=[Fired("stuck_deals", "WARN", "check")],
    )
    assert hit.detected and quiet.detected is None
    table = scenario_table([hit, quiet, noisy])
    assert "lead_volume_anomaly (WARN)" in table and "| yes " in table
    fa, total = false_alarm_table([quiet, noisy])
    assert total == 1 and "1/2" in fa and "0/2" in fa
