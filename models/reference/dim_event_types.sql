with catalog as (
    select * from {{ ref('event_type_catalog') }}
),

final as (
    select
        event_type,
        funnel_step,
        funnel_stage,
        is_commerce,
        description
    from catalog
)

select * from final
