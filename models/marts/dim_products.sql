-- Every product the products feed has known, deleted ones included (flagged), with its category
-- and the category's parent and department.
with product_versions as (
    select * from {{ ref('int_product_changes_historized') }}
),

categories as (
    select * from {{ ref('category_hierarchy') }}
),

currency_rates as (
    select * from {{ ref('currency_rates') }}
),

ranked_versions as (
    select
        product_versions.*,
        row_number() over (
            partition by product_versions.product_id order by product_versions.version_lsn desc
        ) as version_rank
    from product_versions
),

final as (
    select /*+ broadcast(categories), broadcast(parent_categories), broadcast(currency_rates) */
        ranked_versions.product_id,
        ranked_versions.product_name,
        ranked_versions.brand,
        ranked_versions.category_id,
        categories.category_name,
        categories.parent_category_id,
        parent_categories.category_name as parent_category_name,
        categories.department,
        ranked_versions.price,
        ranked_versions.currency,
        ranked_versions.updated_at,
        ranked_versions.price * currency_rates.rate_to_usd as price_usd,
        ranked_versions.is_active and ranked_versions.is_current as is_active,
        not ranked_versions.is_current as is_deleted
    from ranked_versions
    left join categories
        on ranked_versions.category_id = categories.category_id
    left join categories as parent_categories
        on categories.parent_category_id = parent_categories.category_id
    left join currency_rates
        on ranked_versions.currency = currency_rates.currency
    where ranked_versions.version_rank = 1
)

select * from final
