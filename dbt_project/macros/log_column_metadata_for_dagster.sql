{#- Post-hook of every model (dbt_project.yml): when dbt runs under Dagster (dagster-dbt sets
    DAGSTER_DBT_CLI), log the built relation's columns and those of its parents as one JSON
    line. dagster-dbt reads that line from dbt's structured log and attaches the column schema
    and the column-level lineage (parsed from the compiled SQL with sqlglot) to the asset's
    materialization. Reading the columns inside dbt's own process avoids a second connection
    to the warehouse while dbt holds it (DuckDB allows one writer). Renders no SQL. -#}
{% macro log_column_metadata_for_dagster() %}
    {%- if execute and env_var('DAGSTER_DBT_CLI', '') == 'true' -%}
        {%- set payload = {'relation_name': this.render(), 'columns': _dagster_column_types(this), 'parents': {}} -%}
        {%- for node_id in model.depends_on.nodes -%}
            {%- set node = graph.nodes.get(node_id) or graph.sources.get(node_id) -%}
            {%- if node and node.resource_type in ('model', 'seed', 'snapshot', 'source') -%}
                {%- set relation = api.Relation.create(
                    database=node.database,
                    schema=node.schema,
                    identifier=node.identifier if node.resource_type == 'source' else node.alias
                ) -%}
                {%- do payload['parents'].update({relation.render(): {'columns': _dagster_column_types(relation)}}) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do log(tojson(payload), info=true) -%}
    {%- endif -%}
{% endmacro %}

{% macro _dagster_column_types(relation) -%}
    {%- set types = {} -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- do types.update({column.name: {'data_type': column.data_type}}) -%}
    {%- endfor -%}
    {{- return(types) -}}
{%- endmacro %}
