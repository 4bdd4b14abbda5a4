"""The ERP integration: the port, its Tryton and simulator adapters, outbound posting
and inbound sync."""
