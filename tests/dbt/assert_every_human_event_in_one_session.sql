{{ config(store_failures_as='table') }}

-- Every staged event reaches fct_events exactly once, and every one that is not a bot's falls
-- inside exactly one fct_sessions session of its own visitor.
with staged_events as (
    select
        stg_events.event_id,
        stg_events.visitor_id,
        stg_events.event_ts
    from {{ ref('stg_clickstream__events') }} as stg_events
),

fact_events as (
    select
        fct_events.event_id,
        fct_events.session_id,
        fct_events.is_bot
    from {{ ref('fct_events') }} as fct_events
),

sessions as (
    select
        fct_sessions.session_id,
        fct_sessions.visitor_id,
        fct_sessions.session_start,
        fct_sessions.session_end
    from {{ ref('fct_sessions') }} as fct_sessions
),

fact_matches as (
    select
        staged_events.event_id,
        staged_events.visitor_id,
        staged_events.event_ts,
        count(fact_events.event_id) as fact_rows,
        max(fact_events.session_id) as session_id,
        coalesce(bool_or(fact_events.is_bot), false) as is_bot
    from staged_events
    left join fact_events
        on staged_events.event_id = fact_events.event_id
    group by staged_events.event_id, staged_events.visitor_id, staged_events.event_ts
),

session_matches as (
    select
        fact_matches.event_id,
        fact_matches.fact_rows,
        fact_matches.is_bot,
        count(sessions.session_id) as containing_sessions
    from fact_matches
    left join sessions
        on
            fact_matches.session_id = sessions.session_id
            and fact_matches.visitor_id = sessions.visitor_id
            and fact_matches.event_ts between sessions.session_start and sessions.session_end
    group by fact_matches.event_id, fact_matches.fact_rows, fact_matches.is_bot
)

select
    session_matches.event_id,
    session_matches.fact_rows,
    session_matches.containing_sessions
from session_matches
where
    session_matches.fact_rows != 1
    or (not session_matches.is_bot and session_matches.containing_sessions != 1)
