-- Dedupe on event_id (the first landed copy wins), normalize codes, hash the IP address.
{#- An exception to staging's views: deduplicating all of bronze on every run would make every
    downstream incremental run pay for the whole history. Incremental runs read only the bronze
    rows ingested since this table's newest row, keep the first copy of each event_id among them,
    and drop ids this table already holds; appending them keeps one row per event_id. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    partition_by=['event_date'],
) }}

with source as (
    select * from {{ source('clickstream', 'events') }}
    where
        event_id is not null and event_ts is not null
    {%- if is_incremental() %}
        and _ingested_at > {{ incremental_watermark() }}
    {%- endif %}
),

-- About 1% of ids land more than once. Only their copies are ranked: a window over every event
-- would shuffle every whole row, where finding the repeated ids shuffles only the id column.
repeated_ids as (
    select event_id
    from source
    group by event_id
    having count(*) > 1
),

ranked_repeats as (
    select /*+ broadcast(repeated_ids) */
        source.*,
        row_number() over (
            partition by source.event_id
            order by source._ingested_at, source._batch_id, source._source_file
        ) as copy_rank
    from source
    left semi join repeated_ids on source.event_id = repeated_ids.event_id
),

ranked as (
    select /*+ broadcast(repeated_ids) */
        source.*,
        1 as copy_rank
    from source
    left anti join repeated_ids on source.event_id = repeated_ids.event_id
    union all
    select * from ranked_repeats
),

renamed as (
    select
        ---------- ids
        event_id,
        coalesce(nullif(trim(user_id), ''), nullif(trim(anonymous_id), '')) as visitor_id,
        nullif(trim(user_id), '') as user_id,
        nullif(trim(anonymous_id), '') as anonymous_id,
        nullif(trim(product_id), '') as product_id,
        nullif(trim(order_id), '') as order_id,

        ---------- strings
        lower(trim(event_type)) as event_type,
        lower(trim(device_type)) as device_type,
        os,
        user_agent,
        {{ hash_pii('ip_address') }} as ip_address_hash,
        upper(trim(country_code)) as country_code,
        lower(trim(channel)) as channel,
        referrer,
        campaign,
        page_url,
        search_query,
        upper(trim(currency)) as currency,
        app_version,
        _extra_fields as extra_fields_json,

        ---------- numerics
        quantity,
        price,

        ---------- timestamps
        event_ts,
        to_date(event_ts) as event_date,

        ---------- load metadata
        _ingested_at,
        _source_file,
        _batch_id,
        _arrival_date
    from ranked
    where copy_rank = 1
    {%- if is_incremental() %}
        and not exists (
            select 1 from {{ this }} as this_table where this_table.event_id = ranked.event_id
        )
    {%- endif %}
)

select * from renamed
