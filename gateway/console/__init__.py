"""The operators' console on ``/console``: a static page fed by the gateway's own GraphQL,
subscriptions and ``/console/kpis`` (docs/operations.md, "The console")."""
