{#- True when the model runs against its own built table: executing (not parsing), and {{ this }}
    is a relation that exists. False for a unit test's fixture, an inline compile or a first build;
    the compile-time lookups (newer_than_this, literal_dates) then keep their subquery form. -#}
{% macro this_is_a_table() -%}
    {{ return(execute and this is not string and load_relation(this) is not none) }}
{%- endmacro %}
