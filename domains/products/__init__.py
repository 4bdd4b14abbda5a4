"""The products domain."""
