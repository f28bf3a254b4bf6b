-- The benchmark's reference: marts computed by plain DuckDB SQL straight from the raw tables,
-- written from the definitions in docs/metrics.md (stage visits, dwell, regressions, skips), not
-- by the dbt models' structure: no views, one pass per step, DuckDB's own dialect (QUALIFY).
-- benchmarks/scale_bench.py times it against dbt; tests/benchmarks/test_reference_marts.py
-- proves its rows equal dbt's on every contract column of the HubSpot deals.
--
-- Covers (schema reference) 17 of the 19 marts: dim_funnel_steps, dim_pipeline_stages,
-- dim_pipelines, dim_owners, fct_deal_stage_history, fct_deals, mart_deal_outcomes_monthly,
-- mart_lead_volume_daily, mart_stage_conversion_monthly; the daily pipeline snapshot
-- fct_pipeline_snapshot_daily and what reads it: mart_pipeline_by_stage_daily,
-- mart_funnel_bottlenecks_monthly, mart_pipeline_velocity_monthly and the forecast
-- (mart_forecast_monthly, mart_forecast_accuracy; docs/forecast.md); fct_ad_spend_daily and
-- mart_marketing_roi_monthly. CRM marts: HubSpot only (no Pipedrive branch, no quarantine rule).
-- The list is REFERENCE_MARTS in benchmarks/reference.py, which says which marts are left out
-- and why. The snapshot is written the way a DuckDB user would: each open visit unnested into
-- the days whose end it covers, the amount, currency and close date of each day by one as-of
-- join on the property history (docs/metrics.md, "End of day").
-- Inputs: raw_hubspot.{deals, deal_property_history, contacts, deal_contact_associations,
-- owners, pipelines, pipeline_stages}, raw_google_ads.{campaign_stats, campaigns},
-- raw_meta.{campaign_insights, campaigns}, the seeds funnel_stage_mapping, currency_rates,
-- campaign_channel_mapping and lead_channel_mapping, the variables as_of_date,
-- reporting_currency and default_currency and the temp table ref_funnel_steps
-- (benchmarks/reference.py sets them from the dbt vars).

create or replace temp macro hs_ts(c) as
    case
        when c is null or trim(c) = '' then null
        when c like '%-%' then cast(replace(replace(c, 'T', ' '), 'Z', '') as timestamp)
        else timestamp '1970-01-01' + to_milliseconds(cast(c as bigint))
    end;

-- the end of the as-of day: events strictly before it count
create or replace temp macro as_of_end() as cast(getvariable('as_of_date') as timestamp) + interval 1 day;

create or replace temp table ref_mapping as
select
    source,
    cast(pipeline_id as varchar) as pipeline_id,
    cast(stage_id as varchar) as stage_id,
    funnel_step,
    cast(funnel_step_order as integer) as funnel_step_order
from seeds.funnel_stage_mapping
where source = 'hubspot';

-- live deals as of the day (the latest loaded version of each; archived or hard-deleted: out)
create or replace temp table ref_deals as
select
    'hubspot:' || cast(id as varchar) as deal_id,
    cast(id as varchar) as source_deal_id,
    pipeline as pipeline_id,
    dealstage as stage_id,
    hs_ts(createdate) as created_at,
    dealname as deal_name,
    cast(nullif(trim(amount), '') as double) as amount,
    upper(nullif(trim(deal_currency_code), '')) as currency_code,
    hs_ts(closedate) as close_date_at,
    nullif(trim(hubspot_owner_id), '') as owner_id
from raw_hubspot.deals
qualify row_number() over (partition by id order by _loaded_at desc, _sync_id desc) = 1
    and not coalesce(archived, false)
    and not coalesce(_is_deleted, false)
    and hs_ts(createdate) < as_of_end();

create or replace temp table ref_stages as
select
    cast(pipeline_id as varchar) as pipeline_id,
    cast(id as varchar) as stage_id,
    label as stage_label,
    cast(display_order as integer) as display_order,
    coalesce(lower(is_closed) = 'true', false) as is_closed,
    coalesce(archived, false) as is_archived,
    cast(nullif(trim(probability), '') as double) as stage_probability
from raw_hubspot.pipeline_stages
where not coalesce(_is_deleted, false);

create or replace table reference.dim_pipeline_stages as
with pipelines as (
    select cast(id as varchar) as pipeline_id, coalesce(label, cast(id as varchar)) as pipeline_label
    from raw_hubspot.pipelines
    where not coalesce(_is_deleted, false)
),
pseudo as (  -- won / lost of the mapping with no stage of their own in the CRM
    select m.pipeline_id, m.stage_id, case when m.stage_id = 'won' then 'Won' else 'Lost' end as stage_label,
        cast(null as integer) as display_order, true as is_closed, false as is_archived
    from ref_mapping as m
    semi join pipelines as p on m.pipeline_id = p.pipeline_id
    anti join ref_stages as s on m.pipeline_id = s.pipeline_id and m.stage_id = s.stage_id
    where m.stage_id in ('won', 'lost')
),
all_stages as (
    select pipeline_id, stage_id, coalesce(stage_label, stage_id) as stage_label, display_order, is_closed, is_archived
    from ref_stages
    union all
    select * from pseudo
)
select
    'hubspot' as source,
    a.pipeline_id,
    coalesce(p.pipeline_label, a.pipeline_id) as pipeline_label,
    a.stage_id,
    a.stage_label,
    a.display_order,
    m.funnel_step,
    m.funnel_step_order,
    a.is_closed,
    a.is_archived
from all_stages as a
left join pipelines as p on a.pipeline_id = p.pipeline_id
left join ref_mapping as m on a.pipeline_id = m.pipeline_id and a.stage_id = m.stage_id;

-- every dealstage change of the live deals, in the API's order (oldest first; ties: the later
-- history entry first, as the API lists the newest first)
create or replace temp table ref_changes as
select
    d.deal_id,
    nullif(h.value, '') as stage_id,
    hs_ts(h.timestamp) as changed_at,
    row_number() over (partition by h.deal_id order by hs_ts(h.timestamp), h.history_index desc) as seq
from raw_hubspot.deal_property_history as h
inner join ref_deals as d on d.source_deal_id = cast(h.deal_id as varchar)
where h.property = 'dealstage';

