"""The fast path of ``make eval-checks``: the checks' input relations computed without dbt, the
anomalies injected into those relations, the power table over sizes, effects and seeds.

- ``relations``: a seeded sandbox → the two relations the exposure-based checks read
  (``marts.fct_deal_stage_history``, ``marts.mart_lead_volume_daily``), by the plain-Python
  reference of the marts (``tests/reference/funnel.py``, proven equal to the dbt build by the
  mart tests and by ``tests/anomaly_scenarios/test_fast_path_equivalence.py``);
- ``inject``: each anomaly at each effect size, applied to those rows;
- ``power``: the CLI (``python -m evaluation.fast.power``) and its tables.
"""
