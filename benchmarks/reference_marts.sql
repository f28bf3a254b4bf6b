-- The benchmark's reference: marts computed by plain DuckDB SQL straight from the raw tables,
-- written from the definitions in docs/metrics.md (stage visits, dwell, regressions, skips), not
-- by the dbt models' structure: no views, one pass per step, DuckDB's own dialect (QUALIFY).
-- benchmarks/scale_bench.py times it against dbt; tests/benchmarks/test_reference_marts.py
-- proves its rows equal dbt's on every contract column of the HubSpot deals.
--
-- Covers: fct_deal_stage_history (reference.fct_deal_stage_history) and the dimension it joins
-- (reference.dim_pipeline_stages), for the HubSpot source.
-- Inputs: raw_hubspot.{deals, deal_property_history, pipelines, pipeline_stages}, the seed
-- seeds.funnel_stage_mapping, and the variable as_of_date (SET VARIABLE as_of_date = DATE '...').

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
    hs_ts(createdate) as created_at
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
