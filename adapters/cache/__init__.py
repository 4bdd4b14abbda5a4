from adapters.cache.read_model import ReadModel
from adapters.cache.store import MemoryStore, RedisStore, Store, store_from_env

__all__ = ["MemoryStore", "ReadModel", "RedisStore", "Store", "store_from_env"]
