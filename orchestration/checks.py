"""The funnel anomaly checks as Dagster asset checks on the marts (and raw-load freshness on raw).

The statistics and the SQL live in `warehouse/anomaly/` (plain functions, tested without Dagster);
this module only maps each check to the asset it is about and turns its outcome into an
`AssetCheckResult` (WARN: statistical surprises never block). The structural faults (history
before creation or later than its load, visits out of order, unmapped stages) are blocking dbt
tests on the staging and intermediate models, surfaced by dagster-dbt, so `structural_integrity`
(their mirror for callers outside Dagster) is not registered here.

The checks read `metrics.metric_funnel_history`, a dbt model built in the same `dbt build` step,
as of `AS_OF_DATE` (`core.settings.as_of_date()`).
"""

from collections.abc import Iterator
from typing import Any

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    MetadataValue,
    multi_asset_check,
)
from dagster_dbt import get_asset_key_for_model

from core.settings import as_of_date
from orchestration.assets.dbt import warehouse_dbt_models
from orchestration.resources import WarehouseResource
from warehouse.anomaly.checks import CHECK_READS, CHECKS, CheckOutcome, run_check

METRIC_MODEL = "metric_funnel_history"
NOT_IN_DAGSTER = {"structural_integrity"}  # the blocking dbt tests are those checks in Dagster
DAGSTER_CHECK_NAMES = [name for name in CHECKS if name not in NOT_IN_DAGSTER]


def asset_key_for(asset: str) -> AssetKey:
    """A check's target: a dbt model name, or `<raw schema>.<table>` for a raw ingestion asset."""
    if "." in asset:
        return AssetKey(asset.split(".", 1))
    return get_asset_key_for_model([warehouse_dbt_models], asset)


METRIC_KEY = get_asset_key_for_model([warehouse_dbt_models], METRIC_MODEL)
CHECK_SPECS = [
    AssetCheckSpec(
        name=name,
        asset=asset_key_for(CHECKS[name].asset),
        description=f"[{CHECKS[name].severity}] {CHECKS[name].description}",
        additional_deps=[METRIC_KEY] if CHECKS[name].asset != METRIC_MODEL and "." not in CHECKS[name].asset else [],
    )
    for name in DAGSTER_CHECK_NAMES
]
_SPEC_BY_NAME = {spec.name: spec for spec in CHECK_SPECS}


def _headline_segment(outcome: CheckOutcome) -> dict[str, Any]:
    """The segment a person should look at first: a flagged one, else the most extreme z."""
    segments = outcome.metadata.get("segments") or {}
    flagged = outcome.metadata.get("flagged_segments") or []
    if flagged:
        return {"segment": flagged[0], **segments.get(flagged[0], {})}
    scored = [(abs(v.get("z") or 0) - (v.get("p") or 1.0), k) for k, v in segments.items() if isinstance(v, dict)]
    if not scored:
        return {}
    _, key = max(scored)
    return {"segment": key, **segments[key]}


def result_metadata(outcome: CheckOutcome) -> dict[str, Any]:
    """Flat key figures (value, baseline, z, n, window, segments, sample ids) + the full details."""
    head = _headline_segment(outcome)
    meta: dict[str, Any] = {
        "status": MetadataValue.text(str(outcome.metadata.get("status") or ("ok" if outcome.passed else "flagged"))),
        "not_enough_data": MetadataValue.text(", ".join(outcome.metadata.get("not_enough_data") or []) or "none"),
        "flagged_segments": MetadataValue.text(", ".join(outcome.metadata.get("flagged_segments") or []) or "none"),
        "as_of_date": MetadataValue.text(as_of_date().isoformat()),
    }
    if head:
        meta["segment"] = MetadataValue.text(str(head["segment"]))
        for key in ("value", "baseline", "z", "p", "p_adjusted", "n", "relative_change"):
            if isinstance(head.get(key), int | float) and head[key] is not None:
                meta[key] = MetadataValue.float(float(head[key]))
        if head.get("window_start"):
            meta["window"] = MetadataValue.text(f"{head['window_start']}..{head.get('window_end', '')}")
    samples = (head or {}).get("sample_ids") or outcome.metadata.get("sample_ids") or []
    if samples:
        meta["sample_deal_ids"] = MetadataValue.text(", ".join(samples[:20]))
    if outcome.metadata.get("error"):
        meta["error"] = MetadataValue.text(outcome.metadata["error"])
    meta["details"] = MetadataValue.json(outcome.metadata)
    return meta


def to_result(outcome: CheckOutcome) -> AssetCheckResult:
    return AssetCheckResult(
        asset_key=_SPEC_BY_NAME[outcome.name].asset_key,
        check_name=outcome.name,
        passed=outcome.passed,
        severity=AssetCheckSeverity.ERROR if outcome.severity == "ERROR" else AssetCheckSeverity.WARN,
        description=outcome.description,
        metadata=result_metadata(outcome),
    )


@multi_asset_check(
    specs=CHECK_SPECS,
    name="funnel_anomaly_checks",
    can_subset=True,
    description="Funnel anomaly checks over metrics.metric_funnel_history (warehouse/anomaly).",
)
def funnel_anomaly_checks(context: AssetCheckExecutionContext, duckdb: WarehouseResource) -> Iterator[AssetCheckResult]:
    day = as_of_date()
    selected = {key.name for key in context.selected_asset_check_keys}
    with duckdb.get_connection(CHECK_READS) as con:
        for name in DAGSTER_CHECK_NAMES:
            if name not in selected:
                continue
            outcome = run_check(con, day, name)
            context.log.info(f"{name}: {'passed' if outcome.passed else 'FAILED'} ({outcome.severity})")
            yield to_result(outcome)


anomaly_checks = [funnel_anomaly_checks]
