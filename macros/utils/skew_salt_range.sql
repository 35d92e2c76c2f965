{#- Replicates a row of the small side of a salted join once per salt bucket: select it as
    `{{ skew_salt_range() }} as salt` and join on (key, salt). -#}
{% macro skew_salt_range(buckets=none) -%}
    {%- set buckets = buckets or var('skew_salt_buckets') -%}
    explode(sequence(0, {{ buckets }} - 1))
{%- endmacro %}
