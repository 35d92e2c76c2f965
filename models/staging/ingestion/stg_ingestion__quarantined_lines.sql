-- One row per quarantined landing line (the raw text is kept for replay; it is not parsed).
with source as (
    select * from {{ source('ingestion', 'quarantine') }}
),

numbered as (
    select
        *,
        -- identical bad lines in one file are separate rows: number the copies for a stable key
        row_number() over (
            partition by _source_file, _batch_id, raw_line
            order by _ingested_at
        ) as copy_number
    from source
),

renamed as (
    select
        ---------- ids
        sha2(
            concat_ws(
                '|', _source_file, cast(_batch_id as string),
                cast(copy_number as string), coalesce(raw_line, '')
            ),
            256
        ) as quarantined_line_key,

        ---------- strings
        lower(trim(feed)) as feed,
        reason,
        raw_line,

        ---------- load metadata
        _source_file,
        _ingested_at,
        _batch_id,
        _arrival_date
    from numbered
)

select * from renamed
