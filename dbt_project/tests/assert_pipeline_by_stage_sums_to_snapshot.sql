-- mart_pipeline_by_stage_daily is fct_pipeline_snapshot_daily summed: per day, source, pipeline
-- and step the counts are equal and the money within 1e-9 of the sum (1e-6 at least: sums of
-- millions of doubles in another order differ in their last digits). Returns the differing cells.
{{ config(meta={'dagster': {'ref': {'name': 'mart_pipeline_by_stage_daily'}}}) }}

with

facts as (

    select
        snapshot_date,
        source,
        pipeline_id,
        funnel_step,
        count(*) as open_deal_count,
        coalesce(sum(amount_reporting), 0) as open_amount_reporting,
        coalesce(sum(weighted_amount_reporting), 0) as weighted_amount_reporting,
        sum(case when amount is null then 1 else 0 end) as deals_missing_amount,
        sum(case when is_overdue then 1 else 0 end) as overdue_deal_count,
        coalesce(sum(case when is_overdue then amount_reporting end), 0) as overdue_amount_reporting
    from {{ ref('fct_pipeline_snapshot_daily') }}
    group by snapshot_date, source, pipeline_id, funnel_step

),

mart as (

    select * from {{ ref('mart_pipeline_by_stage_daily') }}

)

select
    coalesce(facts.snapshot_date, mart.snapshot_date) as snapshot_date,
    coalesce(facts.source, mart.source) as source,
    coalesce(facts.pipeline_id, mart.pipeline_id) as pipeline_id,
    coalesce(facts.funnel_step, mart.funnel_step) as funnel_step,
    facts.open_deal_count as fact_count,
    mart.open_deal_count as mart_count,
    facts.open_amount_reporting as fact_amount,
    mart.open_amount_reporting as mart_amount
from facts
full outer join mart
    on facts.snapshot_date = mart.snapshot_date
    and facts.source = mart.source
    and facts.pipeline_id = mart.pipeline_id
    and facts.funnel_step = mart.funnel_step
where facts.snapshot_date is null
    or mart.snapshot_date is null
    or facts.open_deal_count <> mart.open_deal_count
    or facts.deals_missing_amount <> mart.deals_missing_amount
    or facts.overdue_deal_count <> mart.overdue_deal_count
    or abs(facts.open_amount_reporting - mart.open_amount_reporting)
    > greatest(1e-6, 1e-9 * abs(facts.open_amount_reporting))
    or abs(facts.weighted_amount_reporting - mart.weighted_amount_reporting)
    > greatest(1e-6, 1e-9 * abs(facts.weighted_amount_reporting))
    or abs(facts.overdue_amount_reporting - mart.overdue_amount_reporting)
    > greatest(1e-6, 1e-9 * abs(facts.overdue_amount_reporting))
