{#- `dbt run-operation optimize_delta_tables`: OPTIMIZE ... ZORDER BY the big facts (models with
    meta.delta_zorder_by). A no-op with a message on Parquet, where OPTIMIZE does not exist. -#}
{% macro optimize_delta_tables(dry_run=false) -%}
    {%- if not lakehouse_is_delta() -%}
        {{ log('optimize_delta_tables: nothing to do, tables are Parquet (OPTIMIZE/ZORDER is Delta-only)', info=true) }}
        {{ return([]) }}
    {%- endif -%}
    {%- set statements = [] -%}
    {%- for relation, zorder_by in delta_maintained_models() -%}
        {%- set statement = delta_optimize_sql(relation, zorder_by) | trim -%}
        {%- do statements.append(statement) -%}
        {{ log(('would run: ' if dry_run else 'running: ') ~ statement, info=true) }}
        {%- if not dry_run -%}{%- do run_query(statement) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(statements) }}
{%- endmacro %}