-- the changes before the day's end; a deal with none starts in its oldest known stage (or its
-- current one) at its creation
create or replace temp table ref_visits as
with known as (
    select deal_id, stage_id, changed_at, seq from ref_changes where changed_at < as_of_end()
),
synthetic as (
    select
        d.deal_id,
        coalesce(o.stage_id, d.stage_id) as stage_id,
        d.created_at as changed_at,
        0 as seq
    from ref_deals as d
    left join (select deal_id, stage_id from ref_changes qualify row_number() over (
        partition by deal_id order by changed_at, seq) = 1) as o on d.deal_id = o.deal_id
    anti join known as k on d.deal_id = k.deal_id
),
changes as (
    select *, row_number() over (partition by deal_id order by changed_at, seq) as change_no
    from (select * from known union all select * from synthetic) as c
),
starts as (  -- a visit starts where the stage differs from the previous change's
    select * from changes
    qualify lag(stage_id) over (partition by deal_id order by change_no) is null
        or lag(stage_id) over (partition by deal_id order by change_no) <> stage_id
),
visits as (
    select
        s.deal_id,
        s.stage_id,
        cast(row_number() over (partition by s.deal_id order by s.change_no) as integer) as visit_number,
        case when s.change_no = 1 then d.created_at else s.changed_at end as entered_at,
        lead(s.changed_at) over (partition by s.deal_id order by s.change_no) as exited_at,
        d.pipeline_id as deal_pipeline_id,
        d.source_deal_id
    from starts as s
    inner join ref_deals as d on s.deal_id = d.deal_id
),
stage_pipelines as (  -- the stage's pipeline: the deal's own if the stage is in it, else the first by id
    select v.deal_id, v.visit_number, st.pipeline_id
    from visits as v
    inner join ref_stages as st on v.stage_id = st.stage_id
    qualify row_number() over (
        partition by v.deal_id, v.visit_number
        order by case when st.pipeline_id = v.deal_pipeline_id then 0 else 1 end, st.pipeline_id
    ) = 1
),
owned as (
    select v.*, coalesce(sp.pipeline_id, v.deal_pipeline_id) as pipeline_id
    from visits as v
    left join stage_pipelines as sp on v.deal_id = sp.deal_id and v.visit_number = sp.visit_number
)
select o.*, m.funnel_step, m.funnel_step_order
from owned as o
left join ref_mapping as m on o.pipeline_id = m.pipeline_id and o.stage_id = m.stage_id;

create or replace table reference.fct_deal_stage_history as
with ranked as (
    select
        v.*,
        -- previous / highest previous step among the earlier visits that have a step
        lag(v.funnel_step_order) over w_mapped as previous_step_order,
        max(v.funnel_step_order) over (w_mapped rows between unbounded preceding and 1 preceding)
            as highest_previous_step_order
    from ref_visits as v
    where v.funnel_step_order is not null
    window w_mapped as (partition by v.deal_id order by v.visit_number)
)
select
    v.deal_id,
    'hubspot' as source,
    v.source_deal_id,
    v.pipeline_id,
    v.stage_id,
    v.funnel_step,
    v.funnel_step_order,
    v.visit_number,
    v.entered_at,
    v.exited_at,
    v.exited_at is null as is_current,
    (cast(extract(epoch from coalesce(v.exited_at, as_of_end())) as double)
        - cast(extract(epoch from v.entered_at) as double)) / 86400.0 as dwell_days,
    coalesce(v.visit_number > 1 and v.funnel_step_order < r.highest_previous_step_order, false) as is_regression,
    coalesce(v.visit_number > 1 and v.funnel_step_order > r.previous_step_order + 1, false) as is_skip,
    coalesce(s.pipeline_label, v.pipeline_id) as pipeline_label,
    coalesce(s.stage_label, v.stage_id) as stage_label
from ref_visits as v
left join ranked as r on v.deal_id = r.deal_id and v.visit_number = r.visit_number
left join reference.dim_pipeline_stages as s on v.pipeline_id = s.pipeline_id and v.stage_id = s.stage_id;

create or replace table reference.dim_pipelines as
select
    'hubspot' as source,
    cast(p.id as varchar) as pipeline_id,
    coalesce(p.label, cast(p.id as varchar)) as pipeline_label,
    cast(p.display_order as integer) as display_order,
    coalesce(p.archived, false) as is_archived,
    cast((select count(*) from ref_stages as s where s.pipeline_id = cast(p.id as varchar)) as integer) as stage_count
from raw_hubspot.pipelines as p
where not coalesce(p._is_deleted, false);

-- an owner's name: first and last name, else the email, else `owner <id>`
create or replace table reference.dim_owners as
select
    'hubspot' as source,
    cast(id as varchar) as owner_id,
    coalesce(
        nullif(trim(coalesce(first_name, '') || ' ' || coalesce(last_name, '')), ''),
        nullif(trim(email), ''),
        'owner ' || cast(id as varchar)
    ) as owner_name,
    nullif(trim(email), '') as email,
    coalesce(archived, false) as is_archived
from raw_hubspot.owners
where not coalesce(_is_deleted, false);

-- contacts are HubSpot's leads: the latest loaded version of each live one created before the day
create or replace temp table ref_leads as
select
    'hubspot:' || cast(id as varchar) as lead_id,
    cast(id as varchar) as source_lead_id,
    hs_ts(createdate) as created_at,
    case
        when hs_analytics_source is null or trim(hs_analytics_source) = '' then 'unknown'
        else lower(hs_analytics_source)
    end as channel
from raw_hubspot.contacts
qualify row_number() over (partition by id order by _loaded_at desc, _sync_id desc) = 1
    and not coalesce(archived, false)
    and not coalesce(_is_deleted, false)
    and hs_ts(createdate) < as_of_end();

-- per deal: the earliest-created live associated contact (ties: the shorter, then lower id)
create or replace temp table ref_primary_contacts as
select a.deal_id, l.source_lead_id as primary_contact_id, l.lead_id, l.channel
from (
    select distinct 'hubspot:' || cast(deal_id as varchar) as deal_id, cast(contact_id as varchar) as contact_id
    from raw_hubspot.deal_contact_associations
    where not coalesce(_is_deleted, false)
) as a
inner join ref_leads as l on a.contact_id = l.source_lead_id
qualify row_number() over (
    partition by a.deal_id order by l.created_at, length(l.source_lead_id), l.source_lead_id
) = 1;

