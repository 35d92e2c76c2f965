{#- ` version as of <n>` for a serving view over a Delta table: the version the quality gate
    validated, which the publish step passes in var('serving_versions') (`schema.table` -> version).
    Nothing on Parquet, or when no version was given: the view then reads the table as it is. -#}
{% macro published_version(relation) -%}
    {%- set versions = var('serving_versions', {}) -%}
    {%- set key = relation.schema ~ '.' ~ relation.identifier -%}
    {%- if lakehouse_is_delta() and key in versions -%}
        {{ ' version as of ' ~ (versions[key] | int) }}
    {%- endif -%}
{%- endmacro %}
