{#- Table properties for large Delta tables; none on Parquet (dbt-spark renders an empty dict as
    an invalid empty `tblproperties ()` clause). -#}
{% macro lakehouse_delta_tblproperties() -%}
    {%- if lakehouse_is_delta() -%}
        {{ return({
            'delta.autoOptimize.optimizeWrite': 'true',
            'delta.autoOptimize.autoCompact': 'true',
            'delta.enableChangeDataFeed': 'true',
        }) }}
    {%- else -%}
        {{ return(none) }}
    {%- endif -%}
{%- endmacro %}