-- per deal, from its visits: first reach of each step (a later step counts as reaching the
-- earlier ones), the current visit, reopens (a closed visit followed by an open one)
create or replace temp table ref_milestones as
with flagged as (
    select
        h.*,
        coalesce(
            lag(h.funnel_step) over (partition by h.deal_id order by h.visit_number) in ('won', 'lost')
                and h.funnel_step not in ('won', 'lost'),
            false
        ) as is_reopen
    from reference.fct_deal_stage_history as h
)
select
    deal_id,
    min(entered_at) filter (where funnel_step_order >= 2) as first_qualification_at,
    min(entered_at) filter (where funnel_step_order >= 3) as first_presentation_at,
    min(entered_at) filter (where funnel_step_order >= 4) as first_negotiation_at,
    min(entered_at) filter (where funnel_step_order >= 5) as first_won_at,
    max(funnel_step_order) as max_funnel_step_order,
    cast(count(*) filter (where is_reopen) as integer) as reopen_count,
    cast(count(*) filter (where is_regression) as integer) as regression_count,
    cast(count(*) filter (where is_skip) as integer) as skip_count,
    cast(count(*) as integer) as visit_count,
    any_value(pipeline_id) filter (where is_current) as current_pipeline_id,
    any_value(stage_id) filter (where is_current) as current_stage_id,
    any_value(funnel_step) filter (where is_current) as current_funnel_step,
    any_value(entered_at) filter (where is_current) as current_entered_at
from flagged
group by deal_id;

-- the reporting currency's rates (and itself at 1); a deal converts at the latest rate dated on
-- or before its close day (open deals: the as-of day)
create or replace temp table ref_amounts as
with rates as (
    select rate_date, currency_code, cast(rate as double) as rate
    from seeds.currency_rates
    where reporting_currency = getvariable('reporting_currency')
    union all
    select date '1900-01-01', getvariable('reporting_currency'), 1.0
),
inputs as (
    select
        d.deal_id,
        d.amount,
        coalesce(d.currency_code, getvariable('default_currency')) as currency_code,
        coalesce(
            case when m.current_funnel_step in ('won', 'lost') then cast(m.current_entered_at as date) end,
            getvariable('as_of_date')
        ) as conversion_date
    from ref_deals as d
    left join ref_milestones as m on d.deal_id = m.deal_id
)
select i.*, r.rate_date, r.rate, i.amount * r.rate as amount_reporting
from inputs as i
asof left join rates as r on i.currency_code = r.currency_code and i.conversion_date >= r.rate_date;

create or replace table reference.fct_deals as
with joined as (
    select
        d.*,
        m.* exclude (deal_id),
        case when m.current_funnel_step in ('won', 'lost') then m.current_funnel_step else 'open' end as outcome,
        case when m.current_funnel_step in ('won', 'lost') then m.current_entered_at end as closed_at,
        coalesce(m.current_pipeline_id, d.pipeline_id) as owning_pipeline_id
    from ref_deals as d
    inner join ref_milestones as m on d.deal_id = m.deal_id
)
select
    j.deal_id,
    'hubspot' as source,
    j.source_deal_id,
    j.deal_name,
    j.owning_pipeline_id as pipeline_id,
    j.current_stage_id,
    j.current_funnel_step,
    j.outcome,
    j.amount,
    a.currency_code,
    a.amount_reporting,
    j.created_at,
    j.closed_at,
    (cast(extract(epoch from j.closed_at) as double) - cast(extract(epoch from j.created_at) as double))
        / 86400.0 as cycle_days,
    case when j.outcome = 'open' then cast(j.close_date_at as date) end as expected_close_date,
    j.owner_id,
    c.primary_contact_id,
    j.max_funnel_step_order,
    j.reopen_count,
    j.regression_count,
    j.skip_count,
    j.first_qualification_at,
    j.first_presentation_at,
    j.first_negotiation_at,
    j.first_won_at,
    j.visit_count,
    a.rate as fx_rate,
    a.rate_date as fx_rate_date,
    coalesce(p.pipeline_label, j.owning_pipeline_id) as pipeline_label,
    coalesce(s.stage_label, j.current_stage_id) as current_stage_label,
    o.owner_name,
    c.lead_id,
    c.channel as lead_channel
from joined as j
left join ref_amounts as a on j.deal_id = a.deal_id
left join ref_primary_contacts as c on j.deal_id = c.deal_id
left join reference.dim_pipelines as p on j.owning_pipeline_id = p.pipeline_id
left join reference.dim_pipeline_stages as s
    on j.current_pipeline_id = s.pipeline_id and j.current_stage_id = s.stage_id
left join reference.dim_owners as o on j.owner_id = o.owner_id;

-- closed deals per close month: counts, win rate, won value (deals with an amount) and cycle
create or replace table reference.mart_deal_outcomes_monthly as
select
    cast(date_trunc('month', closed_at) as date) as close_month,
    'hubspot' as source,
    cast(count(*) filter (where outcome = 'won') as integer) as won_count,
    cast(count(*) filter (where outcome = 'lost') as integer) as lost_count,
    count(*) filter (where outcome = 'won') * 1.0 / count(*) as win_rate,
    sum(amount_reporting) filter (where outcome = 'won') as won_amount_reporting,
    avg(amount_reporting) filter (where outcome = 'won') as avg_won_deal_value,
    median(amount_reporting) filter (where outcome = 'won') as median_won_deal_value,
    avg(cycle_days) filter (where outcome = 'won') as avg_cycle_days_won,
    median(cycle_days) filter (where outcome = 'won') as median_cycle_days_won,
    cast(count(*) filter (where outcome = 'won' and amount_reporting is null) as integer) as won_without_amount_count
from reference.fct_deals
where outcome in ('won', 'lost')
group by all;

-- new leads (HubSpot contacts) per UTC day and channel
create or replace table reference.mart_lead_volume_daily as
select cast(created_at as date) as lead_date, 'hubspot' as source, channel, cast(count(*) as integer) as new_leads
from ref_leads
group by all;

-- ---------------------------------------------------------------------------------------------
-- Pipeline over time (docs/metrics.md "Pipeline over time"). end(D) = D + 1 day at midnight.

-- the amount, currency and close-date history of the live deals: per property and instant, the
-- newest entry in the API's order (a smaller history_index is newer); every entry counts, also
-- those at or after as_of (they say the property has history, so it is null before them)
create or replace temp table ref_property_changes as
select
    d.deal_id,
    h.property,
    hs_ts(h.timestamp) as changed_at,
    case when h.property = 'amount' then cast(nullif(trim(h.value), '') as double) end as amount,
    case when h.property = 'deal_currency_code' then upper(nullif(trim(h.value), '')) end as currency_code,
    case when h.property = 'closedate' then cast(hs_ts(nullif(h.value, '')) as date) end as close_date
from raw_hubspot.deal_property_history as h
inner join ref_deals as d on d.source_deal_id = cast(h.deal_id as varchar)
where h.property in ('amount', 'deal_currency_code', 'closedate')
qualify row_number() over (
    partition by h.deal_id, h.property, hs_ts(h.timestamp) order by h.history_index
) = 1;

create or replace temp table ref_property_history as
select
    deal_id,
    bool_or(property = 'amount') as has_amount_history,
    bool_or(property = 'deal_currency_code') as has_currency_history,
    bool_or(property = 'closedate') as has_close_date_history
