-- Orders from both sides: the CDC current state (status, totals) and the purchase events that
-- placed them. A full outer join keeps orders seen on only one side, flagged, so revenue
-- reconciles with the events exactly.
with orders as (
    select * from {{ ref('int_order_changes_applied') }}
),

events as (
    select * from {{ ref('fct_events') }}
),

currency_rates as (
    select * from {{ ref('currency_rates') }}
),

purchases as (
    select
        events.order_id,
        max(events.user_id) as user_id,
        min(events.event_ts) as purchased_at,
        count(*) as purchase_event_count,
        sum(coalesce(events.quantity, 1)) as purchased_units,
        sum(events.revenue_usd) as purchase_revenue_usd,
        bool_or(events.is_bot) as is_bot
    from events
    where events.event_type = 'purchase' and events.order_id is not null
    group by events.order_id
),

final as (
    select /*+ broadcast(currency_rates) */
        orders.order_status,
        orders.created_at,
        orders.updated_at,
        orders.item_count,
        orders.order_total,
        orders.currency,
        purchases.purchased_at,
        coalesce(orders.order_id, purchases.order_id) as order_id,
        coalesce(orders.user_id, purchases.user_id) as user_id,
        to_date(coalesce(orders.created_at, purchases.purchased_at)) as order_date,
        orders.order_total * currency_rates.rate_to_usd as order_total_usd,
        coalesce(purchases.purchase_event_count, 0) as purchase_event_count,
        coalesce(purchases.purchased_units, 0) as purchased_units,
        coalesce(purchases.purchase_revenue_usd, 0) as purchase_revenue_usd,
        orders.order_id is not null as has_order_record,
        purchases.order_id is not null as has_purchase_events,
        coalesce(purchases.is_bot, false) as is_bot
    from orders
    full outer join purchases
        on orders.order_id = purchases.order_id
    left join currency_rates
        on orders.currency = currency_rates.currency
)

select * from final
