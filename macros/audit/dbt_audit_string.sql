{% macro dbt_audit_string(value) %}
    {#- a Spark SQL string literal for `value` (backslashes and quotes escaped), or null -#}
    {%- if value is none -%}
        {{ return('null') }}
    {%- endif -%}
    {{ return("'" ~ (value | string).replace('\\', '\\\\').replace("'", "\\'") ~ "'") }}
{% endmacro %}
