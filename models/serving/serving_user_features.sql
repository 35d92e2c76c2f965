{{ config(alias='user_features') }}

select * from {{ ref('user_features') }}{{ published_version(ref('user_features')) }}
