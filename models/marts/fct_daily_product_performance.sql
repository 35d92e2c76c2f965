-- Per product and day, human traffic only: views, cart adds and purchases, and the rates between.
{#- Incremental runs rebuild the event dates fct_events rebuilt in this run (a day's figures depend
    on that day's events only), replacing their partitions. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    partition_by=['event_date'],
) }}

with events as (
    select * from {{ ref('fct_events') }}
    where not is_bot and product_id is not null
    {%- if is_incremental() %}
        and event_date in ({{ dates_to_rebuild(ref('fct_events')) }})
    {%- endif %}
),

daily as (
    select
        events.event_date,
        events.product_id,
        max(events.category_id) as category_id,
        count_if(events.event_type = 'product_view') as product_views,
        count_if(events.event_type = 'add_to_cart') as cart_adds,
        count_if(events.event_type = 'purchase') as purchases,
        coalesce(sum(case when events.event_type = 'purchase' then events.quantity end), 0)
            as purchased_units,
        sum(events.revenue_usd) as revenue_usd,
        max(events._ingested_at) as _ingested_at
    from events
    group by events.event_date, events.product_id
),

final as (
    select
        daily.event_date,
        daily.product_id,
        daily.category_id,
        daily.product_views,
        daily.cart_adds,
        daily.purchases,
        daily.purchased_units,
        daily.revenue_usd,
        cast(daily.cart_adds as double) / nullif(daily.product_views, 0) as view_to_cart_rate,
        cast(daily.purchases as double) / nullif(daily.cart_adds, 0) as cart_to_purchase_rate,
        daily._ingested_at
    from daily
)

select * from final
