"""The GraphQL-over-HTTP front door: endpoint, GraphiQL, health and correlation ids."""
