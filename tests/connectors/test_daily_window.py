"""The trailing re-read window and the parsers of the ad connectors (pure functions)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from connectors import daily_window as w
from connectors.common import ConnectorError
from connectors.google_ads.parse import customer_ids, flatten_stream, retry_delay_s, stats_row
from connectors.meta.parse import account_ids, insight_row, usage

TODAY = date(2026, 12, 1)
START = date(2023, 12, 1)


def test_first_run_reads_from_the_start_date_to_tomorrow():
    assert w.read_range(None, today=TODAY, start_date=START, reread_days=30) == (START, date(2026, 12, 2))


def test_later_runs_reread_a_trailing_window():
    account = {"read_through": "2026-12-02", "latest_day": "2026-12-01"}
    assert w.read_range(account, today=TODAY, start_date=START, reread_days=30)[0] == date(2026, 11, 2)
    assert w.read_range(account, today=TODAY, start_date=START, reread_days=7)[0] == date(2026, 11, 25)


def test_the_window_is_anchored_on_the_latest_activity_of_a_quiet_account():
    account = {"read_through": "2026-12-02", "latest_day": "2026-10-31"}
    assert w.read_range(account, today=TODAY, start_date=START, reread_days=30)[0] == date(2026, 10, 2)


def test_an_unfinished_backfill_resumes_where_it_stopped():
    account = {"read_through": "2024-06-30", "latest_day": None}
    assert w.read_range(account, today=TODAY, start_date=START, reread_days=30)[0] == date(2024, 7, 1)


def test_chunks_cover_the_range_exactly():
    parts = w.chunks(date(2026, 1, 1), date(2026, 3, 15), 31)
    assert parts[0] == (date(2026, 1, 1), date(2026, 1, 31)) and parts[-1][1] == date(2026, 3, 15)
    days = [d for a, b in parts for d in w.days_of(a, b)]
    assert len(days) == len(set(days)) == 74


def test_advance_keeps_the_latest_day_with_rows():
    a = w.advance(None, date(2026, 1, 31), ["2026-01-03", "2026-01-20"])
    assert a == {"read_through": "2026-01-31", "latest_day": "2026-01-20"}
    assert w.advance(a, date(2026, 2, 28), [])["latest_day"] == "2026-01-20"


def test_bad_cursor_and_start_date_say_what_to_do():
    with pytest.raises(ConnectorError, match="reset-cursors"):
        w.load_state({"version": 9}, "meta", "insights")
    with pytest.raises(ConnectorError, match="ADS_START_DATE"):
        w.start_date_from("1/1/2024", TODAY, 3)
    assert w.start_date_from(None, date(2028, 2, 29), 3) == date(2025, 2, 28)


def test_account_ids_are_digits_only():
    assert customer_ids("123-456-7890, 9876543210,1234567890") == ["1234567890", "9876543210"]
    assert account_ids("act_101, 102") == ["101", "102"]
    with pytest.raises(ConnectorError, match="GOOGLE_ADS_CUSTOMER_IDS"):
        customer_ids("12345")
    with pytest.raises(ConnectorError, match="META_AD_ACCOUNT_IDS"):
        account_ids("act_x1")


def test_search_stream_rows_fill_omitted_zero_metrics():
    batches = [
        {
            "results": [
                {
                    "customer": {"id": "1234567890", "currencyCode": "EUR", "timeZone": "Europe/Berlin"},
                    "campaign": {"id": "111", "name": "A", "status": "REMOVED"},
                    "metrics": {"impressions": "12"},
                    "segments": {"date": "2025-03-01"},
                }
            ]
        },
        {"results": []},
    ]
    [row] = [stats_row(r) for r in flatten_stream(batches)]
    assert (row["cost_micros"], row["clicks"], row["impressions"], row["conversions"]) == ("0", "0", "12", 0.0)
    assert row["customer_day"] == "1234567890:2025-03-01" and row["campaign_status"] == "REMOVED"


def test_retry_delay_and_usage_headers():
    err = {
        "details": [
            {
                "errors": [
                    {
                        "errorCode": {"quotaError": "RESOURCE_TEMPORARILY_EXHAUSTED"},
                        "details": {"quotaErrorDetails": {"retryDelay": "30s"}},
                    }
                ]
            }
        ]
    }
    assert retry_delay_s(err) == 30.0 and retry_delay_s({}) is None
    header = json.dumps({"1": [{"call_count": 95, "total_time": 20, "estimated_time_to_regain_access": 3}]})
    assert usage(header) == (95.0, 3.0) and usage(None) == (0.0, 0.0)


def test_meta_rows_keep_the_api_strings():
    row = insight_row(
        "101",
        {
            "campaign_id": "9",
            "spend": "53.21",
            "date_start": "2025-03-01",
            "actions": [{"action_type": "lead", "value": "4"}],
        },
    )
    assert row["spend"] == "53.21" and json.loads(row["actions"])[0]["value"] == "4"
    assert row["account_day"] == "101:2025-03-01"
