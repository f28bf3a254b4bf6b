-- The records left out of the marts for a structural fault of their own (docs/metrics.md
-- "Quarantine"), published with the marts so an analyst sees what is missing and why. The
-- rules live in int_records_quarantined; the Dagster check `quarantined_records` (ERROR, never
-- blocking) fails while this table has rows.
with

quarantined as (

    select * from {{ ref('int_records_quarantined') }}

),

final as (

    select
        source,
        entity,
        source_record_id,
        deal_id,
        rule,
        detail
    from quarantined

)

select * from final
