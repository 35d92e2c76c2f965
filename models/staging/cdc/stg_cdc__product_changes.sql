-- One row per product change.
with source as (
    select * from {{ source('cdc', 'cdc_products') }}
),

ranked as (
    select
        *,
        row_number() over (partition by lsn order by _ingested_at) as copy_rank
    from source
),

renamed as (
    -- noqa: disable=RF03
    -- `after.` and `before.` are the change's row images (structs), which the sparksql dialect
    -- reads as table qualifiers: the consistency check does not apply
    select
        ---------- ids
        lsn as change_lsn,
        coalesce(after.product_id, before.product_id) as product_id,
        after.category_id,

        ---------- strings
        op as change_op,
        after.product_name,
        after.brand,
        upper(trim(after.currency)) as currency,

        ---------- numerics
        after.price,

        ---------- booleans
        op = 'd' as is_deleted,
        after.is_active,

        ---------- timestamps
        timestamp_millis(ts_ms) as changed_at,
        after.updated_at,

        ---------- load metadata
        _ingested_at,
        _batch_id
    from ranked
    where copy_rank = 1
    -- noqa: enable=RF03
)

select * from renamed
