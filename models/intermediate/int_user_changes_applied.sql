{{ config(
    materialized=lakehouse_current_state_materialization(),
    incremental_strategy='merge',
    unique_key='user_id',
    merge_delete_condition='DBT_INTERNAL_SOURCE.is_deleted',
    merge_update_condition='DBT_INTERNAL_SOURCE.last_change_lsn >= DBT_INTERNAL_DEST.last_change_lsn',
) }}

{{ cdc_current_state(
    ref('stg_cdc__user_changes'), 'user_id',
    ['email_hash', 'country_code', 'marketing_opt_in', 'signup_at', 'updated_at'],
) }}
