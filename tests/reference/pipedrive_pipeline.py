"""Independent reference for the Pipedrive rows of the pipeline-over-time and forecast marts
(docs/metrics.md with docs/metrics.md; rules in docs/decisions.md "Pipedrive property history").

Reads the sandbox's ground truth (the SQLite file and its Pipedrive view in
:mod:`emulators.truth.pipedrive`), never the warehouse or the dbt models. Deals and stage
history come from :mod:`tests.reference.pipedrive`; this module adds the generic
``property_history`` and ``stage_probabilities`` inputs of
:func:`tests.reference.pipeline.compute_pipeline_marts`:

- "Pipedrive: flow `dealChange` items with `field_key` `value`, `currency`,
  `expected_close_date`"; "equal times keep the API's order" (by ``log_time``, ties by the
  change id, as for the stage history);
- Pipedrive logs no change for the value a deal is created with: it is the ``old_value`` of the
  property's earliest change, an entry at the deal's ``add_time`` that precedes every change;
- `value` ``0`` is an amount of 0 ("Pipedrive stores 0 when no value was entered");
- "stage_probability for Pipedrive = stage `deal_probability` / 100".
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from emulators.truth import pipedrive as pd
from tests.reference.funnel import Row, read_seed
from tests.reference.pipedrive import SOURCE, _sec, pipedrive_inputs, pipedrive_marts_from_truth

FIELD_PROPERTIES = {"value": "amount", "currency": "currency", "expected_close_date": "close_date"}


def property_entries(deal_id: str, created_ms: int, changes: Iterable[Mapping[str, Any]]) -> list[Row]:
    """Generic property-history entries of one deal from its flow changes.

    ``changes``: dicts with ``id`` (int), ``field_key``, ``old_value``, ``new_value`` (strings)
    and ``log_time`` (epoch ms). Per property with changes: entry 0 at ``created_ms`` holds the
    earliest change's ``old_value``, then one entry per change in (log_time, id) order."""
    out: list[Row] = []
    for field, prop in FIELD_PROPERTIES.items():
        kept = sorted((c for c in changes if c["field_key"] == field), key=lambda c: (c["log_time"], c["id"]))
        if not kept:
            continue
        values = [(kept[0]["old_value"], created_ms)] + [(c["new_value"], c["log_time"]) for c in kept]
        for seq, (value, at) in enumerate(values):
            if prop == "currency" and value:
                value = value.upper()
            out.append(
                {
                    "source": SOURCE,
                    "source_deal_id": deal_id,
                    "property": prop,
                    "seq": seq,
                    "value": value,
                    "changed_at": at,
                }
            )
    return out


def stage_probabilities() -> list[Row]:
    """ "Pipedrive stage `deal_probability` / 100" for every stage of the account."""
    return [
        {
            "source": SOURCE,
            "pipeline_id": str(s.pipeline_id),
            "stage_id": str(s.id),
            "probability": s.deal_probability / 100,
        }
        for s in pd.PD_STAGES.values()
    ]


def property_history(sandbox: Path | str) -> list[Row]:
    """Every deal's property-history entries from the sandbox file."""
    conn = sqlite3.connect(f"{Path(sandbox).resolve().as_uri()}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    out: list[Row] = []
    try:
        for row in conn.execute("SELECT id, createdate FROM deals ORDER BY id").fetchall():
            changes, _status, _held, _pipeline = pd.deal_flow(conn, row["id"])
            flow = [
                {
                    "id": c.id,
                    "field_key": c.field_key,
                    "old_value": c.old_value,
                    "new_value": c.new_value,
                    "log_time": _sec(c.ts_ms),
                }
                for c in changes
            ]
            out += property_entries(str(row["id"]), _sec(row["createdate"]), flow)
    finally:
        conn.close()
    return out


def pipedrive_pipeline_marts_from_truth(
    sandbox: Path | str, *, as_of_date: date, seeds_dir: Path | str, reporting_currency: str = "USD"
) -> dict[str, list[Row]]:
    """The four docs/metrics.md pipeline marts' Pipedrive rows for the sandbox file and the seeds."""
    from tests.reference.pipeline import compute_pipeline_marts

    inputs = pipedrive_inputs(sandbox)
    seeds = Path(seeds_dir)
    return compute_pipeline_marts(
        inputs["deals"],
        inputs["stage_history"],
        property_history(sandbox),
        stage_probabilities(),
        read_seed(seeds / "funnel_stage_mapping.csv"),
        read_seed(seeds / "currency_rates.csv"),
        as_of_date=as_of_date,
        reporting_currency=reporting_currency,
    )


def pipedrive_forecast_marts_from_truth(
    sandbox: Path | str,
    *,
    as_of_date: date,
    seeds_dir: Path | str,
    reporting_currency: str = "USD",
    pipeline: Mapping[str, list[Row]] | None = None,
) -> dict[str, list[Row]]:
    """Both forecast marts' Pipedrive rows: ``fct_deals`` from the Pipedrive funnel reference,
    the snapshot from :func:`pipedrive_pipeline_marts_from_truth` (or ``pipeline`` when given)."""
    from tests.reference.forecast import forecast_marts

    deals = pipedrive_marts_from_truth(
        sandbox, as_of_date=as_of_date, seeds_dir=seeds_dir, reporting_currency=reporting_currency
    )["fct_deals"]
    if pipeline is None:
        pipeline = pipedrive_pipeline_marts_from_truth(
            sandbox, as_of_date=as_of_date, seeds_dir=seeds_dir, reporting_currency=reporting_currency
        )
    return forecast_marts(pipeline["fct_pipeline_snapshot_daily"], deals, as_of_date=as_of_date)
