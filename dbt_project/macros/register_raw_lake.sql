{#- Spark target only: register the raw tables Python mirrored to the lake folder
    (<WAREHOUSE_LAKE_DIR>/<raw schema>/<table>.parquet, one file per table, replaced atomically
    after each sync) as external Parquet tables `<raw schema>.<table>`, at the start of every run;
    WAREHOUSE_LAKE_TABLES lists the files present (core/dbt_cli.py), the others are left alone.
    Dropping an external table keeps its file; re-creating it re-reads the schema, so a column
    the loader added appears. Other targets read raw where the loader wrote it: a no-op there.
    See docs/decisions.md "Spark: raw as Parquet in a lake folder". -#}
{% macro register_raw_lake() %}
    {{ return(adapter.dispatch('register_raw_lake')()) }}
{% endmacro %}

{% macro default__register_raw_lake() %}
    {{ return('') }}
{% endmacro %}

{% macro spark__register_raw_lake() %}
    {%- set lake = env_var('WAREHOUSE_LAKE_DIR', '') -%}
    {%- set present = env_var('WAREHOUSE_LAKE_TABLES', '').split(',') -%}
    {%- if execute and lake -%}
        {%- set seen = [] -%}
        {%- set schemas = [] -%}
        {%- for node in graph.sources.values() -%}
            {%- set relation = node.schema ~ '.' ~ node.identifier -%}
            {%- if relation in present and relation not in seen -%}
                {%- do seen.append(relation) -%}
                {%- set path = lake ~ '/' ~ node.schema ~ '/' ~ node.identifier ~ '.parquet' -%}
                {%- if node.schema not in schemas -%}
                    {%- do schemas.append(node.schema) -%}
                    {%- do run_query('create database if not exists ' ~ node.schema) -%}
                {%- endif -%}
                {%- do run_query('drop table if exists ' ~ relation) -%}
                {%- do run_query('create table ' ~ relation ~ " using parquet location '" ~ path ~ "'") -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}
