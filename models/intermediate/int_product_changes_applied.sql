{{ config(
    materialized=lakehouse_current_state_materialization(),
    incremental_strategy='merge',
    unique_key='product_id',
    merge_delete_condition='DBT_INTERNAL_SOURCE.is_deleted',
    merge_update_condition='DBT_INTERNAL_SOURCE.last_change_lsn >= DBT_INTERNAL_DEST.last_change_lsn',
) }}

{{ cdc_current_state(
    ref('stg_cdc__product_changes'), 'product_id',
    ['category_id', 'product_name', 'brand', 'currency', 'price', 'is_active', 'updated_at'],
) }}
