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
                event_date,
                -- a bot's session can have begun weeks earlier, and bot sessions are not kept here
                case when not is_bot then to_date(session_start_ts) end
            )) as session_date,
            _ingested_at
        from {{ ref('fct_events') }}
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
            select min(session_date) as first_session_date
            from {{ rewritten_session_dates }}
            where _ingested_at > {{ incremental_watermark() }}
        )
    {%- endif %}
),

sessions as (
    select
        session_id,
        max(user_id) as user_id,
        max(visitor_id) as visitor_id,
        min(event_ts) as session_start,
        max(event_ts) as session_end,
        count(*) as event_count,
        count_if(event_type = 'page_view') as page_views,
        count(distinct case when event_type = 'product_view' then product_id end) as products_viewed,
        count_if(event_type = 'add_to_cart') as cart_adds,
        count_if(event_type = 'begin_checkout') > 0 as has_checkout,
        count_if(event_type = 'purchase') > 0 as has_purchase,
        sum(revenue_usd) as revenue_usd,
        -- ordered by (time, id) so ties resolve the same way on every run
        min_by(page_url, struct(event_ts, event_id)) as landing_page,
        max_by(page_url, struct(event_ts, event_id)) as exit_page,
        min_by(device_type, struct(event_ts, event_id)) as device_type,
        min_by(channel, struct(event_ts, event_id)) as channel,
        min_by(country_code, struct(event_ts, event_id)) as country_code,
        bool_or(is_bot) as is_bot,
        max(_ingested_at) as _ingested_at
    from events
    group by session_id
),

final as (
    select
        ---------- ids
        session_id,
        visitor_id,
        user_id,

        ---------- strings
        landing_page,
        exit_page,
        device_type,
        channel,
        country_code,

        ---------- numerics
        event_count,
        page_views,
        products_viewed,
        cart_adds,
        revenue_usd,
        unix_timestamp(session_end) - unix_timestamp(session_start) as duration_seconds,

        ---------- booleans
        has_checkout,
        has_purchase,
        is_bot,

        ---------- timestamps
        session_start,
        session_end,
        to_date(session_start) as session_date,

        ---------- load metadata
        _ingested_at
    from sessions
)

select * from final
