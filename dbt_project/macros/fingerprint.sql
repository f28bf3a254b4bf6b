{#- A 64-bit integer fingerprint of a text expression (change detection, not security). -#}
{% macro fingerprint(expr) -%}
    {{ return(adapter.dispatch('fingerprint')(expr)) }}
{%- endmacro %}

{% macro default__fingerprint(expr) -%}
    cast(('x' || substr(md5({{ expr }}), 1, 15)) as bit(60))::bigint
{%- endmacro %}

{% macro duckdb__fingerprint(expr) -%}
    cast(hash({{ expr }}) >> 1 as bigint)
{%- endmacro %}

{% macro spark__fingerprint(expr) -%}
    xxhash64({{ expr }})
{%- endmacro %}
