{#- The dates an incremental run must rebuild: every `date_column` value of `relation` rows newer
    than this model's watermark, i.e. rows with `watermark_column` later than the newest
    `this_watermark_column` already in {{ this }}. For `where <date> in (...)`: date literals
    read when the model compiles (literal_dates), so Spark prunes partitions while planning. -#}
{% macro changed_dates(relation, date_column, watermark_column, this_watermark_column) -%}
    {%- set dates_sql -%}
    select distinct changed_rows.{{ date_column }}
    from {{ relation }} as changed_rows
    where {{ newer_than_this('changed_rows.' ~ watermark_column, this_watermark_column) }}
    {%- endset -%}
    {{ literal_dates(dates_sql) }}
{%- endmacro %}
