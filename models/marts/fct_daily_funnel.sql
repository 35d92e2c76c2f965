-- Session funnel per day, channel and device: how many human sessions reached each step.
with sessions as (
    select * from {{ ref('fct_sessions') }}
),

labelled_sessions as (
    select
        session_date,
        products_viewed,
        cart_adds,
        has_checkout,
        has_purchase,
        revenue_usd,
        coalesce(channel, 'unknown') as channel,
        coalesce(device_type, 'unknown') as device_type
    from sessions
),

funnel as (
    select
        session_date,
        channel,
        device_type,
        count(*) as sessions,
        count_if(products_viewed > 0) as sessions_with_product_view,
        count_if(cart_adds > 0) as sessions_with_cart_add,
        count_if(has_checkout) as sessions_with_checkout,
        count_if(has_purchase) as sessions_with_purchase,
        sum(revenue_usd) as revenue_usd
    from labelled_sessions
    group by session_date, channel, device_type
),

final as (
    select
        ---------- grain
        session_date,
        channel,
        device_type,

        ---------- numerics
        sessions,
        sessions_with_product_view,
        sessions_with_cart_add,
        sessions_with_checkout,
        sessions_with_purchase,
        revenue_usd,
        cast(sessions_with_purchase as double) / sessions as conversion_rate
    from funnel
)

select * from final
