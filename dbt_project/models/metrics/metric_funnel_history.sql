{#- Grains and horizons (dbt vars with defaults; nothing to declare in dbt_project.yml). -#}
{%- set history_weeks = var('anomaly_history_weeks', 30) | int -%}
{%- set history_days = history_weeks * 7 -%}
{%- set maturity_days = var('anomaly_conversion_maturity_days', 28) | int -%}
{%- set p90_lookback_days = var('anomaly_dwell_p90_lookback_days', 182) | int -%}
{%- set flap_changes = var('anomaly_flap_changes_per_day', 3) | int -%}
{%- set stuck_min_multiple = var('anomaly_stuck_min_p90_multiple', 2) -%}
{%- set stuck_max_multiple = var('anomaly_stuck_max_p90_multiple', 4) -%}
{%- set open_steps = ['qualification', 'presentation', 'negotiation'] -%}
{%- set to_steps = ['qualification', 'presentation', 'negotiation', 'won', 'lost'] -%}
{%- set conversion_steps = [
    ('qualification', 'first_qualification_at', 'first_presentation_at'),
    ('presentation', 'first_presentation_at', 'first_negotiation_at'),
    ('negotiation', 'first_negotiation_at', 'first_won_at'),
] -%}
-- The funnel's metric history as one long table: period x metric x segment x value, as of
-- `as_of_date` (the only clock). Buckets are anchored at `as_of_date`: bucket_index 0 is the
-- newest day (grain `day`) or the 7 days ending on `as_of_date` (grains `week` and `snapshot`),
-- so "the last 7 / 14 days" are whole buckets. The anomaly checks
-- (warehouse/anomaly/checks.py) read this small table instead of scanning the marts.
--   leads                 day x channel     new leads (0-filled: a collapse shows as 0)
--   stage_conversion      week x from-step  entry cohort of the step; numerator = reached the next
--                                           step within the maturity window; complete = mature
--   transitions           day x to-step     stage changes (visits after the first) into the step
--   flapping_deals        day               deals with >= N stage changes that day (bulk edits)
--   skip_rate             week              skips over transitions entered in the week
--   regression_rate       week              regressions over transitions entered in the week
--   dwell_log_days        week x step       completed visits by exit week: median/MAD of
--                                           ln(dwell days), p90 of dwell days
--   stuck_open_share      snapshot x step   of the visits that entered the step 2-4 x its trailing
--                                           p90 of completed visits before the end of the snapshot
--                                           day, the share still in it then ("stuck"; vars
--                                           anomaly_stuck_min/max_p90_multiple); p90 = the step's
--                                           p90 as of as_of_date, the same band for every snapshot
--   won_missing_amount    week              won deals by close week with a null or zero amount
--   won_log_amount        week              won deals by close week: median/MAD of ln(amount)
with

visits as (

    select * from {{ ref('fct_deal_stage_history') }}

),

deals as (

    select * from {{ ref('fct_deals') }}

),

leads as (

    select * from {{ ref('int_leads_unioned') }}

),

deal_contacts as (

    select * from {{ ref('int_deal_contacts_unioned') }}

),

lead_volume as (

    select * from {{ ref('mart_lead_volume_daily') }}

),

-- ------------------------------------------------------------------ calendars

series as (

    {{ dbt.generate_series(history_days) }}

),

days as (

    select
        cast(generated_number - 1 as {{ dbt.type_int() }}) as bucket_index,
        cast({{ dbt.dateadd('day', '1 - generated_number', as_of_date()) }} as date) as period_start,
        cast({{ dbt.dateadd('day', '1 - generated_number', as_of_date()) }} as date) as period_end
    from series

),

weeks as (

    select
        cast(generated_number - 1 as {{ dbt.type_int() }}) as bucket_index,
        cast({{ dbt.dateadd('day', '6 - 7 * generated_number', as_of_date()) }} as date) as period_start,
        cast({{ dbt.dateadd('day', '7 - 7 * generated_number', as_of_date()) }} as date) as period_end,
        -- the instant the snapshot of this bucket is taken: the end of its last day
        cast({{ dbt.dateadd('day', '8 - 7 * generated_number', as_of_date()) }} as timestamp) as snapshot_at
    from series
    where generated_number <= {{ history_weeks }}

),

-- ------------------------------------------------------------------ lead volume per channel

lead_channels as (

    select distinct channel
    from lead_volume
    where lead_date > cast({{ dbt.dateadd('day', -history_days, as_of_date()) }} as date)

),

lead_counts as (

    select lead_date, channel, sum(new_leads) as new_leads
    from lead_volume
    group by lead_date, channel

),

leads_daily as (

    select
        days.period_start,
        days.period_end,
        'day' as grain,
        days.bucket_index,
        'leads' as metric,
        lead_channels.channel as segment,
        cast(coalesce(lead_counts.new_leads, 0) as {{ type_double() }}) as value,
        cast(coalesce(lead_counts.new_leads, 0) as {{ type_double() }}) as numerator,
        cast(null as {{ type_double() }}) as denominator,
        cast(coalesce(lead_counts.new_leads, 0) as {{ dbt.type_int() }}) as n,
        cast(null as {{ type_double() }}) as mad,
        cast(null as {{ type_double() }}) as p90,
        true as is_complete
    from days
    cross join lead_channels
    left join lead_counts
        on days.period_start = lead_counts.lead_date
        and lead_channels.channel = lead_counts.channel

),

-- ------------------------------------------------------------------ cohort conversion

lead_first_deals as (

    select deal_contacts.lead_id, min(deals.created_at) as first_deal_created_at
    from deal_contacts
    inner join deals on deal_contacts.deal_id = deals.deal_id
    group by deal_contacts.lead_id

),

step_entries as (

    select
        'lead' as segment,
        leads.created_at as entered_at,
        lead_first_deals.first_deal_created_at as advanced_at
    from leads
    left join lead_first_deals on leads.lead_id = lead_first_deals.lead_id
    {% for step, entered_col, advanced_col in conversion_steps %}
    union all
    select '{{ step }}', {{ entered_col }}, {{ advanced_col }}
    from deals
    where {{ entered_col }} is not null
    {% endfor %}

),

step_entries_bucketed as (

    select
        segment,
        cast(floor({{ dbt.datediff('cast(entered_at as date)', as_of_date(), 'day') }} / 7.0) as {{ dbt.type_int() }})
            as bucket_index,
        case
            when advanced_at is not null
                and advanced_at < {{ dbt.dateadd('day', maturity_days, 'entered_at') }}
                then 1 else 0
        end as is_converted
    from step_entries
    where entered_at >= cast({{ dbt.dateadd('day', 1 - history_days, as_of_date()) }} as timestamp)

),

conversion_segments as (

    select 'lead' as segment
    {% for step, _, _ in conversion_steps -%}
    union all select '{{ step }}'
    {% endfor %}

),

conversion_weekly as (

    select
        weeks.period_start,
        weeks.period_end,
        'week' as grain,
        weeks.bucket_index,
        'stage_conversion' as metric,
        conversion_segments.segment,
        case
            when count(step_entries_bucketed.bucket_index) > 0
                then cast(sum(step_entries_bucketed.is_converted) * 1.0 / count(step_entries_bucketed.bucket_index) as {{ type_double() }})
        end as value,
        cast(coalesce(sum(step_entries_bucketed.is_converted), 0) as {{ type_double() }}) as numerator,
        cast(count(step_entries_bucketed.bucket_index) as {{ type_double() }}) as denominator,
        cast(count(step_entries_bucketed.bucket_index) as {{ dbt.type_int() }}) as n,
        cast(null as {{ type_double() }}) as mad,
        cast(null as {{ type_double() }}) as p90,
        -- mature: every member had the full window to convert before as_of
        {{ dbt.dateadd('day', maturity_days, 'weeks.period_end') }} <= {{ as_of_date() }} as is_complete
    from weeks
    cross join conversion_segments
    left join step_entries_bucketed
        on weeks.bucket_index = step_entries_bucketed.bucket_index
        and conversion_segments.segment = step_entries_bucketed.segment
    group by weeks.period_start, weeks.period_end, weeks.bucket_index, conversion_segments.segment

),

-- ------------------------------------------------------------------ transitions, flaps, skips, regressions

transitions as (

    select
        deal_id,
        funnel_step,
        is_skip,
        is_regression,
        cast(entered_at as date) as entered_date,
        cast({{ dbt.datediff('cast(entered_at as date)', as_of_date(), 'day') }} as {{ dbt.type_int() }}) as day_index
    from visits
    where visit_number > 1
        and entered_at >= cast({{ dbt.dateadd('day', 1 - history_days, as_of_date()) }} as timestamp)

),

to_steps as (

    {% for step in to_steps -%}
    select '{{ step }}' as segment{% if not loop.last %} union all {% endif %}
    {% endfor %}

),

transition_counts as (

    select day_index, funnel_step, count(*) as transitions
    from transitions
    group by day_index, funnel_step

),

transitions_daily as (

    select
        days.period_start,
        days.period_end,
        'day' as grain,
        days.bucket_index,
        'transitions' as metric,
        to_steps.segment,
        cast(coalesce(transition_counts.transitions, 0) as {{ type_double() }}) as value,
        cast(coalesce(transition_counts.transitions, 0) as {{ type_double() }}) as numerator,
        cast(null as {{ type_double() }}) as denominator,
        cast(coalesce(transition_counts.transitions, 0) as {{ dbt.type_int() }}) as n,
        cast(null as {{ type_double() }}) as mad,
        cast(null as {{ type_double() }}) as p90,
        true as is_complete
    from days
    cross join to_steps
    left join transition_counts
        on days.bucket_index = transition_counts.day_index
        and to_steps.segment = transition_counts.funnel_step

),

deal_days as (

    select day_index, deal_id, count(*) as changes
    from transitions
    group by day_index, deal_id

),

flap_counts as (

    select
        day_index,
        sum(case when changes >= {{ flap_changes }} then 1 else 0 end) as flapping_deals,
        count(*) as changed_deals
    from deal_days
    group by day_index

),

flapping_daily as (

    select
        days.period_start,
        days.period_end,
        'day' as grain,
        days.bucket_index,
        'flapping_deals' as metric,
        'all' as segment,
        cast(coalesce(flap_counts.flapping_deals, 0) as {{ type_double() }}) as value,
        cast(coalesce(flap_counts.flapping_deals, 0) as {{ type_double() }}) as numerator,
        cast(coalesce(flap_counts.changed_deals, 0) as {{ type_double() }}) as denominator,
        cast(coalesce(flap_counts.changed_deals, 0) as {{ dbt.type_int() }}) as n,
        cast(null as {{ type_double() }}) as mad,
        cast(null as {{ type_double() }}) as p90,
        true as is_complete
    from days
    left join flap_counts on days.bucket_index = flap_counts.day_index

),

transition_weeks as (

    select
        cast(floor(day_index / 7.0) as {{ dbt.type_int() }}) as bucket_index,
        count(*) as transitions,
        sum(case when is_skip then 1 else 0 end) as skips,
        sum(case when is_regression then 1 else 0 end) as regressions
    from transitions
    group by cast(floor(day_index / 7.0) as {{ dbt.type_int() }})

),

{% for metric, column in [('skip_rate', 'skips'), ('regression_rate', 'regressions')] %}
{{ metric }}_weekly as (

    select
        weeks.period_start,
        weeks.period_end,
        'week' as grain,
        weeks.bucket_index,
        '{{ metric }}' as metric,
        'all' as segment,
        case
            when coalesce(transition_weeks.transitions, 0) > 0
                then cast(transition_weeks.{{ column }} * 1.0 / transition_weeks.transitions as {{ type_double() }})
        end as value,
        cast(coalesce(transition_weeks.{{ column }}, 0) as {{ type_double() }}) as numerator,
        cast(coalesce(transition_weeks.transitions, 0) as {{ type_double() }}) as denominator,
        cast(coalesce(transition_weeks.transitions, 0) as {{ dbt.type_int() }}) as n,
        cast(null as {{ type_double() }}) as mad,
        cast(null as {{ type_double() }}) as p90,
        true as is_complete
    from weeks
    left join transition_weeks on weeks.bucket_index = transition_weeks.bucket_index

),
{% endfor %}

-- ------------------------------------------------------------------ dwell of completed visits

completed_visits as (

    select
        funnel_step as segment,
        dwell_days,
        ln(dwell_days) as log_dwell,
        cast(floor({{ dbt.datediff('cast(exited_at as date)', as_of_date(), 'day') }} / 7.0) as {{ dbt.type_int() }})
            as bucket_index
    from visits
    where exited_at is not null
        and dwell_days > 0
        and funnel_step in ({% for s in open_steps %}'{{ s }}'{% if not loop.last %}, {% endif %}{% endfor %})
        and exited_at >= cast({{ dbt.dateadd('day', 1 - history_days, as_of_date()) }} as timestamp)

),

dwell_medians as (

    select
        bucket_index,
        segment,
        {{ median('log_dwell') }} as median_log_dwell,
        cast(percentile_cont(0.9) within group (order by dwell_days) as {{ type_double() }}) as p90_dwell,
        count(*) as visits
    from completed_visits
    group by bucket_index, segment

),

dwell_mads as (

    select
        completed_visits.bucket_index,
        completed_visits.segment,
        {{ median('abs(completed_visits.log_dwell - dwell_medians.median_log_dwell)') }} as mad_log_dwell
    from completed_visits
    inner join dwell_medians
        on completed_visits.bucket_index = dwell_medians.bucket_index
        and completed_visits.segment = dwell_medians.segment
    group by completed_visits.bucket_index, completed_visits.segment

),

open_step_segments as (

    {% for step in open_steps -%}
    select '{{ step }}' as segment{% if not loop.last %} union all {% endif %}
    {% endfor %}

),

dwell_weekly as (

    select
        weeks.period_start,
        weeks.period_end,
        'week' as grain,
        weeks.bucket_index,
        'dwell_log_days' as metric,
        open_step_segments.segment,
        dwell_medians.median_log_dwell as value,
        cast(null as {{ type_double() }}) as numerator,
        cast(null as {{ type_double() }}) as denominator,
        cast(coalesce(dwell_medians.visits, 0) as {{ dbt.type_int() }}) as n,
        dwell_mads.mad_log_dwell as mad,
        dwell_medians.p90_dwell as p90,
        true as is_complete
    from weeks
    cross join open_step_segments
    left join dwell_medians
        on weeks.bucket_index = dwell_medians.bucket_index
        and open_step_segments.segment = dwell_medians.segment
    left join dwell_mads
        on weeks.bucket_index = dwell_mads.bucket_index
        and open_step_segments.segment = dwell_mads.segment

),

-- ------------------------------------------------------------------ stuck open deals (snapshots)

snapshot_thresholds as (

    -- the step's trailing p90 of completed visits, as known at each snapshot (bucket 0: as_of)
    select
        weeks.bucket_index,
        visits.funnel_step as segment,
        cast(percentile_cont(0.9) within group (order by visits.dwell_days) as {{ type_double() }}) as p90_dwell,
        count(*) as completed_visits
    from weeks
    inner join visits
        on visits.exited_at < weeks.snapshot_at
        and visits.exited_at >= {{ dbt.dateadd('day', -p90_lookback_days, 'weeks.snapshot_at') }}
    where visits.funnel_step in ({% for s in open_steps %}'{{ s }}'{% if not loop.last %}, {% endif %}{% endfor %})
    group by weeks.bucket_index, visits.funnel_step

),

snapshot_visits as (

    -- every visit that entered the step before the snapshot (within a year), its age at the
    -- snapshot and whether it was still open then
    select
        weeks.bucket_index,
        visits.funnel_step as segment,
        {{ days_between('visits.entered_at', 'weeks.snapshot_at') }} as age_days,
        case when visits.exited_at is null or visits.exited_at >= weeks.snapshot_at then 1 else 0 end as is_open
    from weeks
    inner join visits
        on visits.entered_at < weeks.snapshot_at
        and visits.entered_at >= {{ dbt.dateadd('day', -366, 'weeks.snapshot_at') }}
    where visits.funnel_step in ({% for s in open_steps %}'{{ s }}'{% if not loop.last %}, {% endif %}{% endfor %})

),

snapshot_counts as (

    -- entered the step 2-4 x p90 before the snapshot (denominator) and still there (numerator):
    -- conditioning on the entry, not on all open deals, keeps the ever-growing tail of ancient
    -- zombie deals and the volume trend out of the share
    select
        snapshot_visits.bucket_index,
        snapshot_visits.segment,
        count(*) as band_entries,
        sum(snapshot_visits.is_open) as stuck_visits,
        max(snapshot_thresholds.p90_dwell) as p90_dwell
    from snapshot_visits
    inner join snapshot_thresholds
        -- one threshold for every snapshot: the step's p90 as of as_of_date, so the band is the
        -- same ages throughout (a p90 that drifts would move the band and fake a trend)
        on snapshot_thresholds.bucket_index = 0
        and snapshot_visits.segment = snapshot_thresholds.segment
    where snapshot_visits.age_days > {{ stuck_min_multiple }} * snapshot_thresholds.p90_dwell
        and snapshot_visits.age_days <= {{ stuck_max_multiple }} * snapshot_thresholds.p90_dwell
    group by snapshot_visits.bucket_index, snapshot_visits.segment

),

stuck_snapshots as (

    select
        weeks.period_end as period_start,
        weeks.period_end,
        'snapshot' as grain,
        weeks.bucket_index,
        'stuck_open_share' as metric,
        open_step_segments.segment,
        case
            when coalesce(snapshot_counts.band_entries, 0) > 0
                then cast(snapshot_counts.stuck_visits * 1.0 / snapshot_counts.band_entries as {{ type_double() }})
        end as value,
        cast(coalesce(snapshot_counts.stuck_visits, 0) as {{ type_double() }}) as numerator,
        cast(coalesce(snapshot_counts.band_entries, 0) as {{ type_double() }}) as denominator,
        cast(coalesce(snapshot_counts.band_entries, 0) as {{ dbt.type_int() }}) as n,
        cast(null as {{ type_double() }}) as mad,
        snapshot_counts.p90_dwell as p90,
        true as is_complete
    from weeks
    cross join open_step_segments
    left join snapshot_counts
        on weeks.bucket_index = snapshot_counts.bucket_index
        and open_step_segments.segment = snapshot_counts.segment

),

-- ------------------------------------------------------------------ won amounts

won_deals as (

    select
        amount_reporting,
        case when amount_reporting > 0 then ln(amount_reporting) end as log_amount,
        cast(floor({{ dbt.datediff('cast(closed_at as date)', as_of_date(), 'day') }} / 7.0) as {{ dbt.type_int() }})
            as bucket_index
    from deals
    where outcome = 'won'
        and closed_at >= cast({{ dbt.dateadd('day', 1 - history_days, as_of_date()) }} as timestamp)

),

won_weeks as (

    select
        bucket_index,
        count(*) as won,
        sum(case when amount_reporting is null or amount_reporting = 0 then 1 else 0 end) as missing,
        count(log_amount) as with_amount,
        {{ median('log_amount') }} as median_log_amount
    from won_deals
    group by bucket_index

),

won_mads as (

    select
        won_deals.bucket_index,
        {{ median('abs(won_deals.log_amount - won_weeks.median_log_amount)') }} as mad_log_amount
    from won_deals
    inner join won_weeks on won_deals.bucket_index = won_weeks.bucket_index
    where won_deals.log_amount is not null
    group by won_deals.bucket_index

),

won_missing_weekly as (

    select
        weeks.period_start,
        weeks.period_end,
        'week' as grain,
        weeks.bucket_index,
        'won_missing_amount' as metric,
        'all' as segment,
        case
            when coalesce(won_weeks.won, 0) > 0 then cast(won_weeks.missing * 1.0 / won_weeks.won as {{ type_double() }})
        end as value,
        cast(coalesce(won_weeks.missing, 0) as {{ type_double() }}) as numerator,
        cast(coalesce(won_weeks.won, 0) as {{ type_double() }}) as denominator,
        cast(coalesce(won_weeks.won, 0) as {{ dbt.type_int() }}) as n,
        cast(null as {{ type_double() }}) as mad,
        cast(null as {{ type_double() }}) as p90,
        true as is_complete
    from weeks
    left join won_weeks on weeks.bucket_index = won_weeks.bucket_index

),

won_amount_weekly as (

    select
        weeks.period_start,
        weeks.period_end,
        'week' as grain,
        weeks.bucket_index,
        'won_log_amount' as metric,
        'all' as segment,
        won_weeks.median_log_amount as value,
        cast(null as {{ type_double() }}) as numerator,
        cast(null as {{ type_double() }}) as denominator,
        cast(coalesce(won_weeks.with_amount, 0) as {{ dbt.type_int() }}) as n,
        won_mads.mad_log_amount as mad,
        cast(null as {{ type_double() }}) as p90,
        true as is_complete
    from weeks
    left join won_weeks on weeks.bucket_index = won_weeks.bucket_index
    left join won_mads on weeks.bucket_index = won_mads.bucket_index

),

-- ------------------------------------------------------------------ all together

unioned as (

    select * from leads_daily
    union all select * from conversion_weekly
    union all select * from transitions_daily
    union all select * from flapping_daily
    union all select * from skip_rate_weekly
    union all select * from regression_rate_weekly
    union all select * from dwell_weekly
    union all select * from stuck_snapshots
    union all select * from won_missing_weekly
    union all select * from won_amount_weekly

),

final as (

    select
        metric,
        segment,
        grain,
        bucket_index,
        period_start,
        period_end,
        value,
        numerator,
        denominator,
        n,
        mad,
        p90,
        is_complete,
        {{ as_of_date() }} as as_of_date
    from unioned

)

select * from final
