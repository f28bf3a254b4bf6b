"""HubSpot's property catalogue as the emulator serves it: every deal and contact property with
its HubSpot type, field type, group and the SQLite column (of the ground-truth store) it is read
from, plus the default property sets of the list endpoints. The ground truth knows nothing of
HubSpot; this module is where its columns become HubSpot properties."""

from __future__ import annotations

from dataclasses import dataclass

from emulators.truth.store import (
    CHANNELS,
    CURRENCIES,
    LEAD_STATUSES,
    LIFECYCLE_DATE_STAGES,
    LIFECYCLE_STAGES,
    PIPELINES,
)


@dataclass(frozen=True)
class PropDef:
    """A served property: its HubSpot type and where its value comes from.

    ``column`` is the SQL column (None for values computed from stage history).
    ``sql_type``: how search compares it: 'id', 'ms' (epoch ms), 'num_text', 'text', 'bool'.
    """

    name: str
    label: str
    type: str  # string | number | datetime | enumeration | bool
    field_type: str
    group: str
    column: str | None
    sql_type: str
    options: tuple[tuple[str, str], ...] = ()
    calculated: bool = False


def _p(name, label, type_, field, group, column=None, sql="text", options=(), calc=False):
    return PropDef(name, label, type_, field, group, column or name, sql, options, calc)


_STAGE_OPTIONS = tuple((s.id, s.label) for p in PIPELINES for s in p.stages)
_PIPE_OPTIONS = tuple((p.id, p.label) for p in PIPELINES)
_BOOL_OPTIONS = (("true", "Yes"), ("false", "No"))


def _opts(values):
    return tuple((v, v.replace("_", " ").title()) for v in values)


DEAL_PROPS: dict[str, PropDef] = {
    p.name: p
    for p in (
        _p("hs_object_id", "Record ID", "number", "number", "dealinformation", "id", "id"),
        _p("dealname", "Deal Name", "string", "text", "dealinformation"),
        _p(
            "dealtype",
            "Deal Type",
            "enumeration",
            "radio",
            "dealinformation",
            options=(("newbusiness", "New Business"), ("existingbusiness", "Existing Business")),
        ),
        _p("amount", "Amount", "number", "number", "dealinformation", sql="num_text"),
        _p("deal_currency_code", "Currency", "enumeration", "select", "dealinformation", options=_opts(CURRENCIES)),
        _p("closedate", "Close Date", "datetime", "date", "dealinformation", sql="ms"),
        _p("createdate", "Create Date", "datetime", "date", "dealinformation", sql="ms"),
        _p("hs_lastmodifieddate", "Last Modified Date", "datetime", "date", "dealinformation", sql="ms", calc=True),
        _p("pipeline", "Pipeline", "enumeration", "select", "dealinformation", options=_PIPE_OPTIONS),
        _p("dealstage", "Deal Stage", "enumeration", "radio", "dealinformation", options=_STAGE_OPTIONS),
        _p("hubspot_owner_id", "Deal owner", "enumeration", "select", "dealinformation", sql="id"),
        _p(
            "hs_is_closed",
            "Is Deal Closed?",
            "bool",
            "booleancheckbox",
            "dealinformation",
            sql="bool",
            options=_BOOL_OPTIONS,
            calc=True,
        ),
        _p(
            "hs_is_closed_won",
            "Is Closed Won",
            "bool",
            "booleancheckbox",
            "dealinformation",
            sql="bool",
            options=_BOOL_OPTIONS,
            calc=True,
        ),
        _p("hs_merged_object_ids", "Merged Deal IDs", "enumeration", "checkbox", "dealinformation", calc=True),
    )
}
for _pipe in PIPELINES:
    for _st in _pipe.stages:
        for _kind, _verb in (("entered", "Date entered"), ("exited", "Date exited")):
            _name = f"hs_v2_date_{_kind}_{_st.id}"
            DEAL_PROPS[_name] = PropDef(
                _name,
                f'{_verb} "{_st.label} ({_pipe.label})"',
                "datetime",
                "calculation_equation",
                "dealstages",
                None,
                "computed",
                calculated=True,
            )
DEAL_PROPS["hs_v2_date_entered_current_stage"] = PropDef(
    "hs_v2_date_entered_current_stage",
    "Date entered current stage",
    "datetime",
    "calculation_equation",
    "dealstages",
    None,
    "computed",
    calculated=True,
)

CONTACT_PROPS: dict[str, PropDef] = {
    p.name: p
    for p in (
        _p("hs_object_id", "Record ID", "number", "number", "contactinformation", "id", "id"),
        _p("email", "Email", "string", "text", "contactinformation"),
        _p("firstname", "First Name", "string", "text", "contactinformation"),
        _p("lastname", "Last Name", "string", "text", "contactinformation"),
        _p("createdate", "Create Date", "datetime", "date", "contactinformation", sql="ms"),
        _p("lastmodifieddate", "Last Modified Date", "datetime", "date", "contactinformation", sql="ms", calc=True),
        _p(
            "lifecyclestage",
            "Lifecycle Stage",
            "enumeration",
            "radio",
            "contactinformation",
            options=_opts(LIFECYCLE_STAGES),
        ),
        _p("hs_lead_status", "Lead Status", "enumeration", "radio", "sales_properties", options=_opts(LEAD_STATUSES)),
        _p(
            "hs_analytics_source",
            "Original Traffic Source",
            "enumeration",
            "select",
            "analyticsinformation",
            options=_opts(CHANNELS),
            calc=True,
        ),
        _p(
            "hs_analytics_source_data_1",
            "Original Traffic Source Drill-Down 1",
            "string",
            "text",
            "analyticsinformation",
            calc=True,
        ),
        _p(
            "hs_analytics_source_data_2",
            "Original Traffic Source Drill-Down 2",
            "string",
            "text",
            "analyticsinformation",
            calc=True,
        ),
        _p("hs_google_click_id", "Google ad click id", "string", "text", "analyticsinformation"),
        _p("hubspot_owner_id", "Contact owner", "enumeration", "select", "sales_properties", sql="id"),
        _p("hs_merged_object_ids", "Merged Contact IDs", "enumeration", "checkbox", "contactinformation", calc=True),
    )
}
for _lc in LIFECYCLE_DATE_STAGES:
    _name = f"hs_v2_date_entered_{_lc}"
    CONTACT_PROPS[_name] = _p(
        _name, f"Date entered '{_lc}'", "datetime", "calculation_equation", "contactinformation", sql="ms", calc=True
    )

CATALOG: dict[str, dict[str, PropDef]] = {"deals": DEAL_PROPS, "contacts": CONTACT_PROPS}
TABLE: dict[str, str] = {"deals": "deals", "contacts": "contacts"}
LASTMOD: dict[str, str] = {"deals": "hs_lastmodifieddate", "contacts": "lastmodifieddate"}
DEFAULT_PROPERTIES: dict[str, tuple[str, ...]] = {
    "contacts": ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
    "deals": (
        "amount",
        "closedate",
        "createdate",
        "dealname",
        "dealstage",
        "hs_lastmodifieddate",
        "hs_object_id",
        "pipeline",
    ),
}
