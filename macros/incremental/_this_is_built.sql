{#- Private to incremental_watermark and dates_to_rebuild: true when the model runs against its own
    built table (executing, not parsing, and {{ this }} is a relation that exists), so values can be
    read at compile time. False for a unit test's fixture, an inline compile or a first build. -#}
{% macro _this_is_built() -%}
    {{ return(execute and this is not string and load_relation(this) is not none) }}
{%- endmacro %}
