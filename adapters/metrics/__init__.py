"""The business KPIs operators watch (docs/operations.md), as Prometheus metrics in the
process's default registry: counters counted where things happen (``counters``), and
gauges read from the databases by a background task and served from its cache
(``gauges``)."""
