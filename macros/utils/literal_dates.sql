{#- The dates of `dates_sql` (a query whose first column is a date) as a list for `<date> in (...)`.

    The query runs when the model compiles, just before the model runs, and its dates are rendered
    as literals (`cast(null as date)` for none, which matches nothing). Spark then prunes the date
    partitions it reads while planning; an `in (subquery)`, especially one or-ed with another
    condition, makes it list and read every partition's files. Where {{ this }} is not a table
    (parsing, a unit test's fixture, an inline compile) the list is the subquery itself. -#}
{% macro literal_dates(dates_sql) -%}
    {%- if this_is_a_table() -%}
        {%- set dates = run_query(
            'select distinct cast(listed.date_value as string) from (' ~ dates_sql ~ ') as listed (date_value)'
        ).columns[0].values() | reject('none') | sort -%}
        {%- if dates | length == 0 -%}
            cast(null as date)
        {%- else -%}
            {%- for date_value in dates %}date'{{ date_value }}'{{ ', ' if not loop.last }}{% endfor -%}
        {%- endif -%}
    {%- else -%}
        {{ dates_sql }}
    {%- endif -%}
{%- endmacro %}
