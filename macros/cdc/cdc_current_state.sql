{#- Current state of a CDC feed: the latest change per key by log sequence number; a key whose
    latest change is a delete has no row.

    Out-of-order safe: the latest change is chosen by `change_lsn`, never by arrival; at an equal
    LSN a snapshot read (`r`) is older than any other change (Debezium gives every snapshot row the
    snapshot's position, and the key's first change after it may share that LSN). On
    incremental (Delta MERGE) runs only keys with newly arrived changes are recomputed, but
    always from their *whole* change history, so a stale update that arrives after a delete
    cannot resurrect the row. Delete rows are emitted only then (`is_deleted`), for the MERGE
    to delete them (`merge_delete_condition`, a config of the sparksession adapter's MERGE); a full
    build drops them.

    changes: relation of staged changes (columns: key, change_lsn, changed_at, is_deleted,
             _ingested_at and the payload columns)
    key_column: the entity key
    payload_columns: list of payload column names to carry -#}
{% macro cdc_current_state(changes, key_column, payload_columns) -%}
with changes as (
    select * from {{ changes }}
),

{% if is_incremental() %}
keys_with_new_changes as (
    select distinct {{ key_column }}
    from changes
    where _ingested_at > {{ incremental_watermark() }}
),

{% endif %}
ranked as (
    select
        *,
        row_number() over (
            partition by {{ key_column }}
            order by change_lsn desc, change_op = 'r' asc
        ) as change_rank,
        max(_ingested_at) over (partition by {{ key_column }}) as key_last_ingested_at
    from changes
    {%- if is_incremental() %}
    where {{ key_column }} in (select {{ key_column }} from keys_with_new_changes)
    {%- endif %}
),

final as (
    select
        {{ key_column }},
        {%- for column in payload_columns %}
        {{ column }},
        {%- endfor %}
        -- the change this row reflects
        change_lsn as last_change_lsn,
        changed_at as last_changed_at,
        is_deleted,
        key_last_ingested_at as _ingested_at
    from ranked
    where
        change_rank = 1
        {%- if not is_incremental() %}
        and not is_deleted
        {%- endif %}
)

select * from final
{%- endmacro %}
