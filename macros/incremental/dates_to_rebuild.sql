{#- The dates an incremental run rebuilds, for `<date> in (...)`: the `date_column` values of the
    rows of `relation` that are newer than this model's watermark (`incremental_watermark`).

    `relation` is an upstream model, or an inline `(select ...)` with `date_column` and
    `_ingested_at` when a model rebuilds more than the new rows' own dates (the sessionization's
    neighbouring days, a late product's events, a changed session's start date). The query runs as
    the model compiles, just before it runs, and its dates are rendered as `date'...'` literals
    (`cast(null as date)` for none, which matches nothing): Spark then prunes the date partitions
    it reads while planning, where an `in (subquery)` makes it list and read every partition's
    files. Where {{ this }} is not a table (a unit test's fixture, an inline compile) the list is
    the subquery itself. -#}
{% macro dates_to_rebuild(relation, date_column='event_date') -%}
    {%- set newer_rows -%}
        from {{ relation }} as changed
        where changed._ingested_at > {{ incremental_watermark() }}
    {%- endset -%}
    {%- if _this_is_built() -%}
        {%- set dates = run_query(
            'select distinct cast(changed.' ~ date_column ~ ' as string) ' ~ newer_rows
        ).columns[0].values() | reject('none') | sort -%}
        {%- if dates | length == 0 -%}
            cast(null as date)
        {%- else -%}
            {%- for date_value in dates %}date'{{ date_value }}'{{ ', ' if not loop.last }}{% endfor -%}
        {%- endif -%}
    {%- else -%}
        select distinct changed.{{ date_column }} {{ newer_rows }}
    {%- endif -%}
{%- endmacro %}
