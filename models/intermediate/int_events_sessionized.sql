{{ config(
    materialized='incremental',
    incremental_strategy=lakehouse_incremental_strategy(),
    unique_key='event_id',
    partition_by=['event_date'],
) }}

{#- Incremental runs rebuild whole event dates: every date that received newly ingested (possibly
    late) events, widened by var('session_lookback_days') on both sides because a session can run
    across midnight. Sessions are computed over a further lookback margin so that the rebuilt
    dates see their neighbours' events, and, for a visitor whose session on a rebuilt date began
    even earlier (a bot active around the clock keeps one session for weeks), from the day that
    session began. The rebuilt dates replace their partitions. Every row written gets the newest
    `_ingested_at` the run read, so fct_events finds the rewritten dates by the one watermark. -#}
{%- set gap_micros = var('session_gap_minutes') * 60 * 1000000 -%}
{%- set lookback_days = var('session_lookback_days') -%}

{%- if is_incremental() %}
{#- the sessionization-specific widening: each staged event marks its own date and the lookback
    days on either side as dates whose sessions it can change -#}
{%- set events_with_neighbour_dates -%}
    (
        select
            date_add(staged.event_date, day_offsets.day_offset) as event_date,
            staged._ingested_at
        from {{ ref('stg_clickstream__events') }} as staged
        cross join (
            select explode(sequence(-{{ lookback_days }}, {{ lookback_days }})) as day_offset
        ) as day_offsets
    )
{%- endset %}
{%- set rebuilt_dates = dates_to_rebuild(events_with_neighbour_dates) %}
{%- endif %}

with events as (
    select * from {{ ref('stg_clickstream__events') }}
),

{% if is_incremental() %}
-- the rebuilt dates (the new events' dates ± the lookback) and their own lookback margin; scalar
-- subqueries, which Spark prunes partitions by while it runs
scope as (
    select
        date_sub(min(events.event_date), 2 * {{ lookback_days }}) as first_date,
        date_add(max(events.event_date), 2 * {{ lookback_days }}) as last_date
    from events
    where events._ingested_at > {{ incremental_watermark() }}
),

long_sessions as (
    select
        this_table.visitor_id,
        to_date(min(this_table.session_start_ts)) as first_date
    from {{ this }} as this_table
    where this_table.event_date in ({{ rebuilt_dates }})
    group by this_table.visitor_id
    having to_date(min(this_table.session_start_ts)) < (select scope.first_date from scope)
),

{% endif %}
events_in_scope as (
    select events.*
    from events
    {%- if is_incremental() %}
    left join long_sessions on events.visitor_id = long_sessions.visitor_id
    where
        events.event_date between
        -- least() skips the null of no long sessions
        least((select scope.first_date from scope), (select min(long_sessions.first_date) from long_sessions))
        and (select scope.last_date from scope)
        and events.event_date >= coalesce(long_sessions.first_date, (select scope.first_date from scope))
    {%- endif %}
),

with_previous as (
    select
        events_in_scope.*,
        lag(events_in_scope.event_ts) over visitor_order as previous_event_ts,
        row_number() over visitor_order as visitor_event_number
    from events_in_scope
    window visitor_order as (
        partition by events_in_scope.visitor_id
        order by events_in_scope.event_ts, events_in_scope.event_id
    )
),

with_session_starts as (
    select
        with_previous.*,
        -- strictly more than the gap starts a new session: exactly 30 minutes continues it
        case
            when with_previous.previous_event_ts is null then 1
            when unix_micros(with_previous.event_ts) - unix_micros(with_previous.previous_event_ts)
                > {{ gap_micros }} then 1
            else 0
        end as is_session_start
    from with_previous
),

with_sessions as (
    -- Running aggregates over the visitor's events in the same order as above, so Spark sorts the
    -- events once: an event's session began at the latest session start so far.
    select
        with_session_starts.*,
        last_value(
            case when with_session_starts.is_session_start = 1 then with_session_starts.event_id end, true
        ) over visitor_so_far as session_first_event_id,
        max(
            case when with_session_starts.is_session_start = 1 then with_session_starts.event_ts end
        ) over visitor_so_far as session_start_ts,
        with_session_starts.visitor_event_number + 1 - max(
            case
                when with_session_starts.is_session_start = 1 then with_session_starts.visitor_event_number
            end
        ) over visitor_so_far as event_number_in_session
    from with_session_starts
    window visitor_so_far as (
        partition by with_session_starts.visitor_id
        order by with_session_starts.event_ts, with_session_starts.event_id
        rows between unbounded preceding and current row
    )
),

final as (
    select
        with_sessions.event_id,
        with_sessions.visitor_id,
        with_sessions.session_start_ts,
        with_sessions.event_number_in_session,
        with_sessions.event_ts,
        with_sessions.event_type,
        with_sessions.user_id,
        with_sessions.anonymous_id,
        with_sessions.device_type,
        with_sessions.os,
        with_sessions.user_agent,
        with_sessions.country_code,
        with_sessions.channel,
        with_sessions.page_url,
        with_sessions.product_id,
        with_sessions.search_query,
        with_sessions.quantity,
        with_sessions.price,
        with_sessions.currency,
        with_sessions.order_id,
        with_sessions.app_version,
        with_sessions.event_date,
        md5(concat_ws('|', with_sessions.visitor_id, with_sessions.session_first_event_id)) as session_id,
        with_sessions.is_session_start = 1 as is_session_start,
        -- the watermark: the newest ingestion this run read (the new events are on rebuilt dates)
        (
            select max(read_events._ingested_at) as newest_ingested_at from events as read_events
            {%- if is_incremental() %}
            where read_events.event_date in ({{ rebuilt_dates }})
            {%- endif %}
        ) as _ingested_at
    from with_sessions
    {%- if is_incremental() %}
    where with_sessions.event_date in ({{ rebuilt_dates }})
    {%- endif %}
)

select * from final
