"""The ERP simulator kept in a SQLite file, so that every process of the embedded default
(`retailgraph run`, `worker erp`, `worker stock`, `sync`, `reconcile`, `erp simulate`)
talks to one ERP, as they would to a real one.

Each call is one SQLite transaction; a write takes the file's write lock first (``BEGIN
IMMEDIATE``), so two processes never interleave their changes. A call never awaits while
it holds the lock (the simulated latency is waited for before), so coroutines of one
process cannot block each other on it either. The state is cached in the process and
read again only when another process has changed it (a version number in the file), and
a call writes only the rows it changed. The documents' logic is ``SimulatedErp``'s; this
module only decides where its state lives.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import sqlite3
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from pydantic import TypeAdapter

from erp.port import (
    DEFAULT_OVERLAP,
    Cancellation,
    ErpSale,
    Item,
    MovesPage,
    PriceListEntry,
    SalesOrder,
    StockLevel,
    StockMove,
    StockMovePosting,
)
from erp.simulator import Faults, SimulatedErp, SimulatorState
from kernel.clock import Clock

# The file's name in the embedded data folder (``[database] data_dir``).
SIMULATOR_FILE = "erp-simulator.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, key)
);
CREATE TABLE IF NOT EXISTS posts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    operation TEXT NOT NULL, reference TEXT NOT NULL, arrived_at TEXT NOT NULL
);
"""
# The outage's value while only posting fails and reads answer.
_POSTS = "posts"
_ITEM, _SALE, _MOVE = TypeAdapter(Item), TypeAdapter(ErpSale), TypeAdapter(StockMove)
_PRICE = TypeAdapter(PriceListEntry)
T = TypeVar("T")


@dataclass(frozen=True)
class Post:
    """A document the simulated ERP took, and when (on the simulator's clock)."""

    operation: str
    reference: str
    arrived_at: datetime.datetime


