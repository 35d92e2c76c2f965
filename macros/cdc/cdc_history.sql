{#- SCD type-2 history of a CDC feed: one row per version (a create, update or snapshot read),
    valid from its source commit time until the next change of the same key (an update, or a
    delete that ends it). Versions are ordered by log sequence number, so out-of-order delivery
    does not matter; a key deleted and re-created gets a gap and then a new current version.

    changes, key_column, payload_columns: as for cdc_current_state -#}
{% macro cdc_history(changes, key_column, payload_columns) -%}
with changes as (
    select * from {{ changes }}
),

sequenced as (
    select
        *,
        lead(changed_at) over key_versions as next_changed_at,
        lead(change_lsn) over key_versions as next_change_lsn
    from changes
    window key_versions as (partition by {{ key_column }} order by change_lsn)
),

final as (
    select
        change_lsn as version_lsn,
        {{ key_column }},
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
