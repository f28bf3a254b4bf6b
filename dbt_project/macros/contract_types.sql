{#- Model contracts (the marts' YAML `data_type`) are written in DuckDB's type names: `varchar`,
    `double`, `integer`, `bigint`, `boolean`, `date`, `timestamp`. PostgreSQL has no `double` and
    Spark no length-less `varchar`, so the contract's empty-schema query and PostgreSQL's
    contracted table DDL translate each name through `contract_type` first. -#}
{% macro contract_type(data_type) -%}
    {{ return(adapter.dispatch('contract_type')(data_type)) }}
{%- endmacro %}

{% macro default__contract_type(data_type) -%}
    {{ return(data_type) }}
{%- endmacro %}

{% macro postgres__contract_type(data_type) -%}
    {%- set names = {'double': 'double precision', 'varchar': 'text', 'string': 'text'} -%}
    {{ return(names.get(data_type | trim | lower, data_type)) }}
{%- endmacro %}

{% macro spark__contract_type(data_type) -%}
    {%- set names = {'varchar': 'string', 'text': 'string', 'double precision': 'double'} -%}
    {{ return(names.get(data_type | trim | lower, data_type)) }}
{%- endmacro %}

{#- The model's YAML columns with each data_type translated by `contract_type`. -#}
{% macro contract_columns(columns) -%}
    {%- set out = {} -%}
    {%- for name in columns -%}
        {%- set col = dict(columns[name]) -%}
        {%- if col.get('data_type') -%}
            {%- do col.update({'data_type': contract_type(col['data_type'])}) -%}
        {%- endif -%}
        {%- do out.update({name: col}) -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}

{% macro postgres__get_empty_schema_sql(columns) -%}
    {{ return(dbt.default__get_empty_schema_sql(contract_columns(columns))) }}
{%- endmacro %}

{% macro spark__get_empty_schema_sql(columns) -%}
    {{ return(dbt.default__get_empty_schema_sql(contract_columns(columns))) }}
{%- endmacro %}

{% macro postgres__get_table_columns_and_constraints() -%}
    {%- set raw_column_constraints = adapter.render_raw_columns_constraints(
        raw_columns=contract_columns(model['columns'])
    ) -%}
    {%- set raw_model_constraints = adapter.render_raw_model_constraints(raw_constraints=model['constraints']) -%}
    (
    {% for c in raw_column_constraints -%}
        {{ c }}{{ "," if not loop.last or raw_model_constraints }}
    {% endfor %}
    {% for c in raw_model_constraints -%}
        {{ c }}{{ "," if not loop.last }}
    {% endfor -%}
    )
{%- endmacro %}
