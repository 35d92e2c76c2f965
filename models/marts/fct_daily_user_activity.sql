-- Per logged-in user and day, human traffic only.
{#- Incremental runs rebuild the event dates fct_events rebuilt in this run (a day's figures depend
    on that day's events only), replacing their partitions. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    partition_by=['activity_date'],
) }}

with events as (
    select * from {{ ref('fct_events') }}
    where not is_bot and user_id is not null
    {%- if is_incremental() %}
        and event_date in ({{ dates_to_rebuild(ref('fct_events')) }})
    {%- endif %}
),

final as (
    select
        ---------- grain
        event_date as activity_date,
        user_id,

        ---------- numerics
        count(distinct session_id) as sessions,
        count(*) as events,
        count_if(event_type = 'page_view') as page_views,
        count_if(event_type = 'product_view') as product_views,
        count_if(event_type = 'search') as searches,
        count_if(event_type = 'add_to_cart') as cart_adds,
        count_if(event_type = 'purchase') as purchases,
        sum(revenue_usd) as revenue_usd,

        ---------- timestamps
        min(event_ts) as first_event_at,
        max(event_ts) as last_event_at,

        ---------- load metadata
        max(_ingested_at) as _ingested_at
    from events
    group by event_date, user_id
)

select * from final
