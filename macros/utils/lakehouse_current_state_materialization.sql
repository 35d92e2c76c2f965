{#- CDC current-state tables: an incremental MERGE that applies deletes on Delta; a full rebuild
    from the change log on Parquet, which has no row-level delete. -#}
{% macro lakehouse_current_state_materialization() -%}
    {{ return('incremental' if lakehouse_is_delta() else 'table') }}
{%- endmacro %}
