{#- The models Delta maintenance applies to: every enabled model whose config has
    `meta: {delta_zorder_by: [...]}`, as (relation, zorder columns) pairs, sorted by name. -#}
{% macro delta_maintained_models() -%}
    {%- set maintained = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() | sort(attribute='name') -%}
            {%- set zorder_by = node.config.meta.get('delta_zorder_by') -%}
            {%- if node.resource_type == 'model' and node.config.enabled and zorder_by -%}
                {%- set relation = api.Relation.create(schema=node.schema, identifier=node.alias) -%}
                {%- do maintained.append((relation, zorder_by)) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(maintained) }}
{%- endmacro %}
