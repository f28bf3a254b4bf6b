"""Evaluation harness for the anomaly checks: seeded sandbox scenarios run end to end.

``evaluation.load``         a sandbox file -> a fresh DuckDB warehouse (raw_hubspot), no HTTP
``evaluation.pipeline``     one scenario end to end: build, load, dbt build, checks
``evaluation.eval_checks``  ``make eval-checks``: the scenario table and the clean-seed false alarms
"""
