{% macro dbt_model_runs_ddl() %}
    {#- the audit table of per-node dbt runs, in the run's table format -#}
    create table if not exists {{ var('audit_schema', 'audit') }}.dbt_model_runs (
        run_id string,
        invocation_id string,
        node_id string,
        resource_type string,
        relation_name string,
        materialization string,
        status string,
        rows_affected bigint,
        row_count bigint,
        duration_seconds double,
        message string,
        completed_at timestamp
    )
    using {{ env_var('LAKEHOUSE_FILE_FORMAT', 'parquet') }}
{% endmacro %}
