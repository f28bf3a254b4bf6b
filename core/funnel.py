"""The canonical funnel for Python code: the steps, their order and which are closed, read from
the dbt var `funnel_steps` (dbt_project/dbt_project.yml), the one definition the models use too.
Definitions: docs/metrics.md#the-funnel."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from itertools import pairwise

from core.dbt_vars import dbt_var
from core.settings import DBT_PROJECT_DIR


@dataclass(frozen=True)
class FunnelStep:
    name: str
    order: int | None
    """1 lead ... 5 won; None for the `lost` outcome (not a step of the funnel)."""
    is_closed: bool
    description: str


def _load() -> tuple[FunnelStep, ...]:
    steps = tuple(
        FunnelStep(
            str(s["name"]), None if s["order"] is None else int(s["order"]), bool(s["is_closed"]), s["description"]
        )
        for s in dbt_var("funnel_steps")
    )
    orders = [s.order for s in steps if s.order is not None]
    if orders != sorted(orders) or len(set(orders)) != len(orders):
        raise ValueError("dbt var funnel_steps: the step orders must be unique and ascending")
    return steps


STEPS: tuple[FunnelStep, ...] = _load()
ORDERED: tuple[FunnelStep, ...] = tuple(s for s in STEPS if s.order is not None)
"""The funnel in order: lead, qualification, presentation, negotiation, won."""
STEP_ORDER: dict[str, int] = {s.name: s.order for s in ORDERED if s.order is not None}
NEXT_STEP: dict[str, str] = {a.name: b.name for a, b in pairwise(ORDERED)}
"""Each step's next step: lead -> qualification, ..., negotiation -> won."""
OPEN_DEAL_STEPS: tuple[str, ...] = tuple(s.name for s in ORDERED[1:] if not s.is_closed)
"""The steps an open deal can sit in: qualification, presentation, negotiation."""


STAGE_MAPPING_SEED = DBT_PROJECT_DIR / "seeds" / "funnel_stage_mapping.csv"
"""The seed that maps every CRM stage onto a funnel step (one row per source, pipeline, stage)."""


def stage_mapping() -> list[dict[str, str]]:
    """The rows of the dbt seed funnel_stage_mapping, as strings (empty order = lost)."""
    with STAGE_MAPPING_SEED.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def hubspot_stage_orders() -> dict[str, int | None]:
    """{HubSpot stage id: canonical step order (None for lost)} from the seed."""
    return {
        row["stage_id"]: int(row["funnel_step_order"]) if row["funnel_step_order"] else None
        for row in stage_mapping()
        if row["source"] == "hubspot"
    }
