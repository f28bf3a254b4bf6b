-- On `as_of_date`, the snapshot's open deals per source and step equal fct_deals' open deals per
-- current step (the snapshot at end(as_of_date) is the funnel as of `as_of`), and the stage mart
-- says the same. Returns the (source, step) cells whose counts differ.
{{ config(meta={'dagster': {'ref': {'name': 'fct_pipeline_snapshot_daily'}}}) }}

with

open_deals as (

    select source, current_funnel_step as funnel_step, count(*) as deal_count
    from {{ ref('fct_deals') }}
    where outcome = 'open'
    group by source, current_funnel_step

),

snapshot as (

    select source, funnel_step, count(*) as deal_count
    from {{ ref('fct_pipeline_snapshot_daily') }}
    where snapshot_date = {{ as_of_date() }}
    group by source, funnel_step

),

by_stage as (

    select source, funnel_step, sum(open_deal_count) as deal_count
    from {{ ref('mart_pipeline_by_stage_daily') }}
    where snapshot_date = {{ as_of_date() }}
    group by source, funnel_step

)

select
    coalesce(open_deals.source, snapshot.source, by_stage.source) as source,
    coalesce(open_deals.funnel_step, snapshot.funnel_step, by_stage.funnel_step) as funnel_step,
    open_deals.deal_count as fct_deals_open,
    snapshot.deal_count as snapshot_open,
    by_stage.deal_count as by_stage_open
from open_deals
full outer join snapshot
    on open_deals.source = snapshot.source and open_deals.funnel_step = snapshot.funnel_step
full outer join by_stage
    on coalesce(open_deals.source, snapshot.source) = by_stage.source
    and coalesce(open_deals.funnel_step, snapshot.funnel_step) = by_stage.funnel_step
where coalesce(open_deals.deal_count, 0) <> coalesce(snapshot.deal_count, 0)
    or coalesce(open_deals.deal_count, 0) <> coalesce(by_stage.deal_count, 0)
