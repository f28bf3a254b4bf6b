{#- The day the marts treat as "today" (UTC), first found of: the dbt var `as_of_date`
    (`--vars` by hand; a unit test's override), the environment variable AS_OF_DATE (how the
    pipeline, the bench and the evaluation pass it: core.dbt_cli.dbt_env), today (UTC).
    The environment is read only when `execute` is true, so dbt's parse never sees the day: a
    new day re-parses nothing (docs/decisions.md, "The as-of day from the environment, read at
    execution"); a new `--vars` value makes dbt parse the whole project again.
    `as_of()` is the exclusive end of that day: the next midnight UTC. Models never read the
    clock any other way. -#}
{% macro as_of_date() -%}
    {%- set value = var('as_of_date', none) -%}
    {%- if (value is none or value == '') and execute -%}
        {%- set value = env_var('AS_OF_DATE', '') | trim -%}
    {%- endif -%}
    {%- if value is none or value == '' -%}
        {%- set value = modules.datetime.datetime.now(modules.pytz.utc).strftime('%Y-%m-%d') -%}
    {%- endif -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', value | string) -%}
        {{ exceptions.raise_compiler_error("as_of_date must look like 2026-10-31 (YYYY-MM-DD, UTC); got '" ~ value ~ "' (from --vars as_of_date or AS_OF_DATE)") }}
    {%- endif -%}
    cast('{{ value }}' as date)
{%- endmacro %}

{% macro as_of() -%}
    {{ dbt.dateadd('day', 1, 'cast(' ~ as_of_date() ~ ' as timestamp)') }}
{%- endmacro %}
