{{ cdc_history(
    ref('stg_cdc__product_changes'), 'product_id',
    ['category_id', 'product_name', 'brand', 'currency', 'price', 'is_active', 'updated_at'],
) }}
