{{ cdc_history(
    ref('stg_cdc__user_changes'), 'user_id',
    ['email_hash', 'country_code', 'signup_at', 'marketing_opt_in', 'updated_at'],
) }}
