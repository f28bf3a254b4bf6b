-- One row per forecast origin × deal open at the end of that origin's day (docs/metrics.md): the
-- deal's state then (from the daily pipeline snapshot) beside its final outcome (`fct_deals`,
-- as of `as_of`). Forecasts read only the `*_at_origin` columns; back-test training reads the
-- final outcome of deals whose target month has ended.
with

origins as (

    select distinct source, origin_date, origin_end
    from {{ ref('int_forecast_origins_spined') }}

),

snapshot as (

    select * from {{ ref('fct_pipeline_snapshot_daily') }}

),

deals as (

    select * from {{ ref('fct_deals') }}

),

open_at_origin as (

    select
        origins.source,
        origins.origin_date,
        origins.origin_end,
        snapshot.deal_id,
        snapshot.funnel_step_order,
        snapshot.amount_reporting as amount_reporting_at_origin,
        snapshot.weighted_amount_reporting as weighted_amount_reporting_at_origin,
        snapshot.expected_close_date as expected_close_date_at_origin
    from origins
    inner join snapshot
        on
        origins.source = snapshot.source
        and origins.origin_date = snapshot.snapshot_date

),

final as (

    select
        open_at_origin.source,
        open_at_origin.origin_date,
        open_at_origin.origin_end,
        open_at_origin.deal_id,
        open_at_origin.funnel_step_order,
        open_at_origin.amount_reporting_at_origin,
        open_at_origin.weighted_amount_reporting_at_origin,
        open_at_origin.expected_close_date_at_origin,
        deals.outcome as final_outcome,
        deals.closed_at as final_closed_at,
        deals.amount_reporting as final_amount_reporting
    from open_at_origin
    left join deals
        on open_at_origin.deal_id = deals.deal_id

)

select * from final