from ref_property_changes
group by deal_id;

-- the three values after each instant any of them changed: per property the last change so far
-- (a struct, so a change to empty, i.e. null, still replaces the value before it)
create or replace temp table ref_property_states as
with instants as (
    select
        deal_id,
        changed_at,
        any_value({'v': amount}) filter (where property = 'amount') as amount,
        any_value({'v': currency_code}) filter (where property = 'deal_currency_code') as currency_code,
        any_value({'v': close_date}) filter (where property = 'closedate') as close_date
    from ref_property_changes
    group by all
)
select
    deal_id,
    changed_at,
    last_value(amount ignore nulls) over w as amount,
    last_value(currency_code ignore nulls) over w as currency_code,
    last_value(close_date ignore nulls) over w as close_date
from instants
window w as (partition by deal_id order by changed_at rows between unbounded preceding and current row);

-- a day D on which a deal is open: a visit to a step 2-4 covers end(D) when it was entered on or
-- before D and left after D (exited_at >= end(D)), i.e. D in [entered day, exited day); the
-- current visit covers every day to as_of_date
create or replace temp table ref_open_days as
select
    cast(o.day as date) as snapshot_date,
    o.day + interval 1 day as end_of_day,
    o.* exclude (day)
from (
    select
        h.deal_id,
        h.source_deal_id,
        h.pipeline_id,
        h.stage_id,
        h.funnel_step,
        h.funnel_step_order,
        h.entered_at,
        unnest(range(
            cast(cast(h.entered_at as date) as timestamp),
            cast(coalesce(cast(h.exited_at as date), getvariable('as_of_date') + 1) as timestamp),
            interval 1 day
        )) as day
    from reference.fct_deal_stage_history as h
    where h.funnel_step_order between 2 and 4
) as o;

-- each currency's rate into the reporting currency, by date (the reporting currency itself: 1)
create or replace temp table ref_snapshot_rates as
select currency_code, rate_date, cast(rate as double) as rate
from seeds.currency_rates
where reporting_currency = getvariable('reporting_currency')
    and currency_code <> getvariable('reporting_currency')
union all
select getvariable('reporting_currency'), date '1900-01-01', 1.0;

create or replace table reference.fct_pipeline_snapshot_daily as
with as_of_day as (
    -- the property values before end(D): the newest state before it (an as-of join); a property
    -- without any history: the latest loaded value
    select
        o.*,
        d.created_at,
        case when ph.has_amount_history then p.amount.v else d.amount end as amount,
        case when ph.has_amount_history then 'history' else 'latest' end as amount_basis,
        coalesce(
            case when ph.has_currency_history then p.currency_code.v else d.currency_code end,
            getvariable('default_currency')
        ) as currency_code,
        case when ph.has_close_date_history then p.close_date.v else cast(d.close_date_at as date) end
            as expected_close_date
    from ref_open_days as o
    inner join ref_deals as d on o.deal_id = d.deal_id
    left join ref_property_history as ph on o.deal_id = ph.deal_id
    asof left join ref_property_states as p on o.deal_id = p.deal_id and o.end_of_day > p.changed_at
),
converted as (
    select s.*, s.amount * r.rate as amount_reporting, st.stage_probability
    from as_of_day as s
    asof left join ref_snapshot_rates as r on s.currency_code = r.currency_code and s.snapshot_date >= r.rate_date
    left join ref_stages as st on s.pipeline_id = st.pipeline_id and s.stage_id = st.stage_id
)
select
    snapshot_date,
    deal_id,
    'hubspot' as source,
    source_deal_id,
    pipeline_id,
    stage_id,
    funnel_step,
    funnel_step_order,
    amount,
    currency_code,
    amount_reporting,
    amount_basis,
    stage_probability,
    amount_reporting * stage_probability as weighted_amount_reporting,
    expected_close_date,
    coalesce(expected_close_date < snapshot_date, false) as is_overdue,
    (cast(extract(epoch from end_of_day) as double) - cast(extract(epoch from entered_at) as double)) / 86400.0
        as days_in_stage,
    (cast(extract(epoch from end_of_day) as double) - cast(extract(epoch from created_at) as double)) / 86400.0
        as deal_age_days
from converted;

-- the snapshot summed per day, pipeline and step
create or replace table reference.mart_pipeline_by_stage_daily as
select
    snapshot_date,
    source,
    pipeline_id,
    funnel_step,
    funnel_step_order,
    cast(count(*) as integer) as open_deal_count,
    coalesce(sum(amount_reporting), 0) as open_amount_reporting,
    coalesce(sum(weighted_amount_reporting), 0) as weighted_amount_reporting,
    cast(count(*) filter (where amount is null) as integer) as deals_missing_amount,
    median(days_in_stage) as median_days_in_stage,
    cast(count(*) filter (where is_overdue) as integer) as overdue_deal_count,
    coalesce(sum(amount_reporting) filter (where is_overdue), 0) as overdue_amount_reporting
from reference.fct_pipeline_snapshot_daily
group by all;

-- the months from the first live deal's creation to as_of_date; period_end = end of the month's
-- last day, as_of for the month of as_of_date
create or replace temp table ref_periods as
select
    cast(m as date) as month,
    least(cast(m + interval 1 month as date) - 1, getvariable('as_of_date')) as period_date,
    cast(least(cast(m + interval 1 month as date) - 1, getvariable('as_of_date')) as timestamp) + interval 1 day
        as period_end
from (
    select unnest(range(
        date_trunc('month', (select min(created_at) from ref_deals)),
        cast(date_trunc('month', getvariable('as_of_date')) as timestamp) + interval 1 day,
        interval 1 month
    )) as m
) as months;

-- step visits: a deal's consecutive visits with the same funnel_step merged; one exits when the
-- next starts (before as_of: the history is as of then)
create or replace temp table ref_step_visits as
with marked as (
    select
        deal_id,
        visit_number,
        funnel_step,
        funnel_step_order,
        entered_at,
        case
            when lag(funnel_step) over (partition by deal_id order by visit_number) = funnel_step then 0 else 1
        end as is_new
    from reference.fct_deal_stage_history
),
grouped as (
    select *, sum(is_new) over (partition by deal_id order by visit_number) as step_visit_no
    from marked
),
merged as (
    select deal_id, step_visit_no, any_value(funnel_step) as funnel_step,
        any_value(funnel_step_order) as funnel_step_order, min(entered_at) as started_at
    from grouped
    group by deal_id, step_visit_no
)
select
    m.*,
    lead(started_at) over w as exited_at,
    case
        when lead(funnel_step) over w = 'lost' then 'lost'
        when lead(funnel_step_order) over w > funnel_step_order then 'advanced'
        when lead(started_at) over w is not null then 'regressed'
    end as exit_type,
    (cast(extract(epoch from lead(started_at) over w) as double) - cast(extract(epoch from started_at) as double))
        / 86400.0 as dwell_days
