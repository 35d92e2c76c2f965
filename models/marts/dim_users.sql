-- Every user the users feed has known, deleted ones included (flagged), and every user a fact
-- refers to before the feed has delivered them (inferred members, flagged): so facts never point
-- at a missing user. Attributes are those of the user's latest version.
with user_versions as (
    select * from {{ ref('int_user_changes_historized') }}
),

events as (
    select * from {{ ref('stg_clickstream__events') }}
),

order_changes as (
    select * from {{ ref('stg_cdc__order_changes') }}
),

country_regions as (
    select * from {{ ref('country_regions') }}
),

ranked_versions as (
    select
        *,
        row_number() over (partition by user_id order by version_number desc) as version_rank,
        count(*) over (partition by user_id) as version_count
    from user_versions
),

referenced_users as (
    select user_id
    from events
    where user_id is not null
    union
    select user_id
    from order_changes
    where user_id is not null
),

inferred_users as (
    select referenced_users.user_id
    from referenced_users
    left anti join user_versions on referenced_users.user_id = user_versions.user_id
),

known_users as (
    select /*+ broadcast(country_regions) */
        ---------- ids
        ranked_versions.user_id,

        ---------- strings
        ranked_versions.email_hash,
        ranked_versions.country_code,
        country_regions.country_name,
        country_regions.region,

        ---------- numerics
        ranked_versions.version_count,

        ---------- booleans
        ranked_versions.marketing_opt_in,
        not ranked_versions.is_current as is_deleted,
        false as is_inferred,

        ---------- timestamps
        ranked_versions.signup_at,
        ranked_versions.updated_at
    from ranked_versions
    left join country_regions
        on ranked_versions.country_code = country_regions.country_code
    where ranked_versions.version_rank = 1
),

final as (
    select * from known_users
    union all
    select
        user_id,
        cast(null as string) as email_hash,
        cast(null as string) as country_code,
        cast(null as string) as country_name,
        cast(null as string) as region,
        cast(0 as bigint) as version_count,
        cast(null as boolean) as marketing_opt_in,
        false as is_deleted,
        true as is_inferred,
        cast(null as timestamp) as signup_at,
        cast(null as timestamp) as updated_at
    from inferred_users
)

select * from final
