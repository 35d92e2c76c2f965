{{ config(store_failures_as='table') }}

-- fct_orders.purchase_revenue_usd must equal the purchase revenue of fct_events, per order and in
-- total: catches orders lost or fanned out by the join to the orders feed.
with purchase_events as (
    select
        order_id,
        sum(revenue_usd) as event_revenue_usd
    from {{ ref('fct_events') }}
    where event_type = 'purchase' and order_id is not null
    group by order_id
),

orders as (
    select
        order_id,
        purchase_revenue_usd
    from {{ ref('fct_orders') }}
),

per_order as (
    select
        coalesce(orders.order_id, purchase_events.order_id) as order_id,
        coalesce(orders.purchase_revenue_usd, 0) as order_revenue_usd,
        coalesce(purchase_events.event_revenue_usd, 0) as event_revenue_usd
    from orders
    full outer join purchase_events
        on orders.order_id = purchase_events.order_id
),

totals as (
    select
        '<all orders>' as order_id,
        sum(order_revenue_usd) as order_revenue_usd,
        sum(event_revenue_usd) as event_revenue_usd
    from per_order
)

select
    per_order.order_id,
    per_order.order_revenue_usd,
    per_order.event_revenue_usd
from per_order
where abs(per_order.order_revenue_usd - per_order.event_revenue_usd) > 0.005
union all
select
    totals.order_id,
    totals.order_revenue_usd,
    totals.event_revenue_usd
from totals
where abs(coalesce(totals.order_revenue_usd, 0) - coalesce(totals.event_revenue_usd, 0)) > 0.01
