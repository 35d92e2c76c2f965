{#- How an incremental model meets a table built by an older version of it (dbt's
    `on_schema_change`, `append_new_columns` for every model here): new columns are added to the
    table and reported (`lakehouse_schema_change` log line, collected into run_summary.json); a
    column whose type changed stops the model with one line naming it, since the rows already in
    the table hold the old type. dbt's own macro would only log a type change and let the write
    fail, or silently cast, later. -#}
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
        {{ log(lakehouse_schema_change_message(target_relation, changes['source_not_in_target']), info=true) }}
    {%- endif -%}
    {{ return(changes['source_columns']) }}
{%- endmacro %}
