-- One row per deal (docs/metrics.md): live deals created before `as_of`, their
-- funnel position as of `as_of`, latest loaded attributes and amount in the reporting currency.
with

deals as (

    select * from {{ ref('int_deals_unioned') }}

),

milestones as (

    select * from {{ ref('int_deals_milestones_pivoted') }}

),

amounts as (

    select * from {{ ref('int_deals_amounts_converted') }}

),

deal_contacts as (

    select * from {{ ref('int_deal_contacts_unioned') }}

),

leads as (

    select * from {{ ref('int_leads_unioned') }}

),

stages as (

    select * from {{ ref('dim_pipeline_stages') }}

),

pipelines as (

    select * from {{ ref('dim_pipelines') }}

),

owners as (

    select * from {{ ref('dim_owners') }}

),

primary_contacts as (

    -- the earliest-created live associated contact; ties: the lowest id, numerically
    select deal_id, source_lead_id as primary_contact_id
    from (
        select
            deal_id,
            source_lead_id,
            row_number() over (
                partition by deal_id
                order by lead_created_at, {{ id_sort_key('source_lead_id') }}
            ) as contact_rank
        from deal_contacts
    ) as ranked
    where contact_rank = 1

),

final as (

    select
        deals.deal_id,
        deals.source,
        deals.source_deal_id,
        deals.deal_name,
        coalesce(milestones.current_pipeline_id, deals.pipeline_id) as pipeline_id,
        milestones.current_stage_id,
        milestones.current_funnel_step,
        milestones.outcome,
        deals.amount,
        amounts.currency_code,
        amounts.amount_reporting,
        deals.created_at,
        milestones.closed_at,
        case
            when milestones.closed_at is not null
                then {{ days_between('deals.created_at', 'milestones.closed_at') }}
        end as cycle_days,
        case
            when milestones.outcome = 'open' then cast(deals.close_date_at as date)
        end as expected_close_date,
        deals.owner_id,
        primary_contacts.primary_contact_id,
        milestones.max_funnel_step_order,
        milestones.reopen_count,
        milestones.regression_count,
        milestones.skip_count,
        -- additions beyond the documented columns
        milestones.first_qualification_at,
        milestones.first_presentation_at,
        milestones.first_negotiation_at,
        milestones.first_won_at,
        milestones.visit_count,
        amounts.rate as fx_rate,
        amounts.rate_date as fx_rate_date,
        -- names next to the ids, the deal's lead and its first-touch channel
        coalesce(pipelines.pipeline_label, coalesce(milestones.current_pipeline_id, deals.pipeline_id))
            as pipeline_label,
        coalesce(stages.stage_label, milestones.current_stage_id) as current_stage_label,
        owners.owner_name,
        -- the lead the deal came from: the lead the deal records (Pipedrive `source_lead_id`),
        -- else its primary contact when that contact is a lead (HubSpot contacts are leads)
        leads.lead_id,
        coalesce(leads.channel, deals.channel) as lead_channel
    from deals
    inner join milestones on deals.deal_id = milestones.deal_id
    left join amounts on deals.deal_id = amounts.deal_id
    left join primary_contacts on deals.deal_id = primary_contacts.deal_id
    left join leads
        on deals.source = leads.source
        and coalesce(deals.source_lead_id, primary_contacts.primary_contact_id) = leads.source_lead_id
    left join pipelines
        on deals.source = pipelines.source
        and coalesce(milestones.current_pipeline_id, deals.pipeline_id) = pipelines.pipeline_id
    left join stages
        on deals.source = stages.source
        and milestones.current_pipeline_id = stages.pipeline_id
        and milestones.current_stage_id = stages.stage_id
    left join owners
        on deals.source = owners.source
        and deals.owner_id = owners.owner_id

)

select * from final
