-- Human sessions only: bot sessions stay in fct_events (is_bot) but are not business traffic.
{#- Incremental runs rebuild whole session dates (a session's date is the date it began): the
    dates of the sessions with an event fct_events rewrote since this table's watermark, and the
    sessions those events belonged to before. A session that changed its id (a late event before
    its first one) had its first event rewritten too, so every rewritten event's own date is
    rebuilt as well. The sessions that began on those dates are re-read whole, to the end of the
    data, and their partitions replaced. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    partition_by=['session_date'],
) }}

{%- if is_incremental() %}
{%- set rewritten_session_dates -%}
    (
        select
            explode(array(
                rewritten.event_date,
                -- a bot's session can have begun weeks earlier, and bot sessions are not kept here
                case when not rewritten.is_bot then to_date(rewritten.session_start_ts) end
            )) as session_date,
            rewritten._ingested_at
        from {{ ref('fct_events') }} as rewritten
    )
{%- endset %}
{%- set session_dates = dates_to_rebuild(rewritten_session_dates, 'session_date') %}
{%- endif %}

with events as (
    select * from {{ ref('fct_events') }}
    where not is_bot
    {%- if is_incremental() %}
        and to_date(session_start_ts) in ({{ session_dates }})
        -- a session's events lie on or after the date it began: skip the earlier partitions
        and event_date >= (
            select min(rewritten.session_date) from {{ rewritten_session_dates }} as rewritten
            where rewritten._ingested_at > {{ incremental_watermark() }}
        )
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
        max(events._ingested_at) as _ingested_at
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
        sessions._ingested_at
    from sessions
)

select * from final
