-- One row per day x source x channel with leads (docs/metrics.md).
with

leads as (

    select * from {{ ref('int_leads_unioned') }}

),

final as (

    select
        cast(created_at as date) as lead_date,
        source,
        channel,
        cast(count(*) as {{ dbt.type_int() }}) as new_leads
    from leads
    group by cast(created_at as date), source, channel

)

select * from final
