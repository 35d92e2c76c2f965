-- Every user the users feed has known, deleted ones included (flagged), so facts never point at
-- a missing user; attributes are those of the user's latest version.
with user_versions as (
    select * from {{ ref('int_user_changes_historized') }}
),

country_regions as (
    select * from {{ ref('country_regions') }}
),

ranked_versions as (
    select
        user_versions.*,
        row_number() over (partition by user_versions.user_id order by user_versions.version_lsn desc)
            as version_rank,
        count(*) over (partition by user_versions.user_id) as version_count
    from user_versions
),

final as (
    select /*+ broadcast(country_regions) */
        ranked_versions.user_id,
        ranked_versions.email_hash,
        ranked_versions.country_code,
        country_regions.country_name,
        country_regions.region,
        ranked_versions.signup_at,
        ranked_versions.marketing_opt_in,
        ranked_versions.updated_at,
        ranked_versions.version_count,
        not ranked_versions.is_current as is_deleted
    from ranked_versions
    left join country_regions
        on ranked_versions.country_code = country_regions.country_code
    where ranked_versions.version_rank = 1
)

select * from final
