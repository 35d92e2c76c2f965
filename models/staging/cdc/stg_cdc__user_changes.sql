-- One row per user change; raw email and name stop here (email is kept only as a salted hash).
-- A table, not a view: a view would keep the salt Spark substitutes into the hash in the metastore.
{{ config(materialized='table') }}

with source as (
    select * from {{ source('cdc', 'cdc_users') }}
),

ranked as (
    select
        source.*,
        -- a change is (key, lsn, op): Debezium gives every snapshot row the snapshot's LSN, and the
        -- key's first change after the snapshot may carry it too; copies of a change are redeliveries
        row_number() over (
            partition by coalesce(source.after.user_id, source.before.user_id), source.lsn, source.op
            order by source._ingested_at
        ) as copy_rank
    from source
),

renamed as (
    select
        ranked.lsn as change_lsn,
        ranked.op as change_op,
        ranked.op = 'd' as is_deleted,
        timestamp_millis(ranked.ts_ms) as changed_at,
        coalesce(ranked.after.user_id, ranked.before.user_id) as user_id,
        {{ hash_pii('ranked.after.email') }} as email_hash,
        upper(trim(ranked.after.country_code)) as country_code,
        ranked.after.signup_at,
        ranked.after.marketing_opt_in,
        ranked.after.updated_at,
        ranked._ingested_at,
        ranked._batch_id
    from ranked
    where ranked.copy_rank = 1
)

select * from renamed
