{%- set maturity_days = var('anomaly_conversion_maturity_days') | int -%}
-- Metric family `stage_conversion`: weekly entry cohorts of each step (lead and the deal steps
-- that have a next one); numerator = members that reached the next step within the maturity
-- window; complete = every member had the full window before as_of_date
-- (docs/metrics.md#metric-history).
with

deals as (

    select * from {{ ref('fct_deals') }}

),

leads as (

    select * from {{ ref('int_leads_unioned') }}

),

deal_contacts as (

    select * from {{ ref('int_deal_contacts_unioned') }}

),

{{ metric_calendar_ctes(days=false) }},

lead_first_deals as (

    select
        deal_contacts.lead_id,
        min(deals.created_at) as first_deal_created_at
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
    {% for step, next_step in funnel_deal_step_pairs() %}
    union all
    select
        '{{ step }}' as segment,
        first_{{ step }}_at as entered_at,
        first_{{ next_step }}_at as advanced_at
    from deals
    where first_{{ step }}_at is not null
    {% endfor %}

),

step_entries_bucketed as (

    select
        segment,
        {{ metric_week_bucket('entered_at') }} as bucket_index,
        case
            when
                advanced_at is not null
                and advanced_at < {{ dbt.dateadd('day', maturity_days, 'entered_at') }}
                then 1
            else 0
        end as is_converted
    from step_entries
    where entered_at >= {{ metric_history_start() }}

),

conversion_segments as (

    {%- set cohort_steps = ['lead'] -%}
    {%- for step, _ in funnel_deal_step_pairs() -%}{%- do cohort_steps.append(step) -%}{%- endfor %}
    {{ segment_rows(cohort_steps) }}

),

final as (

    select
        weeks.period_start,
        weeks.period_end,
        'week' as grain,
        weeks.bucket_index,
        'stage_conversion' as metric,
        conversion_segments.segment,
        case
            when count(entries.bucket_index) > 0
                then cast(sum(entries.is_converted) * 1.0 / count(entries.bucket_index) as {{ type_double() }})
        end as value,
        cast(coalesce(sum(entries.is_converted), 0) as {{ type_double() }}) as numerator,
        cast(count(entries.bucket_index) as {{ type_double() }}) as denominator,
        cast(count(entries.bucket_index) as {{ dbt.type_int() }}) as n,
        cast(null as {{ type_double() }}) as mad,
        cast(null as {{ type_double() }}) as p90,
        -- mature: every member had the full window to convert before as_of
        {{ dbt.dateadd('day', maturity_days, 'weeks.period_end') }} <= {{ as_of_date() }} as is_complete
    from weeks
    cross join conversion_segments
    left join step_entries_bucketed as entries
        on weeks.bucket_index = entries.bucket_index
        and conversion_segments.segment = entries.segment
    group by weeks.period_start, weeks.period_end, weeks.bucket_index, conversion_segments.segment

)

select * from final
