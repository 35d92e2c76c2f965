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
        order_id,
        max(user_id) as user_id,
        min(event_ts) as purchased_at,
        count(*) as purchase_event_count,
        sum(coalesce(quantity, 1)) as purchased_units,
        sum(revenue_usd) as purchase_revenue_usd,
        bool_or(is_bot) as is_bot
    from events
    where event_type = 'purchase' and order_id is not null
    group by order_id
),

final as (
    select /*+ broadcast(currency_rates) */
        ---------- ids
        coalesce(orders.order_id, purchases.order_id) as order_id,
        coalesce(orders.user_id, purchases.user_id) as user_id,

        ---------- strings
        orders.order_status,
        orders.currency,

        ---------- numerics
        orders.item_count,
        orders.order_total,
        orders.order_total * currency_rates.rate_to_usd as order_total_usd,
        coalesce(purchases.purchase_event_count, 0) as purchase_event_count,
        coalesce(purchases.purchased_units, 0) as purchased_units,
        coalesce(purchases.purchase_revenue_usd, 0) as purchase_revenue_usd,

        ---------- booleans
        orders.order_id is not null as has_order_record,
        purchases.order_id is not null as has_purchase_events,
        coalesce(purchases.is_bot, false) as is_bot,

        ---------- dates and timestamps
        to_date(coalesce(orders.created_at, purchases.purchased_at)) as order_date,
        orders.created_at,
        orders.updated_at,
        purchases.purchased_at
    from orders
    full outer join purchases
        on orders.order_id = purchases.order_id
    left join currency_rates
        on orders.currency = currency_rates.currency
)

select * from final
