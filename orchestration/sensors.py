"""Tell someone when a check fails: a sensor posts failed asset-check evaluations to a webhook.

`ALERT_WEBHOOK_URL` (environment) is a Slack-compatible incoming webhook; each failed evaluation
(any severity: the funnel anomaly checks and the dbt tests alike) since the sensor's cursor becomes
one short `{"text": ...}` message with the check, the asset, the severity, the key figures and the
run. Unset, the sensor does nothing and says so. The message carries no secret: only check
metadata (figures, dates, deal ids) and the run id; never the URL itself or any token.

The cursor is the event-log storage id of the last evaluation handled, so a failure is sent once.
A post that fails (network, 5xx) stops the tick before the cursor moves past it: it is retried on
the next tick.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import requests
from dagster import (
    DagsterEventType,
    DefaultSensorStatus,
    EventRecordsFilter,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

WEBHOOK_ENV = "ALERT_WEBHOOK_URL"
UI_URL_ENV = "DAGSTER_UI_URL"  # optional: e.g. http://127.0.0.1:3000, to link the run
BATCH = 200
KEY_FIGURES = ("segment", "value", "baseline", "z", "n", "window", "flagged_segments", "sample_deal_ids")


def _figure(value: Any) -> str:
    raw = getattr(value, "value", value)
    if isinstance(raw, float):
        return f"{raw:.4g}"
    text = raw if isinstance(raw, str) else json.dumps(raw, default=str)
    return text if len(text) <= 160 else text[:157] + "..."


def format_message(evaluation: Any, run_id: str | None, ui_url: str | None = None) -> str:
    """One short Slack-style line block for a failed `AssetCheckEvaluation`."""
    severity = getattr(evaluation.severity, "value", str(evaluation.severity))
    asset = evaluation.asset_key.to_user_string()
    lines = [f":rotating_light: Check failed [{severity}]: {evaluation.check_name} on {asset}"]
    if evaluation.description:
        text = evaluation.description
        lines.append(text if len(text) <= 600 else text[:597] + "...")
    metadata: Mapping[str, Any] = evaluation.metadata or {}
    figures = [f"{key}={_figure(metadata[key])}" for key in KEY_FIGURES if key in metadata]
    if figures:
        lines.append("; ".join(figures))
    if run_id:
        link = f"{ui_url.rstrip('/')}/runs/{run_id}" if ui_url else None
        lines.append(f"run {run_id}" + (f" ({link})" if link else ""))
    return "\n".join(lines)


def post_message(url: str, text: str, timeout_s: float = 10.0) -> None:
    response = requests.post(url, json={"text": text}, timeout=timeout_s)
    response.raise_for_status()


@sensor(
    name="check_failure_alerts",
    default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description=f"Posts failed asset checks (all severities) to the webhook in {WEBHOOK_ENV} (Slack-compatible).",
)
def check_failure_alerts(context: SensorEvaluationContext):
    url = (os.environ.get(WEBHOOK_ENV) or "").strip()
    if not url:
        return SkipReason(f"{WEBHOOK_ENV} is not set: failed checks are not sent anywhere.")
    cursor = int(context.cursor) if context.cursor else None
    # the storage API (the instance's get_event_records wrapper is deprecated for 2.0)
    records = context.instance.event_log_storage.get_event_records(
        EventRecordsFilter(event_type=DagsterEventType.ASSET_CHECK_EVALUATION, after_cursor=cursor),
        limit=BATCH,
        ascending=True,
    )
    if not records:
        return SkipReason("No new asset-check evaluations.")
    sent, last = 0, cursor
    ui_url = os.environ.get(UI_URL_ENV)
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if not evaluation.passed:
            try:
                post_message(url, format_message(evaluation, record.event_log_entry.run_id, ui_url))
            except requests.RequestException as exc:
                # keep the cursor before this one: retried next tick; the URL is never logged
                context.log.warning(f"Could not post the alert for {evaluation.check_name}: {type(exc).__name__}")
                break
            sent += 1
        last = record.storage_id
    return SensorResult(
        skip_reason=SkipReason(f"Sent {sent} alert(s)."), cursor=str(last) if last is not None else context.cursor
    )


sensors = [check_failure_alerts]
