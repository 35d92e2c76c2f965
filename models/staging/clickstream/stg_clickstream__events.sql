-- Dedupe on event_id (the first landed copy wins), normalize codes, hash the IP address.
with source as (
    select * from {{ source('clickstream', 'events') }}
),

ranked as (
    select
        source.*,
        row_number() over (
            partition by source.event_id
            order by source._ingested_at, source._batch_id, source._source_file
        ) as copy_rank
    from source
    where source.event_id is not null and source.event_ts is not null
),

renamed as (
    select
        ranked.event_id,
        lower(trim(ranked.event_type)) as event_type,
        ranked.event_ts,
        to_date(ranked.event_ts) as event_date,
        nullif(trim(ranked.user_id), '') as user_id,
        nullif(trim(ranked.anonymous_id), '') as anonymous_id,
        coalesce(nullif(trim(ranked.user_id), ''), nullif(trim(ranked.anonymous_id), '')) as visitor_id,
        lower(trim(ranked.device_type)) as device_type,
        ranked.os,
        ranked.user_agent,
        {{ hash_pii('ranked.ip_address') }} as ip_address_hash,
        upper(trim(ranked.country_code)) as country_code,
        lower(trim(ranked.channel)) as channel,
        ranked.referrer,
        ranked.campaign,
        ranked.page_url,
        nullif(trim(ranked.product_id), '') as product_id,
        ranked.search_query,
        ranked.quantity,
        ranked.price,
        upper(trim(ranked.currency)) as currency,
        nullif(trim(ranked.order_id), '') as order_id,
        ranked.app_version,
        ranked._extra_fields as extra_fields_json,
        ranked._ingested_at,
        ranked._source_file,
        ranked._batch_id,
        ranked._arrival_date
    from ranked
    where ranked.copy_rank = 1
)

select * from renamed
