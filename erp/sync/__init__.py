"""Inbound: stock moves, shipments, item master and price imports, reconciliation."""
