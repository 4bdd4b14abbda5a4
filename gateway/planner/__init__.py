"""Turning an operation into a plan of plain data."""
