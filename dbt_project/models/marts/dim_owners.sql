-- One row per CRM owner (user who owns deals and contacts), with a display name: the owner's
-- first and last name, else the email, else `owner <id>`. Archived owners are kept: old deals
-- still point at them. A new CRM adds one import CTE and one `union all` branch.
with

hubspot_owners as (

    select * from {{ ref('stg_hubspot__owners') }}

),

unioned as (

    select
        source,
        owner_id,
        first_name,
        last_name,
        email,
        is_archived
    from hubspot_owners

),

final as (

    select
        source,
        owner_id,
        coalesce(
            nullif(trim(concat(coalesce(first_name, ''), ' ', coalesce(last_name, ''))), ''),
            nullif(trim(email), ''),
            concat('owner ', owner_id)
        ) as owner_name,
        nullif(trim(email), '') as email,
        is_archived
    from unioned

)

select * from final
