{#- Salted SHA-256 of a PII value, normalized (trimmed, lower-cased) so equal values hash equal.
    Null stays null. The salt comes from var('pii_salt') (LAKEHOUSE_PII_SALT in production). -#}
{% macro hash_pii(column) -%}
    case
        when {{ column }} is null or trim({{ column }}) = '' then null
        else sha2(concat('{{ var("pii_salt") }}', '|', lower(trim({{ column }}))), 256)
    end
{%- endmacro %}
