{#- True when the run writes Delta tables. The format is resolved by the adapter before dbt parses
    the project and exported as LAKEHOUSE_FILE_FORMAT (see lakehouse.table_format). -#}
{% macro lakehouse_is_delta() -%}
    {{ return(env_var('LAKEHOUSE_FILE_FORMAT', 'parquet') | trim | lower == 'delta') }}
{%- endmacro %}
