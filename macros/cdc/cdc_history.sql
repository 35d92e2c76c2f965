{#- SCD type-2 history of a CDC feed: one row per version (a create, update or snapshot read),
    valid from its source commit time until the next change of the same key (an update, or a
    delete that ends it). Versions are ordered by log sequence number, a snapshot read (`r`) first
    at an equal LSN, so out-of-order delivery does not matter; a key deleted and re-created gets a
    gap and then a new current version. `version_number` is the change's place in its key's log
    (deletes count too): an LSN alone does not order a key's versions, nor identify one.

    changes, key_column, payload_columns: as for cdc_current_state -#}
{% macro cdc_history(changes, key_column, payload_columns) -%}
with changes as (
    select * from {{ changes }}
),

numbered as (
    select
        *,
        row_number() over (
            partition by {{ key_column }}
            order by change_lsn, change_op = 'r' desc
        ) as change_number
    from changes
),

sequenced as (
    select
        *,
        lead(changed_at) over key_versions as next_changed_at,
        lead(change_lsn) over key_versions as next_change_lsn
    from numbered
    window key_versions as (partition by {{ key_column }} order by change_number)
),

final as (
    select
        {{ key_column }},
        change_number as version_number,
        change_lsn as version_lsn,
        {%- for column in payload_columns %}
        {{ column }},
        {%- endfor %}
        -- the version's validity
        change_op as version_op,
        changed_at as valid_from,
        next_changed_at as valid_to,
        next_change_lsn is null as is_current,
        _ingested_at
    from sequenced
    where not is_deleted
)

select * from final
{%- endmacro %}
