{{ cdc_history(
    ref('stg_cdc__user_changes'), 'user_id',
    ['email_hash', 'country_code', 'marketing_opt_in', 'signup_at', 'updated_at'],
) }}
