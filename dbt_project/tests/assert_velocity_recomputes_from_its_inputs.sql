-- mart_pipeline_velocity_monthly: `velocity_per_day` recomputes from the stored inputs
-- (open_deal_count × win_rate × avg_won_deal_value / avg_cycle_days_won; null when an input is
-- null or the cycle is 0), and `win_rate` from the won and lost counts. Returns differing rows.
{{ config(meta={'dagster': {'ref': {'name': 'mart_pipeline_velocity_monthly'}}}) }}

with

recomputed as (

    select
        *,
        case
            when won_count + lost_count > 0 then won_count * 1.0 / (won_count + lost_count)
        end as expected_win_rate,
        case
            when avg_cycle_days_won <> 0
                then open_deal_count * win_rate * avg_won_deal_value / avg_cycle_days_won
        end as expected_velocity
    from {{ ref('mart_pipeline_velocity_monthly') }}

)

select month, source, velocity_per_day, expected_velocity, win_rate, expected_win_rate
from recomputed
where (velocity_per_day is null) <> (expected_velocity is null)
    or abs(velocity_per_day - expected_velocity) > 1e-6 * greatest(1, abs(expected_velocity))
    or (win_rate is null) <> (expected_win_rate is null)
    or abs(win_rate - expected_win_rate) > 1e-12
