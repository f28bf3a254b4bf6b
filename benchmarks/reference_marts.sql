-- The benchmark's reference: marts computed by plain DuckDB SQL straight from the raw tables,
-- written from the definitions in docs/metrics.md (stage visits, dwell, regressions, skips), not
-- by the dbt models' structure: no views, one pass per step, DuckDB's own dialect (QUALIFY).
-- benchmarks/scale_bench.py times it against dbt; tests/benchmarks/test_reference_marts.py
-- proves its rows equal dbt's on every contract column of the HubSpot deals.
--
-- Covers (schema reference, HubSpot source): dim_pipeline_stages, dim_pipelines, dim_owners,
-- fct_deal_stage_history, fct_deals, mart_deal_outcomes_monthly and mart_lead_volume_daily (the
-- list is REFERENCE_MARTS in benchmarks/scale_bench.py, which says which marts are left out and why).
-- Inputs: raw_hubspot.{deals, deal_property_history, contacts, deal_contact_associations,
-- owners, pipelines, pipeline_stages}, the seeds funnel_stage_mapping and currency_rates, and the
-- variables as_of_date, reporting_currency and default_currency (benchmarks/scale_bench.py sets
-- them from the dbt vars).

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
    coalesce(archived, false) as is_archived
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
