{#- The incremental watermark: the newest `_ingested_at` already in {{ this }}, as an SQL expression
    for `<upstream row>._ingested_at > {{ incremental_watermark() }}` (the upstream rows this model
    has not processed yet).

    Every incremental model carries `_ingested_at`: the newest bronze ingestion time its row reflects
    (doc block `ingested_at`), so one comparison serves every model. When {{ this }} is a built table
    the newest value is read as the model compiles, just before it runs, and rendered as a literal:
    Spark pushes a literal down to Parquet and skips the files and row groups loaded earlier, where a
    scalar subquery would make every run read the whole history. An empty table gives the earliest
    timestamp, so everything upstream is new. Where {{ this }} is not a table (a unit test's fixture,
    an inline compile) the expression is the scalar subquery. -#}
{% macro incremental_watermark() -%}
    {%- if _this_is_built() -%}
        {%- set newest = run_query(
            'select max(unix_micros(_ingested_at)) from ' ~ this
        ).columns[0].values()[0] -%}
        {{- 'timestamp_micros(%d)' % newest if newest is not none else "timestamp'0001-01-01 00:00:00'" -}}
    {%- else -%}
        coalesce(
            (select max(this_table._ingested_at) from {{ this }} as this_table),
            timestamp'0001-01-01 00:00:00'
        )
    {%- endif -%}
{%- endmacro %}
