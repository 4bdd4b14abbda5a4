from tests.integration.sync.fixtures import inventory, orders

__all__ = ["inventory", "orders"]
