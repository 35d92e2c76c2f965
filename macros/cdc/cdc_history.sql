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
        changes.*,
        row_number() over (
            partition by changes.{{ key_column }}
            order by changes.change_lsn, changes.change_op = 'r' desc
        ) as change_number
    from changes
),

sequenced as (
    select
        numbered.*,
        lead(numbered.changed_at) over (
            partition by numbered.{{ key_column }} order by numbered.change_number
        ) as next_changed_at,
        lead(numbered.change_lsn) over (
            partition by numbered.{{ key_column }} order by numbered.change_number
        ) as next_change_lsn
    from numbered
),

final as (
    select
        sequenced.change_lsn as version_lsn,
        sequenced.change_number as version_number,
        sequenced.{{ key_column }},
        {%- for column in payload_columns %}
        sequenced.{{ column }},
        {%- endfor %}
        sequenced.change_op as version_op,
        sequenced.changed_at as valid_from,
        sequenced.next_changed_at as valid_to,
        sequenced.next_change_lsn is null as is_current,
        sequenced._ingested_at
    from sequenced
    where not sequenced.is_deleted
)

select * from final
{%- endmacro %}
