{{ cdc_history(
    ref('stg_cdc__product_changes'), 'product_id',
    ['product_name', 'category_id', 'brand', 'price', 'currency', 'is_active', 'updated_at'],
) }}
