{#- The incremental watermark predicate: `column` (a load timestamp of the upstream row) is later
    than the newest `this_column` already in {{ this }}. For `where` clauses.

    The newest value is read when the model compiles (just before it runs) and rendered as a
    literal: Spark pushes a literal down to Parquet, so files and row groups loaded before the
    watermark are skipped by their statistics, where a scalar subquery would make every run read
    the whole history. Where {{ this }} is not a table (parsing, a unit test's fixture, an inline
    compile) the predicate keeps the subquery. -#}
{% macro newer_than_this(column, this_column) -%}
    {%- if this_is_a_table() -%}
        {%- set newest = run_query(
            'select max(unix_micros(' ~ this_column ~ ')) from ' ~ this
        ).columns[0].values()[0] -%}
        {{ column }} > {{ 'timestamp_micros(%d)' % newest if newest is not none else 'cast(null as timestamp)' }}
    {%- else -%}
        {{ column }} > (select max(this_table.{{ this_column }}) from {{ this }} as this_table)
    {%- endif -%}
{%- endmacro %}
