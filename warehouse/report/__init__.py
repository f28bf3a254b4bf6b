"""`make report`: one self-contained, offline HTML file of charts over the published marts.

- ``data.py``: reads the published marts (read-only DuckDB file), one function per query;
- ``charts.py``: one function per chart, each returning a :class:`charts.Chart` (a Plotly
  figure plus the figures it shows as a table), or None when its mart is not published;
- ``build.py``: assembles the page (plotly.js inlined once, no network needed) and writes it.

Adding a chart for a new mart = one function in ``charts.py`` appended to ``CHARTS``.
"""
