from adapters.cache.read_model import ReadModel
from adapters.cache.store import MemoryStore, RedisStore, Store

__all__ = ["MemoryStore", "ReadModel", "RedisStore", "Store"]
