{#
    The one home of the currency-rate lookup (docs/metrics.md, amounts in the reporting currency).

    `reporting_rates()`: the body of a CTE with one row per (currency_code, rate_date, rate), the
    `currency_rates` seed's rates into the reporting currency (dbt var `reporting_currency`), plus
    the reporting currency into itself at 1 from 1900-01-01 (a seed row for it, dated later, wins
    from its date on).

    `latest_rate_on_or_before(needed, date_column)`: the body of a CTE giving, for every distinct
    (currency_code, `date_column`) of the relation `needed`, the latest of those rates dated on
    or before that day (`rate_date`, `rate`). Pairs with no such rate have no row, so a left join
    leaves `rate` null for the blocking tests to name. It ranks rates per distinct pair, not per
    row of `needed`: a few hundred pairs, whatever the number of deals or spend days.
#}
{% macro reporting_rates() -%}
    select rate_date, currency_code, cast(rate as {{ type_double() }}) as rate
    from {{ ref('currency_rates') }}
    where reporting_currency = '{{ var("reporting_currency") }}'

    union all

    select
        cast('1900-01-01' as date) as rate_date,
        '{{ var("reporting_currency") }}' as currency_code,
        cast(1.0 as {{ type_double() }}) as rate
{%- endmacro %}

{% macro latest_rate_on_or_before(needed, date_column) -%}
    select currency_code, {{ date_column }}, rate_date, rate
    from (
        select
            pairs.currency_code,
            pairs.{{ date_column }},
            rates.rate_date,
            rates.rate,
            row_number() over (
                partition by pairs.currency_code, pairs.{{ date_column }}
                order by rates.rate_date desc
            ) as rate_rank
        from (select distinct currency_code, {{ date_column }} from {{ needed }}) as pairs
        inner join ({{ reporting_rates() }}) as rates
            on pairs.currency_code = rates.currency_code
            and pairs.{{ date_column }} >= rates.rate_date
    ) as ranked
    where rate_rank = 1
{%- endmacro %}
