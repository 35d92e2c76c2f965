{#- Delta MERGE that also deletes: rows of the source matching `delete_condition` delete their
    target row and are never inserted; other matched rows update (only when `update_condition`
    holds, if given); unmatched rows insert. The source must hold one row per key.

    target, source: relations; unique_key: a column name or a list of them;
    delete_condition / update_condition: SQL over DBT_INTERNAL_SOURCE / DBT_INTERNAL_DEST -#}
{% macro lakehouse_merge_sql(target, source, unique_key, delete_condition, update_condition=none) -%}
    {%- set keys = [unique_key] if unique_key is string else unique_key -%}
    {%- if not keys -%}
        {{ exceptions.raise_compiler_error('lakehouse_merge_sql needs a unique_key') }}
    {%- endif -%}
    merge into {{ target }} as DBT_INTERNAL_DEST
    using {{ source }} as DBT_INTERNAL_SOURCE
    on {% for key in keys -%}
        DBT_INTERNAL_SOURCE.{{ key }} = DBT_INTERNAL_DEST.{{ key }}{% if not loop.last %} and {% endif %}
    {%- endfor %}
    when matched and ({{ delete_condition }}) then delete
    when matched{% if update_condition %} and ({{ update_condition }}){% endif %} then update set *
    when not matched and not ({{ delete_condition }}) then insert *
{%- endmacro %}
