{{ config(alias='fct_events') }}

select * from {{ ref('fct_events') }}{{ published_version(ref('fct_events')) }}
