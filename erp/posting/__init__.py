"""Outbound: the documents owed for order changes, posted exactly once."""
