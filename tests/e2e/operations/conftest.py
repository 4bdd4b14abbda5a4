from tests.e2e.operations.support import embedded

__all__ = ["embedded"]
