{#- SCD type-2 history of a CDC feed: one row per version (a create, update or snapshot read),
    valid from its source commit time until the next change of the same key (an update, or a
    delete that ends it). Versions are ordered by log sequence number, a snapshot read (`r`) first
    at an equal LSN, so out-of-order delivery does not matter; a key deleted and re-created gets a
    gap and then a new current version.

    changes, key_column, payload_columns: as for cdc_current_state -#}
{% macro cdc_history(changes, key_column, payload_columns) -%}
with changes as (
    select * from {{ changes }}
),

sequenced as (
    select
        changes.*,
        lead(changes.changed_at) over (
            partition by changes.{{ key_column }}
            order by changes.change_lsn, changes.change_op = 'r' desc
        ) as next_changed_at,
        lead(changes.change_lsn) over (
            partition by changes.{{ key_column }}
            order by changes.change_lsn, changes.change_op = 'r' desc
        ) as next_change_lsn
    from changes
),

final as (
    select
        sequenced.change_lsn as version_lsn,
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
