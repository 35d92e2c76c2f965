{{ cdc_history(
    ref('stg_cdc__order_changes'), 'order_id',
    ['user_id', 'order_status', 'currency', 'order_total', 'item_count', 'created_at', 'updated_at'],
) }}
