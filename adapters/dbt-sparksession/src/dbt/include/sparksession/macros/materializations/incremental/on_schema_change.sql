{#- dbt's `on_schema_change` for incremental models on this adapter.

    Added columns are added to the table (`append_new_columns`, `sync_all_columns`), and each
    applied change is reported in one info log line (adapter.schema_change_line):
    `sparksession_schema_change {"table": ..., "added": [...]}`, which a program running dbt can
    collect from dbt's events.
    A column whose type changed stops the model with one line naming it, for every mode but
    `ignore`: the rows already in the table hold the old type, and Spark can neither alter it in
    place nor insert the new type without casting. dbt's own macro only logs a type change and
    lets the write fail, or silently cast, later. -#}
{% macro sparksession__process_schema_changes(on_schema_change, source_relation, target_relation) -%}
    {%- if on_schema_change == 'ignore' -%}
        {{ return({}) }}
    {%- endif -%}
    {%- set changes = check_for_schema_changes(source_relation, target_relation) -%}
    {%- for changed in changes['new_target_types'] -%}
        {%- set old_type = changes['target_columns'] | selectattr('name', 'equalto', changed['column_name'])
            | map(attribute='data_type') | first -%}
        {{ exceptions.raise_compiler_error(
            target_relation ~ '.' ~ changed['column_name'] ~ ': the model now makes it ' ~ changed['new_type']
            ~ ' but the table holds ' ~ old_type ~ '; a type change is not additive (rebuild with'
            ~ ' `dbt run --full-refresh --select ' ~ target_relation.identifier ~ '`, or add a new column)'
        ) }}
    {%- endfor -%}
    {%- if changes['schema_changed'] -%}
        {%- if on_schema_change == 'fail' -%}
            {{ exceptions.raise_compiler_error(
                target_relation ~ ': columns differ from the table (new: '
                ~ changes['source_not_in_target'] | map(attribute='name') | join(', ') ~ '; gone: '
                ~ changes['target_not_in_source'] | map(attribute='name') | join(', ') ~ ') and on_schema_change is fail'
            ) }}
        {%- endif -%}
        {%- do sync_column_schemas(on_schema_change, target_relation, changes) -%}
        {{ log(adapter.schema_change_line(target_relation, changes['source_not_in_target']), info=true) }}
    {%- endif -%}
    {{ return(changes['source_columns']) }}
{%- endmacro %}
