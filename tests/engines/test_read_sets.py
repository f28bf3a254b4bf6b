"""`ReadSet`: which relations and columns a reader copies from PostgreSQL or Spark (pure)."""

from warehouse.anomaly.checks import CHECK_READS
from warehouse.engines.reads import ReadSet
from warehouse.publish import READS as PUBLISH_READS
from warehouse.quarantine import READS as QUARANTINE_READS


def test_patterns_and_bare_schemas():
    reads = ReadSet.of(["marts", "intermediate.int_deal_stage_visits_collapsed", "raw_*.*"])
    assert reads.wants("marts", "fct_deals")
    assert reads.wants("intermediate", "int_deal_stage_visits_collapsed")
    assert not reads.wants("intermediate", "int_deal_stage_changes_unioned")
    assert reads.wants("raw_pipedrive", "deals")
    assert not reads.wants("staging", "stg_hubspot__deals")
    assert not reads.wants("marts_old", "fct_deals")  # a bare schema is that schema, not a prefix
    assert reads.schemas(["marts", "staging", "raw_hubspot", "intermediate"]) == [
        "marts",
        "raw_hubspot",
        "intermediate",
    ]


def test_projection_by_pattern():
    reads = ReadSet.of(["raw_*.*", "marts"], {"raw_*.*": ["_loaded_at"]})
    assert reads.projection("raw_hubspot", "deals", ["id", "_loaded_at", "payload"]) == ["_loaded_at"]
    assert reads.projection("raw_hubspot", "_cursors", ["stream", "cursor"]) == []  # nothing to copy
    assert reads.projection("marts", "fct_deals", ["deal_id", "amount"]) == ["deal_id", "amount"]


def test_union_keeps_both():
    both = ReadSet.of(["marts"]).union(ReadSet.of(["metrics.metric_funnel_history"], {"metrics.*": ["a"]}))
    assert both.wants("marts", "x") and both.wants("metrics", "metric_funnel_history")
    assert both.projection("metrics", "metric_funnel_history", ["a", "b"]) == ["a"]


def test_the_readers_name_what_they_read():
    assert PUBLISH_READS.wants("marts", "mart_funnel_conversion")
    assert not PUBLISH_READS.wants("intermediate", "int_deal_stage_visits_collapsed")
    assert QUARANTINE_READS.wants("marts", "quarantined_records")
    assert not QUARANTINE_READS.wants("marts", "fct_deals")
    assert CHECK_READS.wants("metrics", "metric_funnel_history")
    assert CHECK_READS.wants("marts", "fct_deal_stage_history")
    assert CHECK_READS.projection("raw_hubspot", "deals", ["id", "_loaded_at"]) == ["_loaded_at"]
    assert not CHECK_READS.wants("staging", "stg_hubspot__deals")
