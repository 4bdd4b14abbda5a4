"""Positioned event feeds: the live tail of a bus, and a replay of what came after a cursor.

The subscription hub (``adapters.bus.hub``) reads one feed per process. A feed numbers
what it delivers so that a subscriber can say where it stopped (a cursor) and be given
exactly what it missed:

- on the in-process bus a position is a sequence number, with a bounded buffer of recent
  events to replay from; a cursor names the feed instance, since numbers restart with it;
- on Redis Streams a position is the last entry id read on every shard, so a cursor from
  one replica resumes on any other (they all read the same streams).
"""

from __future__ import annotations

import re
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import orjson

from adapters.bus.inprocess import InProcessBus
from adapters.bus.redis_streams import RedisStreamsBus
from adapters.bus.stream_consumers import FanoutConsumer, _by_stream
from kernel.errors import DomainError, InvalidInput
from kernel.events import Event


class InvalidCursor(InvalidInput):
    code = "INVALID_CURSOR"


class CursorExpired(DomainError):
    """The events after this cursor are no longer kept: re-read the state, subscribe anew."""

    code = "CURSOR_EXPIRED"


# One shard's position: (stream id milliseconds, sequence); the in-process feed has one
# shard whose position is (sequence, 0).
Point = tuple[int, int]
Position = tuple[Point, ...]
# What a feed hands the hub for each event: the event, its shard and its position there.
Deliver = Callable[[Event, int, Point], None]


class Feed(Protocol):
    shards: int

    async def start(self, deliver: Deliver) -> None:
        """Deliver every event from now on; return once positioned (``head`` is valid)."""
        ...

    def head(self) -> Position:
        """The position of the last event delivered (or of the tail when started)."""
        ...

    async def replay(self, after: Position, upto: Position) -> list[tuple[Event, int, Point]]:
        """The events after ``after`` up to ``upto`` (inclusive) in order per shard."""
        ...

    def parse(self, cursor: str) -> Position: ...

    def format(self, position: Position) -> str: ...

    async def stop(self) -> None: ...


class InProcessFeed:
    """Numbers the in-process bus's events and keeps the last ``keep`` for replay."""

    shards = 1

    def __init__(self, bus: InProcessBus, *, keep: int = 10_000) -> None:
        self.bus = bus
        self.instance = uuid.uuid4().hex[:12]
        self._sequence = 0
        self._recent: deque[tuple[int, Event]] = deque(maxlen=keep)
        self._deliver: Deliver | None = None

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver
        self.bus.subscribe(self._on_event, fanout=True)

    async def _on_event(self, event: Event) -> None:
        self._sequence += 1
        self._recent.append((self._sequence, event))
        if self._deliver is not None:
            self._deliver(event, 0, (self._sequence, 0))

    def head(self) -> Position:
        return ((self._sequence, 0),)

    async def replay(self, after: Position, upto: Position) -> list[tuple[Event, int, Point]]:
        first, last = after[0][0], upto[0][0]
        oldest = self._recent[0][0] if self._recent else self._sequence + 1
        if first + 1 < oldest and first < last:
            raise CursorExpired("the events after this cursor are no longer kept")
        return [(event, 0, (seq, 0)) for seq, event in self._recent if first < seq <= last]

    def parse(self, cursor: str) -> Position:
        instance, _, sequence = cursor.partition(":")
        if not sequence.isdigit() or len(sequence) > 18:
            raise InvalidCursor(f"{cursor[:100]!r} is not a cursor this server gave out")
        if instance != self.instance:
            raise CursorExpired("this cursor is from before the server restarted")
        return ((int(sequence), 0),)

    def format(self, position: Position) -> str:
        return f"{self.instance}:{position[0][0]}"

    async def stop(self) -> None:
        self._deliver = None


_ENTRY_ID = re.compile(r"^(\d{1,15})-(\d{1,15})$")


def _point(entry_id: bytes | str) -> Point:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def _entry_id(point: Point) -> str:
    return f"{point[0]}-{point[1]}"


