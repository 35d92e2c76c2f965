{#- Salted SHA-256 of a PII value, normalized (trimmed, lower-cased) so equal values hash equal.
    Null stays null. The salt is never in the SQL: Spark substitutes `${env:LAKEHOUSE_PII_SALT}` from
    its JVM's environment when it parses the statement (lakehouse.pii), so compiled SQL, manifests,
    logs and the docs hold only the placeholder. Use it in tables only: a view would store the
    substituted text in the metastore. -#}
{% macro hash_pii(column) -%}
    case
        when {{ column }} is null or trim({{ column }}) = '' then null
        else sha2(concat('${env:LAKEHOUSE_PII_SALT}', '|', lower(trim({{ column }}))), 256)
    end
{%- endmacro %}
