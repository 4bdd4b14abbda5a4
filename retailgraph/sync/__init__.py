"""Inbound sync from the ERP: stock moves, shipment confirmations, the item master and
price lists, and the inventory reconciliation. It composes the domains' services, so it
lives outside them (a domain never imports another)."""
