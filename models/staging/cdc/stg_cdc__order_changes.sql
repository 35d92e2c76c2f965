-- One row per order change.
with source as (
    select * from {{ source('cdc', 'cdc_orders') }}
),

ranked as (
    select
        source.*,
        -- a change is (key, lsn, op): Debezium gives every snapshot row the snapshot's LSN, and the
        -- key's first change after the snapshot may carry it too; copies of a change are redeliveries
        row_number() over (
            partition by coalesce(source.after.order_id, source.before.order_id), source.lsn, source.op
            order by source._ingested_at
        ) as copy_rank
    from source
),

renamed as (
    select
        ranked.lsn as change_lsn,
        ranked.op as change_op,
        ranked.after.order_total,
        ranked.after.item_count,
        ranked.after.created_at,
        ranked.after.updated_at,
        ranked._ingested_at,
        ranked._batch_id,
        ranked.op = 'd' as is_deleted,
        timestamp_millis(ranked.ts_ms) as changed_at,
        coalesce(ranked.after.order_id, ranked.before.order_id) as order_id,
        coalesce(ranked.after.user_id, ranked.before.user_id) as user_id,
        lower(trim(ranked.after.order_status)) as order_status,
        upper(trim(ranked.after.currency)) as currency
    from ranked
    where ranked.copy_rank = 1
)

select * from renamed
