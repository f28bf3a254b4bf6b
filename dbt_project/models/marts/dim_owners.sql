-- One row per CRM owner (user who owns deals and contacts), with a display name: the owner's
-- first and last name, else the email, else `owner <id>`. Archived owners are kept: old deals
-- still point at them. A new CRM adds one import CTE and one `union all` branch. Pipedrive's
-- users endpoint is not read, so its owners are the owner ids its deals and persons carry,
-- named `owner <id>`.
with

hubspot_owners as (

    select * from {{ ref('stg_hubspot__owners') }}

),

pipedrive_deals as (

    select * from {{ ref('stg_pipedrive__deals') }}

),

pipedrive_persons as (

    select * from {{ ref('stg_pipedrive__persons') }}

),

pipedrive_owner_ids as (

    select distinct source, cast(owner_id as {{ dbt.type_string() }}) as owner_id
    from pipedrive_deals
    where owner_id is not null

    union

    select distinct source, cast(owner_id as {{ dbt.type_string() }}) as owner_id
    from pipedrive_persons
    where owner_id is not null

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

    union all

    select
        source,
        owner_id,
        cast(null as {{ dbt.type_string() }}) as first_name,
        cast(null as {{ dbt.type_string() }}) as last_name,
        cast(null as {{ dbt.type_string() }}) as email,
        false as is_archived
    from pipedrive_owner_ids

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
