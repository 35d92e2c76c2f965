{#- How the incremental models that rebuild whole event dates (int_events_sessionized, fct_events)
    write them: `insert_overwrite` replaces the rebuilt dates' partitions, on Parquet and on Delta.
    On Delta, var('delta_event_dates_strategy') may be `merge` instead (by `unique_key`): the same
    rows, but a MERGE first joins the new rows with the whole table to find the files it rewrites
    (`make bench` measures both; docs/delta.md). -#}
{% macro lakehouse_incremental_strategy() -%}
    {%- set on_delta = var('delta_event_dates_strategy') -%}
    {%- if on_delta not in ('insert_overwrite', 'merge') -%}
        {{ exceptions.raise_compiler_error(
            "var('delta_event_dates_strategy') must be insert_overwrite or merge, got " ~ on_delta
        ) }}
    {%- endif -%}
    {{ return(on_delta if lakehouse_is_delta() else 'insert_overwrite') }}
{%- endmacro %}
