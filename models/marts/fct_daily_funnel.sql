-- Session funnel per day, channel and device: how many human sessions reached each step.
with sessions as (
    select * from {{ ref('fct_sessions') }}
),

funnel as (
    select
        sessions.session_date,
        coalesce(sessions.channel, 'unknown') as channel,
        coalesce(sessions.device_type, 'unknown') as device_type,
        count(*) as sessions,
        count_if(sessions.products_viewed > 0) as sessions_with_product_view,
        count_if(sessions.cart_adds > 0) as sessions_with_cart_add,
        count_if(sessions.has_checkout) as sessions_with_checkout,
        count_if(sessions.has_purchase) as sessions_with_purchase,
        sum(sessions.revenue_usd) as revenue_usd
    from sessions
    group by 1, 2, 3
),

final as (
    select
        funnel.session_date,
        funnel.channel,
        funnel.device_type,
        funnel.sessions,
        funnel.sessions_with_product_view,
        funnel.sessions_with_cart_add,
        funnel.sessions_with_checkout,
        funnel.sessions_with_purchase,
        funnel.revenue_usd,
        cast(funnel.sessions_with_purchase as double) / funnel.sessions as conversion_rate
    from funnel
)

select * from final
