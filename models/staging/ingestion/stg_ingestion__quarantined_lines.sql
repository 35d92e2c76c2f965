-- One row per quarantined landing line (the raw text is kept for replay; it is not parsed).
with source as (
    select * from {{ source('ingestion', 'quarantine') }}
),

numbered as (
    select
        source.*,
        -- identical bad lines in one file are separate rows: number the copies for a stable key
        row_number() over (
            partition by source._source_file, source._batch_id, source.raw_line
            order by source._ingested_at
        ) as copy_number
    from source
),

renamed as (
    select
        numbered.reason,
        numbered.raw_line,
        numbered._source_file,
        numbered._ingested_at,
        numbered._batch_id,
        numbered._arrival_date,
        sha2(
            concat_ws(
                '|', numbered._source_file, cast(numbered._batch_id as string),
                cast(numbered.copy_number as string), coalesce(numbered.raw_line, '')
            ),
            256
        ) as quarantined_line_key,
        lower(trim(numbered.feed)) as feed
    from numbered
)

select * from renamed
