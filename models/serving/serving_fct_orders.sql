{{ config(alias='fct_orders') }}

select * from {{ ref('fct_orders') }}{{ published_version(ref('fct_orders')) }}