from merged as m
window w as (partition by deal_id order by step_visit_no);

create or replace table reference.mart_funnel_bottlenecks_monthly as
with exits as (
    select s.*, cast(date_trunc('month', s.exited_at) as date) as month, d.amount_reporting
    from ref_step_visits as s
    left join reference.fct_deals as d on s.deal_id = d.deal_id
    where s.funnel_step_order between 2 and 4 and s.exited_at is not null
),
monthly as (
    select
        month,
        funnel_step,
        count(*) as exits,
        count(*) filter (where exit_type = 'advanced') as advanced_count,
        count(*) filter (where exit_type = 'lost') as lost_count,
        count(*) filter (where exit_type = 'regressed') as regressed_count,
        median(dwell_days) as median_dwell_days,
        quantile_cont(dwell_days, 0.9) as p90_dwell_days,
        coalesce(sum(amount_reporting) filter (where exit_type = 'lost'), 0) as lost_amount_reporting
    from exits
    group by all
),
-- the stuck threshold at period_end: p90 dwell of the step's exits in (period_end - 180 days, period_end]
thresholds as (
    select p.month, e.funnel_step, count(*) as window_exits, quantile_cont(e.dwell_days, 0.9) as threshold_days
    from ref_periods as p
    inner join exits as e on e.exited_at > p.period_end - interval 180 day and e.exited_at <= p.period_end
    group by all
),
-- the deals open at period_end (the snapshot of that day) and the step visit they are in then
open_at_end as (
    select
        p.month,
        s.funnel_step,
        s.amount_reporting,
        coalesce(
            t.window_exits >= 20
            and (cast(extract(epoch from p.period_end) as double) - cast(extract(epoch from v.started_at) as double))
            / 86400.0 > t.threshold_days,
            false
        ) as is_stuck
    from ref_periods as p
    inner join reference.fct_pipeline_snapshot_daily as s on p.period_date = s.snapshot_date
    inner join ref_step_visits as v
        on s.deal_id = v.deal_id
        and v.started_at < p.period_end
        and (v.exited_at is null or v.exited_at >= p.period_end)
    left join thresholds as t on p.month = t.month and s.funnel_step = t.funnel_step
),
open_summary as (
    select
        month,
        funnel_step,
        count(*) as open_at_period_end,
        count(*) filter (where is_stuck) as stuck_count,
        coalesce(sum(amount_reporting) filter (where is_stuck), 0) as stuck_amount_reporting
    from open_at_end
    group by all
),
combined as (
    select
        coalesce(m.month, o.month) as month,
        coalesce(m.funnel_step, o.funnel_step) as funnel_step,
        coalesce(m.exits, 0) as exits,
        coalesce(m.advanced_count, 0) as advanced_count,
        coalesce(m.lost_count, 0) as lost_count,
        coalesce(m.regressed_count, 0) as regressed_count,
        case when m.exits > 0 then m.advanced_count * 1.0 / m.exits end as advance_rate,
        m.median_dwell_days,
        m.p90_dwell_days,
        coalesce(o.open_at_period_end, 0) as open_at_period_end,
        coalesce(o.stuck_count, 0) as stuck_count,
        coalesce(o.stuck_amount_reporting, 0) as stuck_amount_reporting,
        coalesce(m.lost_amount_reporting, 0) as lost_amount_reporting
    from monthly as m
    full outer join open_summary as o on m.month = o.month and m.funnel_step = o.funnel_step
),
with_order as (
    select c.*, f.funnel_step_order
    from combined as c
    inner join (select distinct funnel_step, funnel_step_order from ref_mapping) as f on c.funnel_step = f.funnel_step
),
-- per month: the step with the lowest advance rate among those with >= 20 exits, and the one
-- with the most lost + stuck value (above 0); ties: the higher step
conversion_bottlenecks as (
    select month, funnel_step from with_order
    where exits >= 20
    qualify row_number() over (partition by month order by advance_rate, funnel_step_order desc) = 1
),
value_bottlenecks as (
    select month, funnel_step from with_order
    where lost_amount_reporting + stuck_amount_reporting > 0
    qualify row_number() over (
        partition by month order by lost_amount_reporting + stuck_amount_reporting desc, funnel_step_order desc
    ) = 1
)
select
    w.month,
    'hubspot' as source,
    w.funnel_step,
    cast(w.funnel_step_order as integer) as funnel_step_order,
    cast(w.exits as integer) as exits,
    cast(w.advanced_count as integer) as advanced_count,
    cast(w.lost_count as integer) as lost_count,
    cast(w.regressed_count as integer) as regressed_count,
    w.advance_rate,
    w.median_dwell_days,
    w.p90_dwell_days,
    cast(w.open_at_period_end as integer) as open_at_period_end,
    cast(w.stuck_count as integer) as stuck_count,
    w.stuck_amount_reporting,
    w.lost_amount_reporting,
    cb.month is not null as is_conversion_bottleneck,
    vb.month is not null as is_value_bottleneck
from with_order as w
left join conversion_bottlenecks as cb on w.month = cb.month and w.funnel_step = cb.funnel_step
left join value_bottlenecks as vb on w.month = vb.month and w.funnel_step = vb.funnel_step;

-- per month: the deals open at period_end, and the deals closed in (period_end - 180 days, period_end]
create or replace table reference.mart_pipeline_velocity_monthly as
with open_counts as (
    select p.month, count(s.deal_id) as open_deal_count
    from ref_periods as p
    left join reference.fct_pipeline_snapshot_daily as s on p.period_date = s.snapshot_date
    group by all
),
closed as (
    select
        p.month,
        count(d.deal_id) filter (where d.outcome = 'won') as won_count,
        count(d.deal_id) filter (where d.outcome = 'lost') as lost_count,
        avg(d.amount_reporting) filter (where d.outcome = 'won') as avg_won_deal_value,
        avg(d.cycle_days) filter (where d.outcome = 'won') as avg_cycle_days_won
    from ref_periods as p
    left join reference.fct_deals as d
        on d.outcome in ('won', 'lost')
        and d.closed_at > p.period_end - interval 180 day
        and d.closed_at <= p.period_end
    group by all
),
inputs as (
    select
        p.month,
        p.period_end,
        o.open_deal_count,
        c.won_count,
        c.lost_count,
        case when c.won_count + c.lost_count > 0 then c.won_count * 1.0 / (c.won_count + c.lost_count) end
            as win_rate,
        c.avg_won_deal_value,
        c.avg_cycle_days_won
    from ref_periods as p
    inner join open_counts as o on p.month = o.month
    inner join closed as c on p.month = c.month
)
select
    month,
    'hubspot' as source,
    cast(open_deal_count as integer) as open_deal_count,
    cast(won_count as integer) as won_count,
    cast(lost_count as integer) as lost_count,
    win_rate,
    avg_won_deal_value,
    avg_cycle_days_won,
    case
        when avg_cycle_days_won <> 0 then open_deal_count * win_rate * avg_won_deal_value / avg_cycle_days_won
    end as velocity_per_day,
    period_end
