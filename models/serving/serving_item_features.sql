{{ config(alias='item_features') }}

select * from {{ ref('item_features') }}{{ published_version(ref('item_features')) }}
