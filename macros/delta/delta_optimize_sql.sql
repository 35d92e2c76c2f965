{#- `OPTIMIZE` (file compaction) for a Delta table, Z-ordered by `zorder_by` columns if given. -#}
{% macro delta_optimize_sql(relation, zorder_by=none) -%}
    optimize {{ relation }}
    {%- if zorder_by %} zorder by ({{ zorder_by | join(', ') }}){% endif %}
{%- endmacro %}
