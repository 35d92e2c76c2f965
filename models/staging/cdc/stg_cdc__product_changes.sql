-- One row per product change.
with source as (
    select * from {{ source('cdc', 'cdc_products') }}
),

ranked as (
    select
        *,
        -- a change is (key, lsn, op): Debezium gives every snapshot row the snapshot's LSN, and the
        -- key's first change after the snapshot may carry it too; copies of a change are redeliveries
        row_number() over (
            -- `after.` and `before.` are the row images (structs), not table qualifiers
            partition by coalesce(after.product_id, before.product_id), lsn, op  -- noqa: RF03
            order by _ingested_at
        ) as copy_rank
    from source
),

renamed as (
    -- noqa: disable=RF03
    -- `after.` and `before.` are the change's row images (structs), which the sparksql dialect
    -- reads as table qualifiers: the consistency check does not apply
    select
        ---------- ids
        coalesce(after.product_id, before.product_id) as product_id,
        lsn as change_lsn,
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
