-- Session funnel per day, channel and device: how many human sessions reached each step.
with sessions as (
    select * from {{ ref('fct_sessions') }}
),

labelled_sessions as (
    select
        sessions.session_date,
        sessions.products_viewed,
        sessions.cart_adds,
        sessions.has_checkout,
        sessions.has_purchase,
        sessions.revenue_usd,
        coalesce(sessions.channel, 'unknown') as channel,
        coalesce(sessions.device_type, 'unknown') as device_type
    from sessions
),

funnel as (
    select
        labelled_sessions.session_date,
        labelled_sessions.channel,
        labelled_sessions.device_type,
        count(*) as sessions,
        count_if(labelled_sessions.products_viewed > 0) as sessions_with_product_view,
        count_if(labelled_sessions.cart_adds > 0) as sessions_with_cart_add,
        count_if(labelled_sessions.has_checkout) as sessions_with_checkout,
        count_if(labelled_sessions.has_purchase) as sessions_with_purchase,
        sum(labelled_sessions.revenue_usd) as revenue_usd
    from labelled_sessions
    group by labelled_sessions.session_date, labelled_sessions.channel, labelled_sessions.device_type
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
