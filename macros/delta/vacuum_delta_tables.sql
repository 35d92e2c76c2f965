{#- `dbt run-operation vacuum_delta_tables --args '{retain_hours: 168}'`: VACUUM the maintained
    Delta tables. A no-op with a message on Parquet. -#}
{% macro vacuum_delta_tables(retain_hours=none, dry_run=false) -%}
    {%- set retain_hours = retain_hours if retain_hours is not none else var('delta_vacuum_retain_hours') -%}
    {%- if not lakehouse_is_delta() -%}
        {{ log('vacuum_delta_tables: nothing to do, tables are Parquet (VACUUM is Delta-only)', info=true) }}
        {{ return([]) }}
    {%- endif -%}
    {%- set statements = [] -%}
    {%- for relation, zorder_by in delta_maintained_models() -%}
        {%- set statement = delta_vacuum_sql(relation, retain_hours | int) | trim -%}
        {%- do statements.append(statement) -%}
        {{ log(('would run: ' if dry_run else 'running: ') ~ statement, info=true) }}
        {%- if not dry_run -%}{%- do run_query(statement) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(statements) }}
{%- endmacro %}
