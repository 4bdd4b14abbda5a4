"""Tryton over JSON-RPC."""
