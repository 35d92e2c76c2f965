{#- Custom schemas are used as-is (`staging`, `marts`, `audit`, ...), not prefixed with the target
    schema: the lakehouse has one set of layer databases per metastore. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
