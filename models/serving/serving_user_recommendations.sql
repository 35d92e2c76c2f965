{{ config(alias='user_recommendations') }}

select * from {{ ref('user_recommendations') }}{{ published_version(ref('user_recommendations')) }}
