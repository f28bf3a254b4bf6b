"""The one place asset keys, groups, owners and descriptions of dbt nodes are decided.

- dbt sources map onto the raw ingestion assets (`[raw schema, table]`, from the source's
  `meta.dagster.asset_key` or, failing that, `[source_name, table]`), so the UI shows one graph.
- models and seeds: key `[<layer folder>, <name>]`, group = layer folder (staging, intermediate,
  marts, seeds); owners from `meta.owner` (an email or `team:<name>`; a bare name becomes
  `team:<name>`), set per folder in `dbt_project.yml`.
- descriptions are the dbt descriptions only (no raw SQL appended); every dbt test becomes a
  check with a description: its own, else the leading comment of a singular test, else one
  written from the generic test's name and arguments.
- the `DbtProject` handle is kept out of asset metadata (the UI can only show it as
  "unserializable").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from dagster import AssetCheckSpec, AssetKey, AssetSpec
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

PROJECT_METADATA_KEY = "dagster_dbt/project"


def _layer(props: Mapping[str, Any]) -> str:
    if props["resource_type"] == "seed":
        return "seeds"
    fqn = props.get("fqn") or []
    return fqn[1] if len(fqn) > 2 else "default"


def _meta(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return {**(props.get("meta") or {}), **((props.get("config") or {}).get("meta") or {})}


def owner_of(props: Mapping[str, Any]) -> str | None:
    """`meta.owner` as Dagster wants it: an email address, or a team as `team:<name>`."""
    owner = str(_meta(props).get("owner") or "").strip()
    if not owner:
        return None
    return owner if "@" in owner or owner.startswith("team:") else f"team:{owner}"


def _leading_comment(sql: str) -> str:
    lines = []
    for line in sql.lstrip().splitlines():
        stripped = line.strip()
        if not stripped.startswith("--"):
            break
        lines.append(stripped.lstrip("-").strip())
    return " ".join(lines).strip()


def _quote(value: Any) -> str:
    return f"`{value}`"


def check_description(test: Mapping[str, Any]) -> str:
    """A sentence for a dbt test: its YAML description, a singular test's leading comment, or
    one built from a generic test's name and arguments."""
    own = (test.get("description") or "").strip() or str(_meta(test).get("description") or "").strip()
    if own:
        return own
    generic = test.get("test_metadata") or {}
    if not generic:
        return _leading_comment(test.get("raw_code") or "") or f"dbt test {test['name']}: returns no rows."
    kwargs = generic.get("kwargs") or {}
    args = kwargs.get("arguments") if isinstance(kwargs.get("arguments"), Mapping) else kwargs
    column = kwargs.get("column_name") or args.get("column_name")
    what = _quote(column) if column else "the model"
    if " || " in str(column or ""):  # the composite keys written as "a || '|' || b"
        parts = [p for p in re.split(r"\s*\|\|\s*", str(column)) if not p.startswith("'")]
        what = "(" + ", ".join(_quote(p) for p in parts) + ")"
    name = generic.get("name")
    if name == "not_null":
        return f"{what} is never null."
    if name == "not_null_columns":
        return f"None of {', '.join(_quote(c) for c in args.get('column_names') or [])} is ever null."
    if name == "unique":
        return f"{what} is unique: no two rows share it."
    if name == "accepted_values":
        values = ", ".join(str(v) for v in args.get("values") or [])
        return f"{what} only takes the values: {values}."
    if name == "relationships":
        target = re.sub(r"^ref\('([^']+)'\)$", r"\1", str(args.get("to") or "?"))
        return f"Every {what} exists as {_quote(args.get('field'))} in {_quote(target)}."
    return f"dbt test {name} on {what}: returns no rows."


class WarehouseTranslator(DagsterDbtTranslator):
    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_source_tests_as_checks=True))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            meta_key = (dbt_resource_props.get("meta") or {}).get("dagster", {}).get("asset_key")
            if meta_key:
                return AssetKey(meta_key)
            return AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return AssetKey([_layer(dbt_resource_props), dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return dbt_resource_props.get("schema")
        return _layer(dbt_resource_props)

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> Sequence[str] | None:
        owner = owner_of(dbt_resource_props)
        return [owner] if owner else super().get_owners(dbt_resource_props)

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        text = (dbt_resource_props.get("description") or "").strip()
        return text or f"dbt {dbt_resource_props['resource_type']} {dbt_resource_props['name']}."

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: Any) -> AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        if PROJECT_METADATA_KEY not in spec.metadata:
            return spec
        metadata = {k: v for k, v in spec.metadata.items() if k != PROJECT_METADATA_KEY}
        return spec.replace_attributes(metadata=metadata)

    def get_asset_check_spec(
        self, asset_spec: AssetSpec, manifest: Mapping[str, Any], unique_id: str, project: Any
    ) -> AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        test = manifest["nodes"][unique_id]
        severity = "blocking" if spec.blocking else "warning"
        return AssetCheckSpec(
            name=spec.name,
            asset=spec.asset_key,
            description=f"[dbt test, {severity}] {check_description(test)}",
            additional_deps=spec.additional_deps,
            metadata=spec.metadata,
            blocking=spec.blocking,
        )
