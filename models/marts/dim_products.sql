-- Every product the products feed has known, deleted ones included (flagged), with its category
-- and the category's parent and department; and every product an event refers to before the feed
-- has delivered it (inferred members, flagged), so facts never point at a missing product.
with product_versions as (
    select * from {{ ref('int_product_changes_historized') }}
),

events as (
    select * from {{ ref('stg_clickstream__events') }}
),

categories as (
    select * from {{ ref('category_hierarchy') }}
),

currency_rates as (
    select * from {{ ref('currency_rates') }}
),

ranked_versions as (
    select
        *,
        row_number() over (partition by product_id order by version_number desc) as version_rank
    from product_versions
),

inferred_products as (
    select distinct events.product_id
    from events
    left anti join product_versions on events.product_id = product_versions.product_id
    where events.product_id is not null
),

known_products as (
    select /*+ broadcast(categories), broadcast(parent_categories), broadcast(currency_rates) */
        ---------- ids
        ranked_versions.product_id,
        ranked_versions.category_id,
        categories.parent_category_id,

        ---------- strings
        ranked_versions.product_name,
        ranked_versions.brand,
        categories.category_name,
        parent_categories.category_name as parent_category_name,
        categories.department,
        ranked_versions.currency,

        ---------- numerics
        ranked_versions.price,
        ranked_versions.price * currency_rates.rate_to_usd as price_usd,

        ---------- booleans
        ranked_versions.is_active and ranked_versions.is_current as is_active,
        not ranked_versions.is_current as is_deleted,
        false as is_inferred,

        ---------- timestamps
        ranked_versions.updated_at
    from ranked_versions
    left join categories
        on ranked_versions.category_id = categories.category_id
    left join categories as parent_categories
        on categories.parent_category_id = parent_categories.category_id
    left join currency_rates
        on ranked_versions.currency = currency_rates.currency
    where ranked_versions.version_rank = 1
),

final as (
    select * from known_products
    union all
    select
        product_id,
        cast(null as string) as category_id,
        cast(null as string) as parent_category_id,
        cast(null as string) as product_name,
        cast(null as string) as brand,
        cast(null as string) as category_name,
        cast(null as string) as parent_category_name,
        cast(null as string) as department,
        cast(null as string) as currency,
        cast(null as double) as price,
        cast(null as double) as price_usd,
        false as is_active,
        false as is_deleted,
        true as is_inferred,
        cast(null as timestamp) as updated_at
    from inferred_products
)

select * from final
