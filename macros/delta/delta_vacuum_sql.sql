{#- `VACUUM` for a Delta table: removes data files no longer referenced and older than
    `retain_hours` (Delta refuses less than 168 hours unless its safety check is disabled). -#}
{% macro delta_vacuum_sql(relation, retain_hours) -%}
    {%- if retain_hours is not number or retain_hours < 0 -%}
        {{ exceptions.raise_compiler_error('delta_vacuum_sql: retain_hours must be a non-negative number, got ' ~ retain_hours) }}
    {%- endif -%}
    vacuum {{ relation }} retain {{ retain_hours }} hours
{%- endmacro %}
