-- Human sessions only: bot sessions stay in fct_events (is_bot) but are not business traffic.
{#- Incremental runs rebuild whole session dates, from the day the earliest human session with an
    event sessionized in this run began (or var('session_lookback_days') before the first such
    event date, if earlier) to the last event date sessionized. The sessions that began on those
    dates are re-read whole, to the end of the data, and their partitions replaced. -#}
{%- set lookback_days = var('session_lookback_days') -%}
{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    partition_by=['session_date'],
) }}

with
{%- if is_incremental() %}
rebuilt_dates as (
    select
        least(
            to_date(min(case when not changed.is_bot then changed.session_start_ts end)),
            date_sub(min(changed.event_date), {{ lookback_days }})
        ) as first_date,
        max(changed.event_date) as last_date
    from {{ ref('fct_events') }} as changed
    where {{ newer_than_this('changed._sessionized_at', '_sessionized_at') }}
),
{%- endif %}

events as (
    select * from {{ ref('fct_events') }}
    where not is_bot
    {%- if is_incremental() %}
        and event_date >= (select rebuilt_dates.first_date from rebuilt_dates)
        -- whole sessions only: one that began before the first rebuilt date keeps its partition
        and to_date(session_start_ts) >= (select rebuilt_dates.first_date from rebuilt_dates)
    {%- endif %}
),

sessions as (
    select
        events.session_id,
        max(events.user_id) as user_id,
        max(events.visitor_id) as visitor_id,
        min(events.event_ts) as session_start,
        max(events.event_ts) as session_end,
        count(*) as event_count,
        count_if(events.event_type = 'page_view') as page_views,
        count(distinct case when events.event_type = 'product_view' then events.product_id end)
            as products_viewed,
        count_if(events.event_type = 'add_to_cart') as cart_adds,
        count_if(events.event_type = 'begin_checkout') > 0 as has_checkout,
        count_if(events.event_type = 'purchase') > 0 as has_purchase,
        sum(events.revenue_usd) as revenue_usd,
        -- ordered by (time, id) so ties resolve the same way on every run
        min_by(events.page_url, struct(events.event_ts, events.event_id)) as landing_page,
        max_by(events.page_url, struct(events.event_ts, events.event_id)) as exit_page,
        min_by(events.device_type, struct(events.event_ts, events.event_id)) as device_type,
        min_by(events.channel, struct(events.event_ts, events.event_id)) as channel,
        min_by(events.country_code, struct(events.event_ts, events.event_id)) as country_code,
        bool_or(events.is_bot) as is_bot,
        max(events._sessionized_at) as _sessionized_at
    from events
    group by events.session_id
),

final as (
    select
        sessions.session_id,
        sessions.user_id,
        sessions.visitor_id,
        sessions.session_start,
        sessions.session_end,
        sessions.event_count,
        sessions.page_views,
        sessions.products_viewed,
        sessions.cart_adds,
        sessions.has_checkout,
        sessions.has_purchase,
        sessions.revenue_usd,
        sessions.landing_page,
        sessions.exit_page,
        sessions.device_type,
        sessions.channel,
        sessions.country_code,
        sessions.is_bot,
        to_date(sessions.session_start) as session_date,
        unix_timestamp(sessions.session_end) - unix_timestamp(sessions.session_start) as duration_seconds,
        sessions._sessionized_at
    from sessions
    {%- if is_incremental() %}
    where to_date(sessions.session_start) between (select rebuilt_dates.first_date from rebuilt_dates)
        and (select rebuilt_dates.last_date from rebuilt_dates)
    {%- endif %}
)

select * from final
