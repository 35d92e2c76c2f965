{#- Salt bucket (0 .. buckets-1) for a row on the large, skewed side of a join. Hashing a
    row-unique column spreads one hot key (a bot's visitor id) over `buckets` tasks. -#}
{% macro skew_salt(row_unique_column, buckets=none) -%}
    {%- set buckets = buckets or var('skew_salt_buckets') -%}
    pmod(xxhash64({{ row_unique_column }}), {{ buckets }})
{%- endmacro %}
