-- A visitor-day is a bot when any of its user agents matches a known bot pattern or it has more
-- events than a person plausibly makes in a day.
{#- Incremental runs rebuild whole event dates: those with newly staged events (a classification
    only depends on its own day), replacing their partitions. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    partition_by=['event_date'],
) }}

with events as (
    select * from {{ ref('stg_clickstream__events') }}
    {%- if is_incremental() %}
    where event_date in ({{ dates_to_rebuild(ref('stg_clickstream__events')) }})
    {%- endif %}
),

bot_user_agents as (
    select * from {{ ref('bot_user_agents') }}
),

user_agents as (
    select distinct user_agent
    from events
    where user_agent is not null
),

bot_matched_user_agents as (
    -- both sides are small (distinct agents x a few dozen patterns): a broadcast nested loop
    select /*+ broadcast(bot_user_agents) */ distinct user_agents.user_agent
    from user_agents
    inner join bot_user_agents
        on contains(lower(user_agents.user_agent), lower(bot_user_agents.user_agent_pattern))
),

visitor_days as (
    -- the matched agents are few: broadcast, so only (visitor, day, flag) rows are shuffled
    select /*+ broadcast(bot_matched_user_agents) */
        events.visitor_id,
        events.event_date,
        count(*) as event_count,
        max(bot_matched_user_agents.user_agent is not null) as has_bot_user_agent,
        max(events._ingested_at) as _ingested_at
    from events
    left join bot_matched_user_agents
        on events.user_agent = bot_matched_user_agents.user_agent
    group by events.visitor_id, events.event_date
),

final as (
    select
        ---------- grain
        visitor_id,
        event_date,

        ---------- numerics
        event_count,

        ---------- booleans
        has_bot_user_agent,
        event_count > {{ var('bot_events_per_day') }} as exceeds_daily_event_limit,
        has_bot_user_agent or event_count > {{ var('bot_events_per_day') }} as is_bot,

        ---------- load metadata
        _ingested_at
    from visitor_days
)

select * from final
