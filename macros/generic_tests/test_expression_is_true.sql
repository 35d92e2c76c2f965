{#- Fails on every row where `expression` is not true (null counts as a failure). -#}
{% test expression_is_true(model, expression, column_name=none) %}
    {%- set subject = column_name ~ ' ' ~ expression if column_name else expression -%}
    select *
    from {{ model }}
    where not coalesce({{ subject }}, false)
{% endtest %}
