-- The `dealstage` history as ordered stage-change events, the shape every CRM's staging
-- layer produces for the funnel models. Repeats of the same stage are kept here; the
-- intermediate layer collapses them into visits.
with

changes as (

    select * from {{ ref('stg_hubspot__deal_property_changes') }}
    where property_name = 'dealstage'

),

final as (

    select
        deal_id,
        source,
        property_value as stage_id,
        changed_at,
        change_sequence,
        api_history_index,
        source_type,
        is_deal_deleted
    from changes

)

select * from final
