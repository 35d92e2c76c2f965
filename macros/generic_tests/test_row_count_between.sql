{#- Fails (one row) when the model's row count lies outside [min_count, max_count]; either
    bound may be omitted. -#}
{% test row_count_between(model, min_count=none, max_count=none) %}
    {%- if min_count is none and max_count is none -%}
        {{ exceptions.raise_compiler_error('row_count_between needs min_count or max_count') }}
    {%- endif -%}
    with counted as (
        select count(*) as row_count from {{ model }}
    )

    select row_count
    from counted
    where
        false
        {%- if min_count is not none %} or row_count < {{ min_count }}{% endif %}
        {%- if max_count is not none %} or row_count > {{ max_count }}{% endif %}
{% endtest %}
