{{ config(
    materialized='incremental',
    incremental_strategy=lakehouse_incremental_strategy(),
    unique_key='event_id',
    partition_by=['event_date'],
    tblproperties=lakehouse_delta_tblproperties(),
    meta={'delta_zorder_by': ['user_id', 'product_id']},
) }}

{#- Incremental runs rebuild whole event dates, as the partition overwrite requires: the dates
    int_events_sessionized rewrote since this table's watermark, plus the dates of already-built
    events that a product version ingested since then re-categorizes (a late-arriving product
    dimension). Every row written gets the newest `_ingested_at` the run read, of events or of
    product versions, so the models downstream find the rewritten dates by the one watermark. -#}

{#- the product version in force when the event happened: each version covers the time from its
    valid_from to the next version's (a delete does not end it, so events of a deleted product keep
    its category), the first version also covers anything earlier. Point in time, so a later
    change of a product never rewrites old events: incremental runs and full refreshes agree. -#}
{%- set product_periods_sql -%}
    select
        product_id,
        category_id,
        valid_from,
        lead(valid_from) over (partition by product_id order by version_number) as next_valid_from,
        row_number() over (partition by product_id order by version_number) = 1 as is_first_version,
        _ingested_at
    from {{ ref('int_product_changes_historized') }}
{%- endset %}

{%- if is_incremental() %}
{#- a version that arrived after the last build changes the category of the product's events from
    its valid_from on; a first version (a product seen in events before its CDC record, or an older
    version delivered late) changes all of them -#}
{%- set rewritten_and_recategorized_dates -%}
    (
        select event_date, _ingested_at
        from {{ ref('int_events_sessionized') }}
        union all
        select built.event_date, changed_products._ingested_at
        from {{ this }} as built
        inner join ({{ product_periods_sql }}) as changed_products
            on built.product_id = changed_products.product_id
        where built.event_ts >= changed_products.valid_from or changed_products.is_first_version
    )
{%- endset %}
{%- endif %}

with product_periods as (
    {{ product_periods_sql }}
),

sessionized_events as (
    select * from {{ ref('int_events_sessionized') }}
    {%- if is_incremental() %}
    where event_date in ({{ dates_to_rebuild(rewritten_and_recategorized_dates) }})
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
        visitor_id,
        event_date,
        is_bot,
        {{ skew_salt_range() }} as salt
    from visitor_days
),

salted_events as (
    select
        *,
        {{ skew_salt('event_id') }} as salt
    from sessionized_events
),

joined as (
    select /*+ broadcast(product_periods), broadcast(currency_rates) */
        salted_events.*,
        product_periods.category_id,
        salted_events.price * currency_rates.rate_to_usd as price_usd,
        -- a session is a bot session as a whole: classified by the day it started
        coalesce(salted_visitor_days.is_bot, false) as is_bot,
        -- the watermark: the newest ingestion this run read, of events or of product versions
        greatest(
            (select max(read_events._ingested_at) as newest_event from sessionized_events as read_events),
            (select max(read_versions._ingested_at) as newest_version from product_periods as read_versions)
        ) as newest_ingested_at
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
        ---------- ids
        event_id,
        session_id,
        visitor_id,
        user_id,
        anonymous_id,
        product_id,
        category_id,
        order_id,

        ---------- strings
        event_type,
        currency,
        device_type,
        os,
        channel,
        country_code,
        page_url,
        search_query,
        app_version,

        ---------- numerics
        event_number_in_session,
        quantity,
        price_usd,
        case
            when event_type = 'purchase' then coalesce(quantity, 1) * coalesce(price_usd, 0)
            else 0
        end as revenue_usd,

        ---------- booleans
        is_bot,

        ---------- timestamps
        event_ts,
        event_date,
        session_start_ts,

        ---------- load metadata
        newest_ingested_at as _ingested_at
    from joined
)

select * from final
