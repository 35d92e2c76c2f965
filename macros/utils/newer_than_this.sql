{#- The incremental watermark predicate: `column` (a load timestamp of the upstream row) is later
    than the newest `this_column` already in {{ this }}. For `where` clauses. -#}
{% macro newer_than_this(column, this_column) -%}
    {{ column }} > (select max(this_table.{{ this_column }}) from {{ this }} as this_table)
{%- endmacro %}
