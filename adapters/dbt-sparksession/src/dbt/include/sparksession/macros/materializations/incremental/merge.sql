{#- dbt's `merge` incremental strategy on this adapter. A model configured with
    `merge_delete_condition` gets a MERGE that also applies deletes
    (sparksession__merge_with_deletes_sql); every other model keeps dbt-spark's MERGE.

    Configs: merge_delete_condition (SQL over DBT_INTERNAL_SOURCE / DBT_INTERNAL_DEST marking a
    delete), merge_update_condition (optional: a matched row updates only when it holds), and
    dbt's merge_update_columns / merge_exclude_columns and incremental_predicates as usual. -#}
{% macro sparksession__get_merge_sql(target, source, unique_key, dest_columns, incremental_predicates=none) -%}
    {%- set delete_condition = config.get('merge_delete_condition') -%}
    {%- if not delete_condition -%}
        {{ return(spark__get_merge_sql(target, source, unique_key, dest_columns, incremental_predicates)) }}
    {%- endif -%}
    {%- set update_columns = none -%}
    {%- if config.get('merge_update_columns') or config.get('merge_exclude_columns') -%}
        {%- set update_columns = get_merge_update_columns(
            config.get('merge_update_columns'),
            config.get('merge_exclude_columns'),
            adapter.get_columns_in_relation(target),
        ) -%}
    {%- endif -%}
    {{ return(sparksession__merge_with_deletes_sql(
        target, source, unique_key, delete_condition,
        update_condition=config.get('merge_update_condition'),
        incremental_predicates=incremental_predicates,
        update_columns=update_columns,
    )) }}
{%- endmacro %}


{#- A Delta (or any MERGE-capable format) MERGE that also deletes: source rows matching
    `delete_condition` delete their target row and are never inserted; other matched rows
    update (only where `update_condition` holds, if given; only `update_columns`, if given);
    unmatched rows insert. The source must hold at most one row per key. Builds SQL only.

    target, source: relations; unique_key: a column name or a list of them;
    delete_condition, update_condition, incremental_predicates: SQL over DBT_INTERNAL_SOURCE and
    DBT_INTERNAL_DEST; update_columns: column names (default: every column, `update set *`) -#}
{% macro sparksession__merge_with_deletes_sql(
    target, source, unique_key, delete_condition,
    update_condition=none, incremental_predicates=none, update_columns=none
) -%}
    {%- set keys = [unique_key] if unique_key is string else (unique_key or []) -%}
    {%- if not keys -%}
        {{ exceptions.raise_compiler_error(
            target ~ ': merge_delete_condition needs a unique_key to match source rows with table rows'
        ) }}
    {%- endif -%}
    merge into {{ target }} as DBT_INTERNAL_DEST
    using {{ source }} as DBT_INTERNAL_SOURCE
    on {% for key in keys -%}
        DBT_INTERNAL_SOURCE.{{ key }} = DBT_INTERNAL_DEST.{{ key }}{% if not loop.last %} and {% endif %}
    {%- endfor %}
    {%- for predicate in incremental_predicates or [] %} and ({{ predicate }}){% endfor %}
    when matched and ({{ delete_condition }}) then delete
    when matched{% if update_condition %} and ({{ update_condition }}){% endif %} then update set
    {%- if update_columns %}
        {% for column in update_columns -%}
            {{ column }} = DBT_INTERNAL_SOURCE.{{ column }}{% if not loop.last %}, {% endif %}
        {%- endfor %}
    {%- else %} *
    {%- endif %}
    when not matched and not ({{ delete_condition }}) then insert *
{%- endmacro %}
