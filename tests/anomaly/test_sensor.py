"""The alert sensor posts failed asset checks to a local webhook receiver, once."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    DagsterInstance,
    MetadataValue,
    SkipReason,
    asset,
    asset_check,
    build_sensor_context,
    materialize,
)

from orchestration.sensors import WEBHOOK_ENV, check_failure_alerts


class Receiver:
    """A Slack-compatible webhook on a free loopback port that records what it receives."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        received = self.messages

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append(
                    {"path": self.path, "content_type": self.headers.get("Content-Type"), "json": json.loads(body)}
                )
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@asset
def tiny_mart() -> int:
    return 1


@asset_check(asset=tiny_mart)
def lead_volume_anomaly() -> AssetCheckResult:
    return AssetCheckResult(
        passed=False,
        severity=AssetCheckSeverity.WARN,
        description="paid_search: 17 leads in the last 7 days vs 170 expected (-90%, z=-9.1)",
        metadata={
            "segment": "paid_search",
            "value": MetadataValue.float(17.0),
            "baseline": 170.0,
            "z": -9.1,
            "n": 170.0,
            "window": "2026-10-25..2026-10-31",
            "sample_deal_ids": "hubspot:1, hubspot:2",
        },
    )


@asset_check(asset=tiny_mart)
def always_fine() -> AssetCheckResult:
    return AssetCheckResult(passed=True)


@pytest.fixture
def instance() -> Iterator[DagsterInstance]:
    with DagsterInstance.ephemeral() as inst:
        yield inst


def test_failed_check_is_posted_once(instance, monkeypatch):
    result = materialize([tiny_mart, lead_volume_anomaly, always_fine], instance=instance)
    assert result.success
    with Receiver() as receiver:
        monkeypatch.setenv(WEBHOOK_ENV, receiver.url)
        first = check_failure_alerts(build_sensor_context(instance=instance, cursor=None))
        assert len(receiver.messages) == 1
        message = receiver.messages[0]
        assert message["path"] == "/hooks/alerts" and message["content_type"] == "application/json"
        text = message["json"]["text"]
        assert set(message["json"]) == {"text"}
        assert "lead_volume_anomaly" in text and "tiny_mart" in text and "[WARN]" in text
        assert "z=-9.1" in text and "baseline=170" in text and "2026-10-25..2026-10-31" in text
        assert result.run_id in text
        assert "always_fine" not in text
        assert receiver.url not in text  # the webhook URL (a secret in Slack) never goes in a message

        second = check_failure_alerts(build_sensor_context(instance=instance, cursor=first.cursor))
        assert len(receiver.messages) == 1, "a second evaluation must not resend"
        assert isinstance(second, SkipReason)

        materialize([tiny_mart, lead_volume_anomaly, always_fine], instance=instance)  # a new failure
        check_failure_alerts(build_sensor_context(instance=instance, cursor=first.cursor))
        assert len(receiver.messages) == 2


def test_no_webhook_no_op(instance, monkeypatch):
    monkeypatch.delenv(WEBHOOK_ENV, raising=False)
    materialize([tiny_mart, lead_volume_anomaly], instance=instance)
    outcome = check_failure_alerts(build_sensor_context(instance=instance))
    assert isinstance(outcome, SkipReason) and WEBHOOK_ENV in outcome.skip_message


def test_unreachable_webhook_keeps_the_cursor(instance, monkeypatch):
    materialize([tiny_mart, lead_volume_anomaly], instance=instance)
    with Receiver() as receiver:
        dead_url = receiver.url
    monkeypatch.setenv(WEBHOOK_ENV, dead_url)  # the receiver is gone: connection refused
    outcome = check_failure_alerts(build_sensor_context(instance=instance, cursor=None))
    assert outcome.cursor is None  # nothing acknowledged: retried next tick
