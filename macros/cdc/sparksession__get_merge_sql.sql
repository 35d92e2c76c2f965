{#- dbt's `merge` incremental strategy for this adapter: models configured with
    `merge_delete_condition` get a MERGE that applies deletes (lakehouse_merge_sql); every other
    model keeps dbt-spark's MERGE. -#}
{% macro sparksession__get_merge_sql(target, source, unique_key, dest_columns, incremental_predicates=none) -%}
    {%- set delete_condition = config.get('merge_delete_condition') -%}
    {%- if delete_condition -%}
        {{ return(lakehouse_merge_sql(
            target, source, unique_key, delete_condition, config.get('merge_update_condition')
        )) }}
    {%- else -%}
        {{ return(spark__get_merge_sql(target, source, unique_key, dest_columns, incremental_predicates)) }}
    {%- endif -%}
{%- endmacro %}
