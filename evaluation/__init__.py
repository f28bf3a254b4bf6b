"""Evaluation of the anomaly checks.

``evaluation.fast``         ``make eval-checks``: the power table (scenario × effect × account size →
                            detection rate over seeds) and the false alarms per check, without dbt
                            for the funnel relations (``python -m evaluation.fast.power``)
``evaluation.load``         a sandbox file -> a fresh DuckDB warehouse (raw_hubspot), no HTTP
``evaluation.pipeline``     one scenario end to end: build, load, dbt build, checks (the end-to-end
                            test of ``tests/anomaly_scenarios`` runs one anomaly and one clean seed)
``evaluation.scenarios``    the sandbox-level scenarios those end-to-end runs use
"""