class StoredSimulator:
    """An ``ErpPort``: ``SimulatedErp`` with its state in the SQLite file at ``path``.

    ``seed`` gives the simulator a new file starts from (the demo retailer's, in the
    embedded default); a file that holds a state already keeps it.
    """

    def __init__(
        self,
        path: Path,
        *,
        clock: Clock,
        seed: Callable[[], SimulatedErp] | None = None,
        faults: Faults | None = None,
    ) -> None:
        self.path = path
        self._clock = clock
        self._seed = seed
        faults = faults or Faults()
        self._latency = faults.latency
        self._erp = SimulatedErp(faults=replace(faults, latency=0.0), clock=clock)
        self._version = -1
        # One connection per thread (sqlite3's rule): a test or a console may switch the
        # outage from another thread than the one serving the app.
        self._connections: dict[int, sqlite3.Connection] = {}
        # The cached state is the process's: one thread at a time works on it.
        self._guard = threading.RLock()

    # the file ------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        connection = self._connections.get(threading.get_ident())
        if connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(_SCHEMA)
            self._connections[threading.get_ident()] = connection
            with self._transaction(writes=True):
                if "version" not in self._meta(connection):
                    seeded = self._seed() if self._seed is not None else SimulatedErp()
                    self._write(connection, seeded.state(), SimulatorState())
                    self._put(connection, {"version": 0})
        return connection

    @contextmanager
    def _transaction(self, *, writes: bool) -> Iterator[sqlite3.Connection]:
        with self._guard:
            connection = self._connect()
            connection.execute("BEGIN IMMEDIATE" if writes else "BEGIN")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def _meta(self, connection: sqlite3.Connection) -> dict[str, str]:
        return dict(connection.execute("SELECT key, value FROM meta").fetchall())

    def _current(self, connection: sqlite3.Connection) -> SimulatorState:
        """The file's state in ``self._erp``, read again only when another process has
        changed it since."""
        meta = self._meta(connection)
        version = int(meta["version"])
        if version != self._version:
            self._erp.restore(self._read(connection, meta))
            self._version = version
        self._erp.outage = meta.get("outage") == "1"
        self._erp.posts_down = meta.get("outage") == _POSTS
        return self._erp.state()

    def _read(self, connection: sqlite3.Connection, meta: dict[str, str]) -> SimulatorState:
        state = SimulatorState(
            next_sale_id=int(meta.get("next_sale_id", 1)),
            next_move_id=int(meta.get("next_move_id", 1)),
        )
        for kind, key, value in connection.execute("SELECT kind, key, value FROM entries"):
            if kind == "item":
                state.items[key] = _ITEM.validate_json(value)
            elif kind == "stock":
                sku, location = json.loads(key)
                state.stock[(sku, location)] = Decimal(value)
            elif kind == "sale":
                state.sales[key] = _SALE.validate_json(value)
            elif kind == "move":
                state.moves[key] = _MOVE.validate_json(value)
            elif kind == "price":
                price_list, sku = json.loads(key)
                state.price_lines[(price_list, sku)] = _PRICE.validate_json(value)
        return state

    def _write(
        self, connection: sqlite3.Connection, now: SimulatorState, before: SimulatorState
    ) -> int | None:
        """The rows that differ between ``before`` and ``now``, and a new version when any
        did (so other processes read the state again): that version, or None."""
        changed: list[tuple[str, str, str]] = []
        removed: list[tuple[str, str]] = []
        for kind, after, then, encode in _tables(now, before):
            changed += [(kind, _key(k), encode(v)) for k, v in after.items() if then.get(k) != v]
            removed += [(kind, _key(k)) for k in then.keys() - after.keys()]
        counters = {"next_sale_id": now.next_sale_id, "next_move_id": now.next_move_id}
        moved = (now.next_sale_id, now.next_move_id) != (before.next_sale_id, before.next_move_id)
        if not (changed or removed or moved):
            return None
        connection.executemany(
            "INSERT INTO entries (kind, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value",
            changed,
        )
        connection.executemany("DELETE FROM entries WHERE kind = ? AND key = ?", removed)
        version = int(self._meta(connection).get("version", -1)) + 1
        self._put(connection, {**counters, "version": version})
        return version

    def _save(self, connection: sqlite3.Connection, before: SimulatorState) -> None:
        """What a call changed in ``self._erp``; the cache is then that version."""
        version = self._write(connection, self._erp.state(), before)
        if version is not None:
            self._version = version

    def _put(self, connection: sqlite3.Connection, values: dict[str, object]) -> None:
        connection.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [(key, str(value)) for key, value in values.items()],
        )

    def _change(self, change: Callable[[SimulatedErp], T]) -> T:
        """Run ``change`` on the simulator inside one write transaction; what it changed
        is written even when it raises (a sale created before the connection "dropped")."""
        with self._transaction(writes=True) as connection:
            before = _copy(self._current(connection))
            try:
                return change(self._erp)
            finally:
                self._save(connection, before)

    async def _read_only(self, operation: Callable[[SimulatedErp], Awaitable[T]]) -> T:
        if self._latency:
            await asyncio.sleep(self._latency)
        with self._transaction(writes=False) as connection:
            self._current(connection)
            return await operation(self._erp)

    async def _post(
        self, operation: str, reference: str, post: Callable[[SimulatedErp], Awaitable[str]]
    ) -> str:
        """One document posted, and when it arrived (the record a drain is checked by)."""
        if self._latency:
            await asyncio.sleep(self._latency)
        with self._transaction(writes=True) as connection:
            before = _copy(self._current(connection))
            try:
                document = await post(self._erp)
            finally:
                self._save(connection, before)
            connection.execute(
                "INSERT INTO posts (operation, reference, arrived_at) VALUES (?, ?, ?)",
                (operation, reference, self._clock.now().isoformat()),
            )
        return document

    # the ERP ---------------------------------------------------------------------------

    async def post_sales_order(self, order: SalesOrder) -> str:
        return await self._post(
            "post_sales_order", order.reference, lambda erp: erp.post_sales_order(order)
        )

    async def post_return(self, order: SalesOrder) -> str:
        return await self._post("post_return", order.reference, lambda erp: erp.post_return(order))

    async def post_cancellation(self, cancellation: Cancellation) -> str:
        return await self._post(
            "post_cancellation",
            # Each amendment under its own reference ("<order>/C<n>"), when it has one.
            cancellation.amendment or cancellation.reference,
            lambda erp: erp.post_cancellation(cancellation),
        )

    async def post_stock_move(self, move: StockMovePosting) -> str:
        return await self._post(
            "post_stock_move", move.reference, lambda erp: erp.post_stock_move(move)
        )

    async def find_sale(self, reference: str) -> ErpSale | None:
        return await self._read_only(lambda erp: erp.find_sale(reference))

    async def stock_levels(
        self, skus: list[str] | None = None, locations: list[str] | None = None
    ) -> list[StockLevel]:
        return await self._read_only(lambda erp: erp.stock_levels(skus, locations))

    async def stock_moves_since(
        self,
        watermark: datetime.datetime | None,
        overlap: datetime.timedelta = DEFAULT_OVERLAP,
    ) -> MovesPage:
        return await self._read_only(lambda erp: erp.stock_moves_since(watermark, overlap))

    async def shipment_moves(self, shipment: str) -> list[StockMove]:
        return await self._read_only(lambda erp: erp.shipment_moves(shipment))

    async def price_lists(self) -> list[PriceListEntry]:
        return await self._read_only(lambda erp: erp.price_lists())

    async def items(self) -> list[Item]:
        return await self._read_only(lambda erp: erp.items())

    async def close(self) -> None:
        connection = self._connections.pop(threading.get_ident(), None)
        if connection is not None:
            connection.close()

    # the operator's switch and what tests look at -------------------------------------

    @property
    def outage(self) -> bool:
        """Whether the simulated ERP is down: every call fails as unreachable."""
        with self._transaction(writes=False) as connection:
            return self._meta(connection).get("outage") == "1"

    @outage.setter
    def outage(self, down: bool) -> None:
        with self._transaction(writes=True) as connection:
            self._put(connection, {"outage": int(down)})

    @property
    def posts_down(self) -> bool:
        """Whether only posting fails as unreachable, while reads answer."""
        with self._transaction(writes=False) as connection:
            return self._meta(connection).get("outage") == _POSTS

    @posts_down.setter
    def posts_down(self, down: bool) -> None:
        with self._transaction(writes=True) as connection:
            self._put(connection, {"outage": _POSTS if down else 0})

    @property
    def history(self) -> bool:
        """Whether sales and cancellations this process posts are history the stock
        stands after already (``SimulatedErp.history``)."""
        return self._erp.history

    @history.setter
    def history(self, past: bool) -> None:
        self._erp.history = past

    def posts(self) -> list[Post]:
        """Every document the ERP took, in the order it took them."""
        with self._transaction(writes=False) as connection:
            rows = connection.execute(
                "SELECT operation, reference, arrived_at FROM posts ORDER BY seq"
            ).fetchall()
        return [Post(op, ref, datetime.datetime.fromisoformat(at)) for op, ref, at in rows]

    def sales(self) -> list[ErpSale]:
        """Every sale (and return) document the ERP holds."""
        with self._transaction(writes=False) as connection:
            return list(self._current(connection).sales.values())

    def sales_by_reference(self, reference: str) -> list[ErpSale]:
        with self._transaction(writes=False) as connection:
            self._current(connection)
            return self._erp.sales_by_reference(reference)

    def adjust_stock(self, sku: str, location: str, delta: Decimal) -> StockMove:
        """A change made inside the ERP (a receipt, a count correction)."""
        return self._change(lambda erp: erp.adjust_stock(sku, location, delta))

    def transfer_stock(self, sku: str, source: str, target: str, quantity: Decimal) -> StockMove:
        return self._change(lambda erp: erp.transfer_stock(sku, source, target, quantity))

    def set_prices(self, lines: list[PriceListEntry]) -> None:
        """Price list lines changed in the ERP (a mass price change)."""
        self._change(lambda erp: erp.set_prices(lines))


def _copy(state: SimulatorState) -> SimulatorState:
    return SimulatorState(
        dict(state.items),
        dict(state.stock),
        dict(state.sales),
        dict(state.moves),
        state.next_sale_id,
        state.next_move_id,
        dict(state.price_lines),
    )


def _tables(
    now: SimulatorState, before: SimulatorState
) -> list[tuple[str, dict[Any, Any], dict[Any, Any], Callable[[Any], str]]]:
    return [
        ("item", now.items, before.items, lambda item: _ITEM.dump_json(item).decode()),
        ("stock", now.stock, before.stock, str),
        ("sale", now.sales, before.sales, lambda sale: _SALE.dump_json(sale).decode()),
        ("move", now.moves, before.moves, lambda move: _MOVE.dump_json(move).decode()),
        ("price", now.price_lines, before.price_lines, lambda p: _PRICE.dump_json(p).decode()),
    ]


def _key(key: object) -> str:
    return json.dumps(list(key)) if isinstance(key, tuple) else str(key)
