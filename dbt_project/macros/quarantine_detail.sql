{#
    The `detail` text of a quarantine row (docs/metrics.md "Quarantine"): the offending entry's
    date, how it compares with the reference moment, how many entries offend, and what to check
    in the CRM. Expects the columns `offending_at`, `reference_at` and `entry_count`.
    `comparison` is a phrase such as "is earlier than the deal''s creation at" (SQL-quoted).
#}
{% macro quarantine_detail(comparison, advice) -%}
    {{ dbt.concat([
        "'stage history entry dated '",
        "cast(offending_at as " ~ dbt.type_string() ~ ")",
        "' " ~ comparison ~ " '",
        "cast(reference_at as " ~ dbt.type_string() ~ ")",
        "' (offending entries: '",
        "cast(entry_count as " ~ dbt.type_string() ~ ")",
        "'): " ~ advice ~ "'",
    ]) }}
{%- endmacro %}
