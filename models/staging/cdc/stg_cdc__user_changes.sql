-- One row per user change; raw email and name stop here (email is kept only as a salted hash).
-- A table, not a view: a view would keep the salt Spark substitutes into the hash in the metastore.
{{ config(materialized='table') }}

with source as (
    select * from {{ source('cdc', 'cdc_users') }}
),

ranked as (
    select
        *,
        -- a change is (key, lsn, op): Debezium gives every snapshot row the snapshot's LSN, and the
        -- key's first change after the snapshot may carry it too; copies of a change are redeliveries
        row_number() over (
            -- `after.` and `before.` are the row images (structs), not table qualifiers
            partition by coalesce(after.user_id, before.user_id), lsn, op  -- noqa: RF03
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
        coalesce(after.user_id, before.user_id) as user_id,
        lsn as change_lsn,

        ---------- strings
        op as change_op,
        {{ hash_pii('after.email') }} as email_hash,
        upper(trim(after.country_code)) as country_code,

        ---------- booleans
        op = 'd' as is_deleted,
        after.marketing_opt_in,

        ---------- timestamps
        timestamp_millis(ts_ms) as changed_at,
        after.signup_at,
        after.updated_at,

        ---------- load metadata
        _ingested_at,
        _batch_id
    from ranked
    where copy_rank = 1
    -- noqa: enable=RF03
)

select * from renamed
