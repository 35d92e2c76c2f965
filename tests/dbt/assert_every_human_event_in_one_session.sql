{{ config(store_failures_as='table') }}

-- Every staged event reaches fct_events exactly once, unchanged, and every one that is not a
-- bot's falls inside exactly one fct_sessions session of its own visitor. A failing row names
-- the event date whose events differ between the layers, the session and visitor whose events the
-- session does not span, or a human event without a session.
--
-- The layers are compared by checksums per event date, not joined row by row (a join of two
-- 10M-row tables on event_id is most of a minute on 2 cores): per date, both layers hold the same
-- number of (event_id, visitor_id, event_ts) rows and the same rows, as told by a sum and an xor
-- of their 64-bit hashes (the union of two equal multisets has a zero signed sum and a zero xor).
-- Sessions are checked per (session, visitor): a session holds a visitor's events when it belongs
-- to that visitor and spans the first and the last of them.
with event_rows as (
    select
        event_ts,
        1 as staged_rows,
        xxhash64(event_id, visitor_id, event_ts) as row_hash
    from {{ ref('stg_clickstream__events') }}
    union all
    select
        event_ts,
        -1 as staged_rows,
        xxhash64(event_id, visitor_id, event_ts) as row_hash
    from {{ ref('fct_events') }}
),

date_checksums as (
    select
        to_date(event_ts) as event_date,
        count_if(staged_rows = 1) as staged_events,
        count_if(staged_rows = -1) as fact_events,
        -- the high 32 bits: a sum of up to 2^32 of them cannot overflow a bigint
        sum(staged_rows * shiftright(row_hash, 32)) as hash_sum_difference,
        bit_xor(row_hash) as hash_xor
    from event_rows
    group by to_date(event_ts)
),

human_events as (
    select
        event_id,
        session_id,
        visitor_id,
        event_ts
    from {{ ref('fct_events') }}
    where not is_bot
),

session_spans as (
    select
        session_id,
        visitor_id,
        min(event_ts) as first_event_ts,
        max(event_ts) as last_event_ts
    from human_events
    where session_id is not null
    group by session_id, visitor_id
),

session_matches as (
    select
        session_spans.session_id,
        session_spans.visitor_id,
        count(sessions.session_id) as containing_sessions
    from session_spans
    left join {{ ref('fct_sessions') }} as sessions
        on
            session_spans.session_id = sessions.session_id
            and session_spans.visitor_id = sessions.visitor_id
            and session_spans.first_event_ts >= sessions.session_start
            and session_spans.last_event_ts <= sessions.session_end
    group by session_spans.session_id, session_spans.visitor_id
)

select
    event_date,
    staged_events,
    fact_events,
    cast(null as string) as session_id,
    cast(null as string) as visitor_id,
    cast(null as bigint) as containing_sessions,
    cast(null as string) as event_id
from date_checksums
where
    staged_events != fact_events
    or hash_sum_difference != 0
    or hash_xor != 0

union all

select
    cast(null as date) as event_date,
    cast(null as bigint) as staged_events,
    cast(null as bigint) as fact_events,
    session_id,
    visitor_id,
    containing_sessions,
    cast(null as string) as event_id
from session_matches
where containing_sessions != 1

union all

select
    cast(null as date) as event_date,
    cast(null as bigint) as staged_events,
    cast(null as bigint) as fact_events,
    session_id,
    visitor_id,
    cast(null as bigint) as containing_sessions,
    event_id
from human_events
where session_id is null
