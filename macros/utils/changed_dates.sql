{#- The dates an incremental run must rebuild: every `date_column` value of `relation` rows newer
    than this model's watermark, i.e. rows with `watermark_column` later than the newest
    `this_watermark_column` already in {{ this }}. A subquery, for `where <date> in (...)`. -#}
{% macro changed_dates(relation, date_column, watermark_column, this_watermark_column) -%}
    select distinct changed_rows.{{ date_column }}
    from {{ relation }} as changed_rows
    where {{ newer_than_this('changed_rows.' ~ watermark_column, this_watermark_column) }}
{%- endmacro %}
