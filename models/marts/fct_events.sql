{{ config(
    materialized='incremental',
    incremental_strategy=lakehouse_incremental_strategy(),
    unique_key='event_id',
    partition_by=['event_date'],
    tblproperties=lakehouse_delta_tblproperties(),
    meta={'delta_zorder_by': ['user_id', 'product_id']},
) }}

{#- Incremental runs rebuild whole event dates, as the Parquet partition overwrite requires: the
    dates int_events_sessionized rebuilt in this run (rows sessionized after this table's newest
    `_sessionized_at`), plus the dates of already-built events that a product version ingested
    since this table's newest `_built_at` re-categorizes (a late-arriving product dimension). The
    dates are read when the model compiles (literal_dates), so only their partitions are read. -#}

{#- the product version in force when the event happened: each version covers the time from its
    valid_from to the next version's (a delete does not end it, so events of a deleted product keep
    its category), the first version also covers anything earlier. Point in time, so a later
    change of a product never rewrites old events: incremental runs and full refreshes agree. -#}
{%- set product_periods_sql -%}
    select
        product_versions.product_id,
        product_versions.category_id,
        product_versions.valid_from,
        lead(product_versions.valid_from) over (
            partition by product_versions.product_id order by product_versions.version_number
        ) as next_valid_from,
        row_number() over (
            partition by product_versions.product_id order by product_versions.version_number
        ) = 1 as is_first_version,
        product_versions._ingested_at
    from {{ ref('int_product_changes_historized') }} as product_versions
{%- endset %}

{%- if is_incremental() %}
{#- a version that arrived after the last build changes the category of the product's events from
    its valid_from on; a first version (a product seen in events before its CDC record, or an older
    version delivered late) changes all of them -#}
{%- set rebuilt_dates_sql -%}
    select sessionized.event_date
    from {{ ref('int_events_sessionized') }} as sessionized
    where {{ newer_than_this('sessionized._sessionized_at', '_sessionized_at') }}
    union
    select built.event_date
    from {{ this }} as built
    inner join ({{ product_periods_sql }}) as changed
        on built.product_id = changed.product_id
    where
        {{ newer_than_this('changed._ingested_at', '_built_at') }}
        and (built.event_ts >= changed.valid_from or changed.is_first_version)
{%- endset %}
{%- endif %}

with product_periods as (
    {{ product_periods_sql }}
),

sessionized_events as (
    select * from {{ ref('int_events_sessionized') }}
    {%- if is_incremental() %}
    where event_date in ({{ literal_dates(rebuilt_dates_sql) }})
    {%- endif %}
),

visitor_days as (
    select * from {{ ref('int_visitor_days_classified') }}
),

currency_rates as (
    select * from {{ ref('currency_rates') }}
),

-- salted: a few bot visitors own a large share of all events, which would put one huge join key
-- in a single task; each visitor-day row is replicated over the salt buckets instead
salted_visitor_days as (
    select
        visitor_days.visitor_id,
        visitor_days.event_date,
        visitor_days.is_bot,
        {{ skew_salt_range() }} as salt
    from visitor_days
),

salted_events as (
    select
        sessionized_events.*,
        {{ skew_salt('sessionized_events.event_id') }} as salt
    from sessionized_events
),

joined as (
    select /*+ broadcast(product_periods), broadcast(currency_rates) */
        salted_events.event_id,
        salted_events.event_ts,
        salted_events.event_date,
        salted_events.user_id,
        salted_events.anonymous_id,
        salted_events.visitor_id,
        salted_events.session_id,
        salted_events.event_number_in_session,
        salted_events.session_start_ts,
        salted_events.event_type,
        salted_events.product_id,
        product_periods.category_id,
        salted_events.quantity,
        salted_events.price * currency_rates.rate_to_usd as price_usd,
        salted_events.currency,
        salted_events.device_type,
        salted_events.os,
        salted_events.channel,
        salted_events.country_code,
        salted_events.page_url,
        salted_events.search_query,
        salted_events.order_id,
        salted_events.app_version,
        -- a session is a bot session as a whole: classified by the day it started
        coalesce(salted_visitor_days.is_bot, false) as is_bot,
        salted_events._ingested_at,
        salted_events._sessionized_at,
        current_timestamp() as _built_at
    from salted_events
    left join salted_visitor_days
        on
            salted_events.visitor_id = salted_visitor_days.visitor_id
            and to_date(salted_events.session_start_ts) = salted_visitor_days.event_date
            and salted_events.salt = salted_visitor_days.salt
    left join product_periods
        on
            salted_events.product_id = product_periods.product_id
            and (
                salted_events.event_ts >= product_periods.valid_from
                or product_periods.is_first_version
            )
            and (
                product_periods.next_valid_from is null
                or salted_events.event_ts < product_periods.next_valid_from
            )
    left join currency_rates
        on salted_events.currency = currency_rates.currency
),

final as (
    select
        joined.event_id,
        joined.event_ts,
        joined.event_date,
        joined.user_id,
        joined.anonymous_id,
        joined.visitor_id,
        joined.session_id,
        joined.event_number_in_session,
        joined.session_start_ts,
        joined.event_type,
        joined.product_id,
        joined.category_id,
        joined.quantity,
        joined.price_usd,
        joined.currency,
        joined.device_type,
        joined.os,
        joined.channel,
        joined.country_code,
        joined.page_url,
        joined.search_query,
        joined.order_id,
        joined.app_version,
        joined.is_bot,
        joined._ingested_at,
        joined._sessionized_at,
        joined._built_at,
        case
            when joined.event_type = 'purchase'
                then coalesce(joined.quantity, 1) * coalesce(joined.price_usd, 0)
            else 0
        end as revenue_usd
    from joined
)

select * from final