class _TailConsumer(FanoutConsumer):
    """The bus's fan-out reader, handing on each entry's shard and id with the event."""

    def __init__(self, bus: RedisStreamsBus, deliver: Deliver) -> None:
        super().__init__(bus, self._unused, None)
        self.deliver = deliver
        self.shard_of_stream = {bus.stream(shard): shard for shard in range(bus.shards)}

    @staticmethod
    async def _unused(event: Event) -> None:  # the fan-out handler; _round bypasses it
        return None

    def last(self, shard: int) -> Point:
        return _point(self._last[self.bus.stream(shard)])

    async def _round(self) -> None:
        response = await self.bus.client.xread(
            self._last, count=self.bus.batch_size, block=int(self.bus.block * 1000)
        )
        for stream, entries in _by_stream(response):
            shard = self.shard_of_stream[stream]
            for entry_id, fields in entries:
                self._last[stream] = entry_id
                if fields:
                    event = Event.from_dict(orjson.loads(fields[b"event"]))
                    self.deliver(event, shard, _point(entry_id))


class RedisStreamsFeed:
    """Tails every shard of the Redis Streams bus; replays with XRANGE from a cursor."""

    def __init__(self, bus: RedisStreamsBus, *, page: int = 500, max_replay: int = 50_000) -> None:
        self.bus = bus
        self.shards = bus.shards
        self.page = page
        # A client this far behind re-reads the state: replaying more would hold that
        # many events in memory for one subscriber.
        self.max_replay = max_replay
        self._consumer: _TailConsumer | None = None

    async def start(self, deliver: Deliver) -> None:
        consumer = self._consumer = _TailConsumer(self.bus, deliver)
        self.bus.consumers.append(consumer)  # so the bus's close() stops it too
        consumer.start()
        await consumer.ready.wait()

    def head(self) -> Position:
        assert self._consumer is not None
        return tuple(self._consumer.last(shard) for shard in range(self.shards))

    async def replay(self, after: Position, upto: Position) -> list[tuple[Event, int, Point]]:
        found: list[tuple[Event, int, Point]] = []
        for shard in range(self.shards):
            if upto[shard] <= after[shard]:
                continue
            stream = self.bus.stream(shard)
            await self._check_retained(stream, after[shard])
            start = f"({_entry_id(after[shard])}"
            while True:
                entries: list[
                    tuple[bytes, dict[bytes, bytes] | None]
                ] = await self.bus.client.xrange(
                    stream, min=start, max=_entry_id(upto[shard]), count=self.page
                )  # type: ignore[assignment]
                for entry_id, fields in entries:
                    if fields:
                        event = Event.from_dict(orjson.loads(fields[b"event"]))
                        found.append((event, shard, _point(entry_id)))
                if len(found) > self.max_replay:
                    raise CursorExpired("too many events since this cursor to replay them")
                if len(entries) < self.page:
                    break
                start = f"({entries[-1][0].decode()}"
        return found

    async def _check_retained(self, stream: str, after: Point) -> None:
        """Trimming (MAXLEN) drops the oldest entries. The entry a cursor stopped at is
        still there unless everything up to it was trimmed (then what followed it may
        have gone too); a cursor from an empty shard needs nothing ever trimmed."""
        client = self.bus.client
        if after != (0, 0):
            if await client.xrange(stream, min=_entry_id(after), max=_entry_id(after), count=1):
                return
        else:
            info: dict[Any, Any] = await client.xinfo_stream(stream)
            if int(info["entries-added"]) == int(info["length"]):
                return
        raise CursorExpired("the events after this cursor have been trimmed from the bus")

    def parse(self, cursor: str) -> Position:
        parts = cursor.split(",")
        matches = [_ENTRY_ID.match(part) for part in parts]
        if len(parts) != self.shards or not all(matches):
            raise InvalidCursor(f"{cursor[:100]!r} is not a cursor this server gave out")
        return tuple((int(m.group(1)), int(m.group(2))) for m in matches if m)

    def format(self, position: Position) -> str:
        return ",".join(_entry_id(point) for point in position)

    async def stop(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await consumer.stop()
            if consumer in self.bus.consumers:
                self.bus.consumers.remove(consumer)


def merge(position: Position, floor: Sequence[Point] | None) -> Position:
    """Per shard, the later of the two."""
    if floor is None:
        return position
    return tuple(max(a, b) for a, b in zip(position, floor, strict=True))
