{{ config(alias='fct_daily_funnel') }}

select * from {{ ref('fct_daily_funnel') }}{{ published_version(ref('fct_daily_funnel')) }}
