{% macro record_dbt_model_runs(results) %}
    {#- on-run-end hook: creates the audit table when missing and returns the insert for this run -#}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set insert_sql = dbt_model_runs_insert_sql(results) -%}
    {%- if insert_sql -%}
        {%- do run_query('create schema if not exists ' ~ var('audit_schema', 'audit')) -%}
        {%- do run_query(dbt_model_runs_ddl()) -%}
    {%- endif -%}
    {{ return(insert_sql) }}
{% endmacro %}
