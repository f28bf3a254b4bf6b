"""`make report`: one self-contained, offline HTML file of charts over the published marts.

- ``data.py``: reads the published marts (read-only DuckDB file), one function per query;
- ``figure.py``: what a chart is, :class:`figure.Chart` (a Plotly figure plus the figures it
  shows as a table);
- ``charts.py`` (deals, leads, funnel) and ``charts_pipeline.py``, ``charts_forecast.py``,
  ``charts_marketing.py``: one function per chart, returning a Chart or None when its mart is
  not published; ``charts.CHARTS`` lists them in page order;
- ``data_marts.py``: the queries of the pipeline, forecast and marketing charts;
- ``build.py``: assembles the page (plotly.js inlined once, no network needed) and writes it.

Adding a chart for a new mart = one function in a ``charts*.py`` module appended to ``CHARTS``.
"""
