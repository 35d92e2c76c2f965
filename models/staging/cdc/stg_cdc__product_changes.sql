-- One row per product change.
with source as (
    select * from {{ source('cdc', 'cdc_products') }}
),

ranked as (
    select
        source.*,
        -- a change is (key, lsn, op): Debezium gives every snapshot row the snapshot's LSN, and the
        -- key's first change after the snapshot may carry it too; copies of a change are redeliveries
        row_number() over (
            partition by coalesce(source.after.product_id, source.before.product_id), source.lsn, source.op
            order by source._ingested_at
        ) as copy_rank
    from source
),

renamed as (
    select
        ranked.lsn as change_lsn,
        ranked.op as change_op,
        ranked.after.product_name,
        ranked.after.category_id,
        ranked.after.brand,
        ranked.after.price,
        ranked.after.is_active,
        ranked.after.updated_at,
        ranked._ingested_at,
        ranked._batch_id,
        ranked.op = 'd' as is_deleted,
        timestamp_millis(ranked.ts_ms) as changed_at,
        coalesce(ranked.after.product_id, ranked.before.product_id) as product_id,
        upper(trim(ranked.after.currency)) as currency
    from ranked
    where ranked.copy_rank = 1
)

select * from renamed
