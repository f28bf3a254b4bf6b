"""Funnel anomaly checks: `stats` (pure statistics) and `checks` (`run_all(con, as_of_date)`)."""
