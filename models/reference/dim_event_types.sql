with catalog as (
    select * from {{ ref('event_type_catalog') }}
),

final as (
    select
        ---------- ids
        event_type,

        ---------- strings
        funnel_stage,
        description,

        ---------- numerics
        funnel_step,

        ---------- booleans
        is_commerce
    from catalog
)

select * from final
