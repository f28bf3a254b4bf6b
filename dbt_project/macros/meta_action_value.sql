{#- The numeric `value` of the entry of a Meta `actions` list (JSON text) whose `action_type` is
    exactly `action_type`, or null. One type only: Meta's lead types overlap (`lead`,
    `onsite_conversion.lead_grouped`, `offsite_conversion.fb_pixel_lead`), so summing them
    double counts. -#}
{% macro meta_action_value(json_column, action_type) -%}
    {{ return(adapter.dispatch('meta_action_value')(json_column, action_type)) }}
{%- endmacro %}

{% macro duckdb__meta_action_value(json_column, action_type) -%}
    cast(list_filter(
        from_json({{ json_column }}, '[{"action_type": "VARCHAR", "value": "VARCHAR"}]'),
        lambda x: x.action_type = '{{ action_type }}'
    )[1].value as {{ type_double() }})
{%- endmacro %}

{% macro postgres__meta_action_value(json_column, action_type) -%}
    cast(jsonb_path_query_first(
        cast({{ json_column }} as jsonb), '$[*] ? (@.action_type == "{{ action_type }}").value'
    ) #>> '{}' as {{ type_double() }})
{%- endmacro %}

{% macro spark__meta_action_value(json_column, action_type) -%}
    cast(try_element_at(filter(
        from_json({{ json_column }}, 'array<struct<action_type:string,value:string>>'),
        x -> x.action_type = '{{ action_type }}'
    ), 1).value as {{ type_double() }})
{%- endmacro %}
