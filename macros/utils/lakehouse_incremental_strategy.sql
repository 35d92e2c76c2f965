{#- Delta can MERGE by key; plain Parquet cannot, so there incremental models replace whole
    partitions (dynamic partition overwrite) and must emit complete partitions. -#}
{% macro lakehouse_incremental_strategy() -%}
    {{ return('merge' if lakehouse_is_delta() else 'insert_overwrite') }}
{%- endmacro %}
