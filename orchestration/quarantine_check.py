"""The `quarantined_records` asset check (severity ERROR, never blocking) on `marts.quarantined_records`.

It fails whenever the table has rows, with the count per rule and up to 20 ids as metadata; the
marts still build and publish (dbt leaves the quarantined deals out of them). Reading and
summarising live in `warehouse/quarantine.py`; this module only wires them into Dagster.
"""

from __future__ import annotations

from dagster import AssetCheckResult, AssetCheckSeverity, MetadataValue, asset_check
from dagster_dbt import get_asset_key_for_model

from orchestration.assets.dbt import warehouse_dbt_models
from orchestration.resources import WarehouseResource
from warehouse.quarantine import CHECK_NAME, READS, TABLE, QuarantineSummary, read_quarantined, summarize

QUARANTINE_KEY = get_asset_key_for_model([warehouse_dbt_models], TABLE.split(".", 1)[1])


def check_result(summary: QuarantineSummary) -> AssetCheckResult:
    metadata = {
        "quarantined_records": MetadataValue.int(summary.total),
        "quarantined_ids": MetadataValue.text(", ".join(summary.sample_ids) or "none"),
        "count_per_rule": MetadataValue.json(summary.per_rule),
    }
    for rule, count in summary.per_rule.items():
        metadata[f"rule:{rule}"] = MetadataValue.int(count)
    return AssetCheckResult(
        asset_key=QUARANTINE_KEY,
        check_name=CHECK_NAME,
        passed=summary.passed,
        severity=AssetCheckSeverity.ERROR,
        description=summary.headline() + ("" if summary.passed else f" See {TABLE}."),
        metadata=metadata,
    )


@asset_check(
    asset=QUARANTINE_KEY,
    name=CHECK_NAME,
    blocking=False,
    description=(
        f"[ERROR] Fails while {TABLE} has rows: records with a structural fault of their own, left "
        "out of every mart (docs/metrics.md, Quarantine). Never blocks: the marts still publish."
    ),
)
def quarantined_records(duckdb: WarehouseResource) -> AssetCheckResult:
    with duckdb.get_connection(READS) as con:
        return check_result(summarize(read_quarantined(con)))