from inputs;

-- ---------------------------------------------------------------------------------------------
-- Stage conversion per cohort month: step 1 the leads created in the month (advanced: linked to a
-- live deal; when: its first such deal's creation), steps 2-4 the deals that reached the step in
-- the month (advanced: reached a higher order by as_of; when: the first reach of the next step)
create or replace table reference.mart_stage_conversion_monthly as
with lead_first_deals as (
    select 'hubspot:' || cast(a.contact_id as varchar) as lead_id, min(d.created_at) as first_deal_created_at
    from raw_hubspot.deal_contact_associations as a
    inner join ref_deals as d on d.source_deal_id = cast(a.deal_id as varchar)
    where not coalesce(a._is_deleted, false)
    group by all
),
entries as (
    select 1 as funnel_step_order, 'lead' as funnel_step, l.created_at as entered_at, f.first_deal_created_at as advanced_at
    from ref_leads as l
    left join lead_first_deals as f on l.lead_id = f.lead_id
    union all
    select 2, 'qualification', first_qualification_at, case when max_funnel_step_order > 2 then first_presentation_at end
    from reference.fct_deals where first_qualification_at is not null
    union all
    select 3, 'presentation', first_presentation_at, case when max_funnel_step_order > 3 then first_negotiation_at end
    from reference.fct_deals where first_presentation_at is not null
    union all
    select 4, 'negotiation', first_negotiation_at, case when max_funnel_step_order > 4 then first_won_at end
    from reference.fct_deals where first_negotiation_at is not null
),
maturity as (  -- the p90 time to advance of each step, over every entry that advanced
    select
        funnel_step_order,
        quantile_cont(
            (cast(extract(epoch from advanced_at) as double) - cast(extract(epoch from entered_at) as double)) / 86400.0,
            0.9
        ) as maturity_days
    from entries
    where advanced_at is not null
    group by all
),
cohorts as (
    select
        cast(date_trunc('month', e.entered_at) as date) as cohort_month,
        e.funnel_step_order,
        e.funnel_step,
        count(*) as entered_count,
        count(e.advanced_at) as advanced_count
    from entries as e
    group by all
)
select
    c.cohort_month,
    'hubspot' as source,
    c.funnel_step,
    cast(c.funnel_step_order as integer) as funnel_step_order,
    cast(c.entered_count as integer) as entered_count,
    cast(c.advanced_count as integer) as advanced_count,
    c.advanced_count * 1.0 / c.entered_count as conversion_rate,
    m.maturity_days,
    a.cohort_age_days,
    a.cohort_age_days >= 0 and a.cohort_age_days >= coalesce(m.maturity_days, 0) as is_mature
from cohorts as c
left join maturity as m on c.funnel_step_order = m.funnel_step_order
cross join lateral (
    select (cast(extract(epoch from as_of_end()) as double)
        - cast(extract(epoch from c.cohort_month + interval 1 month) as double)) / 86400.0 as cohort_age_days
) as a;

-- ---------------------------------------------------------------------------------------------
-- Forecast (docs/forecast.md): origins are the month ends from the first deal's month to the
-- month before as_of_date (back-test) and as_of_date itself (live); targets the month of
-- origin + 1 day and the two after it
create or replace temp table ref_forecast_targets as
with origins as (
    select cast(m + interval 1 month - interval 1 day as date) as origin_date, true as is_backtest
    from (
        select unnest(range(
            date_trunc('month', (select min(created_at) from ref_deals)),
            cast(date_trunc('month', getvariable('as_of_date')) as timestamp),
            interval 1 month
        )) as m
    ) as months
    union all
    select getvariable('as_of_date'), false
)
select
    o.origin_date,
    o.is_backtest,
    cast(o.origin_date as timestamp) + interval 1 day as origin_end,
    h.horizon_months,
    cast(date_trunc('month', o.origin_date + 1) + to_months(h.horizon_months) as date) as target_month,
    cast(date_trunc('month', o.origin_date + 1) + to_months(h.horizon_months + 1) as timestamp) as target_end
from origins as o
cross join (select unnest(range(3)) as horizon_months) as h;

-- the deals open at the end of each origin day (the snapshot of that day)
create or replace temp table ref_forecast_open as
select s.snapshot_date as origin_date, s.deal_id, s.funnel_step_order, s.amount_reporting,
    s.weighted_amount_reporting, s.expected_close_date
from reference.fct_pipeline_snapshot_daily as s
semi join (select distinct origin_date from ref_forecast_targets) as o on s.snapshot_date = o.origin_date;

-- per origin and horizon: booked, actual, the CRM-weighted pipeline due in the target month, and
-- (for training) each step's open amount and what of it was won in the target month, and the won
-- amount of deals created after the origin
create or replace temp table ref_forecast_figures as
with won as (select deal_id, created_at, closed_at, amount_reporting from reference.fct_deals where outcome = 'won'),
won_in_target as (
    select
        t.origin_date,
        t.horizon_months,
        coalesce(sum(w.amount_reporting), 0) as won_amount,
        coalesce(sum(w.amount_reporting) filter (where w.closed_at < t.origin_end), 0) as booked_amount,
        coalesce(sum(w.amount_reporting) filter (where w.created_at >= t.origin_end), 0) as new_deals_won_amount
    from ref_forecast_targets as t
    left join won as w on w.closed_at >= t.target_month and w.closed_at < t.target_end
    group by all
),
pipeline as (
    select
        t.origin_date,
        t.horizon_months,
        coalesce(sum(o.weighted_amount_reporting) filter (
            where (o.expected_close_date >= t.target_month and o.expected_close_date < t.target_end)
            or (t.horizon_months = 0 and o.expected_close_date <= t.origin_date)
        ), 0) as crm_weighted_pipeline,
        count(o.deal_id) as open_deal_count,
        coalesce(sum(o.amount_reporting) filter (where o.funnel_step_order = 2), 0) as open_2,
        coalesce(sum(o.amount_reporting) filter (where o.funnel_step_order = 3), 0) as open_3,
        coalesce(sum(o.amount_reporting) filter (where o.funnel_step_order = 4), 0) as open_4,
        coalesce(sum(w.amount_reporting) filter (where o.funnel_step_order = 2), 0) as won_2,
        coalesce(sum(w.amount_reporting) filter (where o.funnel_step_order = 3), 0) as won_3,
        coalesce(sum(w.amount_reporting) filter (where o.funnel_step_order = 4), 0) as won_4
    from ref_forecast_targets as t
    left join ref_forecast_open as o on t.origin_date = o.origin_date
    left join won as w on o.deal_id = w.deal_id and w.closed_at >= t.target_month and w.closed_at < t.target_end
    group by all
)
select
    t.*,
    w.booked_amount,
    w.new_deals_won_amount,
    case when t.target_end <= as_of_end() then w.won_amount end as actual_amount,
    p.* exclude (origin_date, horizon_months)
from ref_forecast_targets as t
inner join won_in_target as w on t.origin_date = w.origin_date and t.horizon_months = w.horizon_months
inner join pipeline as p on t.origin_date = p.origin_date and t.horizon_months = p.horizon_months;

create or replace table reference.mart_forecast_monthly as
with monthly_actuals as (  -- every month's won amount, for naive
    select cast(date_trunc('month', closed_at) as date) as month, sum(amount_reporting) as won_amount
    from reference.fct_deals
    where outcome = 'won'
    group by all
),
naive as (
    select
        t.origin_date,
        case
            when min(m.month) >= (select cast(date_trunc('month', min(created_at)) as date) from ref_deals)
                then sum(coalesce(a.won_amount, 0)) / 3
        end as naive_amount
    from (select distinct origin_date from ref_forecast_targets) as t
    cross join lateral (
        select cast(date_trunc('month', t.origin_date + 1) - to_months(i) as date) as month from range(1, 4) as r (i)
    ) as m
    left join monthly_actuals as a on m.month = a.month
    group by all
),
-- empirical: the (at most 12) latest back-test origins before o whose target had ended by end(o)
training as (
    select t.origin_date, t.horizon_months, tr.origin_date as training_origin_date
    from ref_forecast_targets as t
    inner join ref_forecast_figures as tr
        on tr.is_backtest
        and tr.horizon_months = t.horizon_months
        and tr.origin_date < t.origin_date
        and tr.target_end <= t.origin_end
    qualify row_number() over (
        partition by t.origin_date, t.horizon_months order by tr.origin_date desc
    ) <= 12
),
rates as (
    select
        tr.origin_date,
        tr.horizon_months,
        count(*) as training_origins,
        sum(f.won_2) / nullif(sum(f.open_2), 0) as r_2,
        sum(f.won_3) / nullif(sum(f.open_3), 0) as r_3,
        sum(f.won_4) / nullif(sum(f.open_4), 0) as r_4,
        avg(f.new_deals_won_amount) as new_business
    from training as tr
    inner join ref_forecast_figures as f
        on tr.training_origin_date = f.origin_date and tr.horizon_months = f.horizon_months
    group by all
),
forecasts as (
    select
        f.*,
        f.booked_amount + f.crm_weighted_pipeline as crm_weighted,
        case
            when r.training_origins >= 3
                then f.booked_amount + r.r_2 * f.open_2 + r.r_3 * f.open_3 + r.r_4 * f.open_4 + r.new_business
        end as empirical,
        n.naive_amount as naive
    from ref_forecast_figures as f
    left join rates as r on f.origin_date = r.origin_date and f.horizon_months = r.horizon_months
    inner join naive as n on f.origin_date = n.origin_date
)
select
    f.origin_date,
    f.target_month,
    'hubspot' as source,
    m.method,
    cast(f.horizon_months as integer) as horizon_months,
    f.is_backtest,
    case m.method when 'crm_weighted' then f.crm_weighted when 'empirical' then f.empirical else f.naive end
        as forecast_amount_reporting,
    f.booked_amount as booked_amount_reporting,
    cast(f.open_deal_count as integer) as open_deal_count,
    f.actual_amount as actual_won_amount_reporting
from forecasts as f
cross join (values ('crm_weighted'), ('empirical'), ('naive')) as m (method);

-- accuracy per method and horizon over the scored back-test rows (a known actual above 0 and a
-- forecast); skill against naive over those of them where naive has a forecast too
create or replace table reference.mart_forecast_accuracy as
with rows_of as (
    select
        f.method,
        f.horizon_months,
        f.forecast_amount_reporting as f,
        f.actual_won_amount_reporting as a,
        n.forecast_amount_reporting as naive_f
    from reference.mart_forecast_monthly as f
    inner join reference.mart_forecast_monthly as n
        on n.method = 'naive' and f.origin_date = n.origin_date and f.horizon_months = n.horizon_months
    where f.is_backtest and f.actual_won_amount_reporting > 0 and f.forecast_amount_reporting is not null
),
measures as (
    select
        method,
        horizon_months,
        count(*) as n_origins,
        sum(abs(f - a)) / sum(a) as wape,
        sum(f - a) / sum(a) as bias,
        avg(abs(f - a) / a) as mape,
        sum(abs(f - a)) filter (where naive_f is not null) / sum(a) filter (where naive_f is not null) as paired_wape,
        sum(abs(naive_f - a)) filter (where naive_f is not null) / sum(a) filter (where naive_f is not null)
            as paired_naive_wape
    from rows_of
    group by all
)
select
    'hubspot' as source,
    k.method,
    cast(k.horizon_months as integer) as horizon_months,
    cast(coalesce(m.n_origins, 0) as integer) as n_origins,
    m.wape,
    m.bias,
    m.mape,
    1 - m.paired_wape / nullif(m.paired_naive_wape, 0) as skill_vs_naive
from (select distinct method, horizon_months from reference.mart_forecast_monthly) as k
left join measures as m on k.method = m.method and k.horizon_months = m.horizon_months;

-- ---------------------------------------------------------------------------------------------
-- Ad spend (docs/metrics.md "Marketing spend and ROI"): per platform, account, campaign and the
-- account's own day, the latest loaded version of each stats row; the campaign's name from the
-- campaign list, else the most recently loaded stats row's
create or replace temp table ref_ad_spend as
with google as (
    select
        'google_ads' as platform,
        cast(customer_id as varchar) as account_id,
        cast(campaign_id as varchar) as campaign_id,
        cast(date as date) as spend_date,
        campaign_name,
        upper(currency_code) as currency_code,
        cast(cost_micros as double) / 1e6 as spend,
        cast(impressions as bigint) as impressions,
        cast(clicks as bigint) as clicks,
        cast(conversions as double) as platform_conversions,
        _loaded_at
    from raw_google_ads.campaign_stats
    where not coalesce(_is_deleted, false)
    qualify row_number() over (partition by customer_id, campaign_id, date order by _loaded_at desc, _sync_id desc) = 1
),
meta as (  -- Meta's conversions: the `lead` action alone
    select
        'meta' as platform,
        cast(account_id as varchar) as account_id,
        cast(campaign_id as varchar) as campaign_id,
        cast(date_start as date) as spend_date,
        campaign_name,
        upper(account_currency) as currency_code,
        cast(spend as double) as spend,
        cast(impressions as bigint) as impressions,
        cast(clicks as bigint) as clicks,
        cast(list_filter(
            from_json(actions, '[{"action_type": "VARCHAR", "value": "VARCHAR"}]'), lambda a: a.action_type = 'lead'
        )[1].value as double) as platform_conversions,
        _loaded_at
    from raw_meta.campaign_insights
    where not coalesce(_is_deleted, false)
    qualify row_number() over (
        partition by account_id, campaign_id, date_start order by _loaded_at desc, _sync_id desc
    ) = 1
),
stats as (select * from google union all select * from meta),
listed as (
    select 'google_ads' as platform, cast(customer_id as varchar) as account_id, cast(campaign_id as varchar) as campaign_id,
        name as campaign_name
    from raw_google_ads.campaigns
    where not coalesce(_is_deleted, false)
    union all
    select 'meta', cast(account_id as varchar), cast(id as varchar), name
    from raw_meta.campaigns
    where not coalesce(_is_deleted, false)
),
last_row_names as (
    select platform, account_id, campaign_id, campaign_name
    from stats
    qualify row_number() over (
        partition by platform, account_id, campaign_id order by _loaded_at desc, spend_date desc
    ) = 1
)
select
    s.* exclude (campaign_name, _loaded_at),
    coalesce(l.campaign_name, n.campaign_name) as campaign_name
from stats as s
left join listed as l on s.platform = l.platform and s.account_id = l.account_id and s.campaign_id = l.campaign_id
left join last_row_names as n
    on s.platform = n.platform and s.account_id = n.account_id and s.campaign_id = n.campaign_id
where s.spend_date <= getvariable('as_of_date');

-- converted at the latest rate dated on or before the day; the channel from the seed
-- campaign_channel_mapping, else the platform's paid channel
create or replace table reference.fct_ad_spend_daily as
with rates as (
    select rate_date, currency_code, cast(rate as double) as rate
    from seeds.currency_rates
    where reporting_currency = getvariable('reporting_currency')
    union all
    select date '1900-01-01', getvariable('reporting_currency'), 1.0
)
select
    s.spend_date,
    s.platform,
    s.account_id,
    s.campaign_id,
    s.campaign_name,
    coalesce(
        lower(m.channel), case s.platform when 'google_ads' then 'paid_search' when 'meta' then 'paid_social' end
    ) as channel,
    s.currency_code,
    s.spend,
    s.spend * r.rate as spend_reporting,
    coalesce(s.impressions, 0) as impressions,
    coalesce(s.clicks, 0) as clicks,
    coalesce(s.platform_conversions, 0) as platform_conversions
from ref_ad_spend as s
asof left join rates as r on s.currency_code = r.currency_code and s.spend_date >= r.rate_date
left join seeds.campaign_channel_mapping as m
    on s.platform = m.platform and s.campaign_id = cast(m.campaign_id as varchar);

-- per month and marketing channel: spend, the month's new leads (channel mapped by the seed
-- lead_channel_mapping, unmapped as is) and, whenever they close, their deals and won revenue
create or replace table reference.mart_marketing_roi_monthly as
with spend as (
    select cast(date_trunc('month', spend_date) as date) as month, channel, sum(spend_reporting) as spend_reporting
    from reference.fct_ad_spend_daily
    group by all
),
cohort_leads as (
    select cast(date_trunc('month', l.created_at) as date) as month, coalesce(m.marketing_channel, l.channel) as channel,
        l.lead_id
    from ref_leads as l
    left join seeds.lead_channel_mapping as m on m.source = 'hubspot' and l.channel = m.channel
),
leads as (
    select
        c.month,
        c.channel,
        count(distinct c.lead_id) as leads,
        count(distinct d.deal_id) as deals_created,
        count(distinct c.lead_id) filter (where d.outcome = 'won') as new_customers,
        coalesce(sum(d.amount_reporting) filter (where d.outcome = 'won'), 0) as won_revenue_reporting
    from cohort_leads as c
    left join reference.fct_deals as d on c.lead_id = d.lead_id
    group by all
),
p90_cycle as (
    select quantile_cont(cycle_days, 0.9) as p90_cycle_days from reference.fct_deals where outcome = 'won'
),
joined as (
    select
        coalesce(s.month, l.month) as month,
        coalesce(s.channel, l.channel) as channel,
        coalesce(s.spend_reporting, 0) as spend_reporting,
        coalesce(l.leads, 0) as leads,
        coalesce(l.deals_created, 0) as deals_created,
        coalesce(l.new_customers, 0) as new_customers,
        coalesce(l.won_revenue_reporting, 0) as won_revenue_reporting
    from spend as s
    full outer join leads as l on s.month = l.month and s.channel = l.channel
)
select
    j.month,
    j.channel,
    j.spend_reporting,
    cast(j.leads as integer) as leads,
    case when j.spend_reporting > 0 and j.leads > 0 then j.spend_reporting / j.leads end as cost_per_lead,
    cast(j.deals_created as integer) as deals_created,
    cast(j.new_customers as integer) as new_customers,
    j.won_revenue_reporting,
    case when j.spend_reporting > 0 and j.new_customers > 0 then j.spend_reporting / j.new_customers end as cac,
    case when j.spend_reporting > 0 then j.won_revenue_reporting / j.spend_reporting end as roas,
    case when j.spend_reporting > 0 then (j.won_revenue_reporting - j.spend_reporting) / j.spend_reporting end as roi,
    coalesce(
        (cast(extract(epoch from as_of_end()) as double)
            - cast(extract(epoch from j.month + interval 1 month) as double)) / 86400.0 >= p.p90_cycle_days,
        false
    ) as is_mature
from joined as j
cross join p90_cycle as p;

-- the funnel's steps, from the temp table ref_funnel_steps the runner fills from the dbt var
-- funnel_steps (benchmarks/reference.py)
create or replace table reference.dim_funnel_steps as
select funnel_step, funnel_step_order, is_closed, step_description from ref_funnel_steps;
