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
        event_date,
        product_id,
        max(category_id) as category_id,
        count_if(event_type = 'product_view') as product_views,
        count_if(event_type = 'add_to_cart') as cart_adds,
        count_if(event_type = 'purchase') as purchases,
        coalesce(sum(case when event_type = 'purchase' then quantity end), 0) as purchased_units,
        sum(revenue_usd) as revenue_usd,
        max(_ingested_at) as _ingested_at
    from events
    group by event_date, product_id
),

final as (
    select
        ---------- grain
        event_date,
        product_id,

        ---------- ids
        category_id,

        ---------- numerics
        product_views,
        cart_adds,
        purchases,
        purchased_units,
        revenue_usd,
        cast(cart_adds as double) / nullif(product_views, 0) as view_to_cart_rate,
        cast(purchases as double) / nullif(cart_adds, 0) as cart_to_purchase_rate,

        ---------- load metadata
        _ingested_at
    from daily
)

select * from final
