{% macro dbt_model_runs_insert_sql(results) %}
    {#- one select per model, seed and snapshot result, unioned into one insert; '' when there are none -#}
    {%- set rows = [] -%}
    {%- set run_id = env_var('LAKEHOUSE_RUN_ID', invocation_id) -%}
    {%- for result in results if result.node.resource_type in ('model', 'seed', 'snapshot') -%}
        {%- set node = result.node -%}
        {%- set status = result.status | string | lower -%}
        {%- set materialization = node.config.materialized if node.resource_type == 'model' else node.resource_type -%}
        {#- dbt-spark reports no row counts, so count the relation: cheap on file metadata, and for a
            full rewrite (table, seed) every row counted was written by this run -#}
        {%- set countable = status == 'success' and materialization in ('table', 'incremental', 'seed', 'snapshot') -%}
        {%- set row_count = '(select count(*) from ' ~ node.relation_name ~ ')' if countable else 'null' -%}
        {%- set reported = (result.adapter_response or {}).get('rows_affected') -%}
        {%- if reported is not none and reported >= 0 -%}
            {%- set rows_affected = reported | string -%}
        {%- elif countable and materialization in ('table', 'seed') -%}
            {%- set rows_affected = row_count -%}
        {%- else -%}
            {%- set rows_affected = 'null' -%}
        {%- endif -%}
        {%- set completed = result.timing[-1].completed_at if result.timing else none -%}
        {%- set message = (result.message or '') | string -%}
        {%- do rows.append(
            "select " ~ dbt_audit_string(run_id)
            ~ ", " ~ dbt_audit_string(invocation_id)
            ~ ", " ~ dbt_audit_string(node.unique_id)
            ~ ", " ~ dbt_audit_string(node.resource_type)
            ~ ", " ~ dbt_audit_string(node.relation_name)
            ~ ", " ~ dbt_audit_string(materialization)
            ~ ", " ~ dbt_audit_string(status)
            ~ ", cast(" ~ rows_affected ~ " as bigint)"
            ~ ", cast(" ~ row_count ~ " as bigint)"
            ~ ", cast(" ~ (result.execution_time or 0) ~ " as double)"
            ~ ", " ~ dbt_audit_string((message.split() | join(' '))[:500] if message else none)
            ~ ", " ~ ("to_timestamp(" ~ dbt_audit_string(completed.strftime('%Y-%m-%d %H:%M:%S.%f')) ~ ")" if completed else "current_timestamp()")
        ) -%}
    {%- endfor -%}
    {%- if rows -%}
        {{ return('insert into ' ~ var('audit_schema', 'audit') ~ '.dbt_model_runs\n' ~ rows | join('\nunion all\n')) }}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}
