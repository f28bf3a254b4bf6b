{#- Spark's `dbt.dateadd` (dbt-spark) goes through `to_unix_timestamp`, which drops the
    sub-second part, fails on a null input and scales milliseconds wrongly. `timestampadd`
    keeps microseconds, propagates nulls and clamps month ends like the other engines. -#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    timestampadd({{ datepart }}, cast(({{ interval }}) as bigint), cast(({{ from_date_or_timestamp }}) as timestamp))
{%- endmacro %}
