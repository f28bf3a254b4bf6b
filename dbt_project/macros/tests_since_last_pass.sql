{#- Tests cheap on a small change (docs/decisions.md, "Tests on the rows a build wrote").

    The incremental models keep the rows of the deals they did not rebuild, and those rows have
    already passed every test that reads them. So a test of such a model checks only the rows
    written since it last passed:
    - models whose YAML sets `meta: {test_scope: rebuilt_deals}` (the per-deal chain): the rows with
      `deal_built_at` (the dbt run that built the deal) after the test's last pass;
    - `meta: {test_scope: snapshot_rows}` (`fct_pipeline_snapshot_daily`): the rows of the deals
      whose spans were built since then, and the days after the lowest `as_of_date` of any run
      since then (the days a run may have removed and added again).
    Generic tests get this through `get_where_subquery` (below); singular tests call
    `rows_to_test()` themselves. Every test covers every row when it has never passed (a new or
    edited test, a new warehouse), on `--full-refresh`, and with `--vars '{test_all_rows: true}'`.
    An on-run-end hook (`log_test_passes`) records each run (its start and `as_of_date`) and each
    test that passed in it in `<intermediate schema>._dbt_test_passes`; a failed or skipped test
    is not recorded, so the next run tests its rows again. -#}

{#- When the current dbt run started: the `deal_built_at` of the rows it writes (UTC). -#}
{% macro deal_built_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}

{% macro test_passes_relation() -%}
    {{ return(api.Relation.create(
        database=target.database, schema=generate_schema_name('intermediate', none), identifier='_dbt_test_passes'
    )) }}
{%- endmacro %}

{#- The key a test's passes are logged under: its id and the checksum of its definition. -#}
{% macro test_pass_key(node) -%}
    {{ return(node.unique_id ~ ':' ~ (node.checksum.checksum or '')) }}
{%- endmacro %}

{#- The running test's last pass and the lowest `as_of_date` of the runs since then, as
    `{'since': <timestamp literal>, 'lowest_as_of': <date or none>}`; none when the test checks
    every row (not a test, not at execution, --full-refresh, `test_all_rows`, no pass log, or the
    test never passed under its current id and checksum). -#}
{% macro test_last_pass() -%}
    {%- if not execute or flags.FULL_REFRESH or var('test_all_rows', false) or model.resource_type != 'test' -%}
        {{ return(none) }}
    {%- endif -%}
    {#- no pass log on Spark (`test_passes_logged`): every row, and no relation without a database there -#}
    {%- if not test_passes_logged() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set log = test_passes_relation() -%}
    {%- if adapter.get_relation(database=log.database, schema=log.schema, identifier=log.identifier) is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = run_query(
        "select passed.last_pass, min(runs.as_of_date) from (select max(run_started_at) as last_pass from "
        ~ log ~ " where test_key = '" ~ test_pass_key(model) ~ "') as passed left join " ~ log
        ~ " as runs on runs.test_key = '' and runs.run_started_at >= passed.last_pass group by passed.last_pass"
    ) -%}
    {%- set last_pass, lowest_as_of = found.rows[0][0], found.rows[0][1] -%}
    {%- if last_pass is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return({
        'since': "cast('" ~ last_pass.strftime("%Y-%m-%d %H:%M:%S.%f") ~ "' as timestamp)",
        'lowest_as_of': lowest_as_of
    }) }}
{%- endmacro %}

{#- The snapshot rows written since the running test last passed, in two parts a test can use
    apart (a filter on a join's output is not pushed below the join when it is an `or`):
    `{'deals': <select of the deal ids whose spans were built since>, 'after_day': <date
    literal: the days after it were rewritten>}`; none when the test checks every row. -#}
{% macro snapshot_rows_to_test() -%}
    {%- set last = test_last_pass() -%}
    {%- if last is none or last.lowest_as_of is none -%}
        {{ return(none) }}
    {%- endif -%}
    {#- the spans' relation from the graph: a ref() here would be a dependency dbt cannot see -#}
    {%- set spans = graph.nodes['model.' ~ project_name ~ '.int_deal_states_spanned'] -%}
    {%- set spans_relation = api.Relation.create(database=spans.database, schema=spans.schema, identifier=spans.alias) -%}
    {{ return({
        'deals': "select distinct deal_id from " ~ spans_relation ~ " where deal_built_at > " ~ last.since,
        'after_day': "cast('" ~ last.lowest_as_of.strftime("%Y-%m-%d") ~ "' as date)"
    }) }}
{%- endmacro %}

{#- A predicate on `scope`'s rows that keeps those written since the running test last passed,
    or '' (test every row). Only at execution time, when the log exists and the test has passed. -#}
{% macro rows_to_test(scope) -%}
    {%- if scope == 'rebuilt_deals' -%}
        {%- set last = test_last_pass() -%}
        {{ return('deal_built_at > ' ~ last.since if last is not none else '') }}
    {%- elif scope == 'snapshot_rows' -%}
        {%- set parts = snapshot_rows_to_test() -%}
        {%- if parts is none -%}
            {{ return('') }}
        {%- endif -%}
        {{ return('(snapshot_date > ' ~ parts.after_day ~ ' or deal_id in (' ~ parts.deals ~ '))') }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("rows_to_test: unknown scope '" ~ scope ~ "'") }}
{%- endmacro %}

{#- dbt's hook for a generic test's `where` config, extended: a test of a model with
    `meta.test_scope` also checks only the rows written since it last passed. -#}
{% macro get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- if config.get('where') -%}
        {%- do conditions.append(config.get('where')) -%}
    {%- endif -%}
    {%- set parent = graph.nodes.get(model.attached_node) if execute and model.attached_node else none -%}
    {%- set scope = (parent.config.meta or {}).get('test_scope') if parent else none -%}
    {%- if scope -%}
        {%- set since = rows_to_test(scope) -%}
        {%- if since -%}
            {%- do conditions.append(since) -%}
        {%- endif -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- do return('(select * from ' ~ relation ~ ' where (' ~ conditions | join(') and (') ~ ')) dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{#- Whether runs and passes are logged: not on Spark, which rebuilds the chain as tables on every
    run (`deal_chain_materialization`) and rewrites every snapshot partition, so its tests check
    every row anyway. -#}
{% macro test_passes_logged() -%}
    {{ return(adapter.dispatch('test_passes_logged')()) }}
{%- endmacro %}

{% macro default__test_passes_logged() -%}
    {{ return(true) }}
{%- endmacro %}

{% macro spark__test_passes_logged() -%}
    {{ return(false) }}
{%- endmacro %}

{#- on-run-end: log this run and the tests that passed in it (see the top of this file). -#}
{% macro log_test_passes() -%}
    {%- if execute and test_passes_logged() -%}
        {%- set log = test_passes_relation() -%}
        {%- set started = "cast('" ~ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") ~ "' as timestamp)" -%}
        {%- set as_of = as_of_date() -%}
        {%- do adapter.create_schema(log) -%}
        {%- do run_query(
            "create table if not exists " ~ log ~ " (test_key " ~ dbt.type_string() ~ ", run_started_at timestamp, as_of_date date)"
        ) -%}
        {%- set rows = ["('', " ~ started ~ ", " ~ as_of ~ ")"] -%}
        {%- for result in results if result.node.resource_type == 'test' and result.status == 'pass' -%}
            {%- do rows.append("('" ~ test_pass_key(result.node) ~ "', " ~ started ~ ", " ~ as_of ~ ")") -%}
        {%- endfor -%}
        {%- do run_query("insert into " ~ log ~ " values " ~ rows | join(", ")) -%}
    {%- endif -%}
{%- endmacro %}
