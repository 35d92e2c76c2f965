{{ config(
    materialized=lakehouse_current_state_materialization(),
    incremental_strategy='merge',
    unique_key='order_id',
    merge_delete_condition='DBT_INTERNAL_SOURCE.is_deleted',
    merge_update_condition='DBT_INTERNAL_SOURCE.last_change_lsn >= DBT_INTERNAL_DEST.last_change_lsn',
) }}

{{ cdc_current_state(
    ref('stg_cdc__order_changes'), 'order_id',
    ['user_id', 'order_status', 'currency', 'order_total', 'item_count', 'created_at', 'updated_at'],
) }}
