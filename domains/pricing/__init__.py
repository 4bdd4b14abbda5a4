"""The pricing domain."""
