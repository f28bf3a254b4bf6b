-- One row per day from the UTC day of the first live deal's `created_at` to `as_of_date`: the
-- calendar of the pipeline snapshots and of the monthly marts (`month`, and `period_date`: the
-- day whose end closes the month, i.e. its last day or `as_of_date` for the current month).
-- Numbers come from a cross join of digits (up to 100,000 days), which every engine runs.
with

deals as (

    select min(created_at) as first_created_at from {{ ref('int_deals_unioned') }}

),

digits as (

    {% for d in range(10) -%}
    select {{ d }} as digit {% if not loop.last %}
    union all{% endif %}
    {% endfor %}

),

numbers as (

    select
        ones.digit
        + 10 * tens.digit
        + 100 * hundreds.digit
        + 1000 * thousands.digit
        + 10000 * ten_thousands.digit as day_number
    from digits as ones
    cross join digits as tens
    cross join digits as hundreds
    cross join digits as thousands
    cross join digits as ten_thousands

),

days as (

    select
        cast(
            {{ dbt.dateadd('day', 'numbers.day_number', 'cast(cast(deals.first_created_at as date) as timestamp)') }}
            as date
        ) as day
    from numbers
    cross join deals
    where deals.first_created_at is not null

),

final as (

    select
        day,
        {{ month_start('day') }} as month,
        max(day) over (partition by {{ month_start('day') }}) as period_date
    from days
    where day <= {{ as_of_date() }}

)

select * from final
