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
        date_sub(min(event_date), 2 * {{ lookback_days }}) as first_date,
        date_add(max(event_date), 2 * {{ lookback_days }}) as last_date
    from events
    where _ingested_at > {{ incremental_watermark() }}
),

long_sessions as (
    select
        visitor_id,
        to_date(min(session_start_ts)) as first_date
    from {{ this }}
    where event_date in ({{ rebuilt_dates }})
    group by visitor_id
    having to_date(min(session_start_ts)) < (select first_date from scope)
),

{% endif %}
events_in_scope as (
    -- qualified: incremental runs join long_sessions
    select events.*  -- noqa: RF03
    from events
    {%- if is_incremental() %}
    left join long_sessions on events.visitor_id = long_sessions.visitor_id
    where
        events.event_date between
        -- least() skips the null of no long sessions
        least((select first_date from scope), (select min(first_date) from long_sessions))
        and (select last_date from scope)
        and events.event_date >= coalesce(long_sessions.first_date, (select first_date from scope))
    {%- endif %}
),

with_previous as (
    select
        *,
        lag(event_ts) over visitor_order as previous_event_ts,
        row_number() over visitor_order as visitor_event_number
    from events_in_scope
    window visitor_order as (partition by visitor_id order by event_ts, event_id)
),

with_session_starts as (
    select
        *,
        -- strictly more than the gap starts a new session: exactly 30 minutes continues it
        case
            when previous_event_ts is null then 1
            when unix_micros(event_ts) - unix_micros(previous_event_ts) > {{ gap_micros }} then 1
            else 0
        end as is_session_start
    from with_previous
),

with_sessions as (
    -- Running aggregates over the visitor's events in the same order as above, so Spark sorts the
    -- events once: an event's session began at the latest session start so far.
    select
        *,
        last_value(case when is_session_start = 1 then event_id end, true) over visitor_so_far
            as session_first_event_id,
        max(case when is_session_start = 1 then event_ts end) over visitor_so_far as session_start_ts,
        visitor_event_number + 1
        - max(case when is_session_start = 1 then visitor_event_number end) over visitor_so_far
            as event_number_in_session
    from with_session_starts
    window visitor_so_far as (
        partition by visitor_id
        order by event_ts, event_id
        rows between unbounded preceding and current row
    )
),

final as (
    select
        ---------- ids
        event_id,
        md5(concat_ws('|', visitor_id, session_first_event_id)) as session_id,
        visitor_id,
        user_id,
        anonymous_id,
        product_id,
        order_id,

        ---------- strings
        event_type,
        device_type,
        os,
        user_agent,
        country_code,
        channel,
        page_url,
        search_query,
        currency,
        app_version,

        ---------- numerics
        event_number_in_session,
        quantity,
        price,

        ---------- booleans
        is_session_start = 1 as is_session_start,

        ---------- timestamps
        event_ts,
        event_date,
        session_start_ts,

        ---------- load metadata
        -- the watermark: the newest ingestion this run read (the new events are on rebuilt dates)
        (
            select max(read_events._ingested_at) as newest_ingested_at from events as read_events
            {%- if is_incremental() %}
            where read_events.event_date in ({{ rebuilt_dates }})
            {%- endif %}
        ) as _ingested_at
    from with_sessions
    {%- if is_incremental() %}
    where event_date in ({{ rebuilt_dates }})
    {%- endif %}
)

select * from final
