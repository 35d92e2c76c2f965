{{ config(alias='fct_sessions') }}

select * from {{ ref('fct_sessions') }}{{ published_version(ref('fct_sessions')) }}
