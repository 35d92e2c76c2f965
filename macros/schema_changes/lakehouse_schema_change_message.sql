{#- The log line that reports columns added to an incremental model's table: a marker and JSON,
    which `lakehouse run` collects from dbt's events into run_summary.json (`schema_changes`). -#}
{% macro lakehouse_schema_change_message(relation, added_columns) -%}
    {{ return('lakehouse_schema_change ' ~ tojson({
        'table': relation.schema ~ '.' ~ relation.identifier,
        'added': added_columns | map(attribute='name') | list,
    })) }}
{%- endmacro %}
