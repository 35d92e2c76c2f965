{#- Fails when the newest `column_name` value is older than `interval` `datepart`s before the
    reference time. `reference` defaults to now; pass e.g. the newest upstream timestamp for
    data generated in the past. An empty model fails too. -#}
{% test recency(model, column_name, datepart, interval, reference=none) %}
    {%- set reference = reference or 'current_timestamp()' -%}
    with newest as (
        select max({{ column_name }}) as newest_value from {{ model }}
    )

    select newest_value
    from newest
    where
        newest_value is null
        or cast(newest_value as timestamp)
        < ({{ reference }}) - interval {{ interval }} {{ datepart }}
{% endtest %}
