"""What an event says, as a typed contract, and how a payload is read strictly: each
required field present with its JSON type.

Payloads arrive from outboxes, Redis Streams and subscription feeds as decoded JSON. A
payload that does not match its contract is refused with ``MalformedPayload`` naming the
event type and the field, so a bad producer shows up where its event is read instead of
as a ``KeyError`` deep in a consumer. Keys a contract does not know are ignored: a newer
producer may add fields that older consumers have not learnt yet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Self


class MalformedPayload(ValueError):
    """An event's payload does not match the contract of its type."""

    def __init__(self, event_type: str, where: str, problem: str) -> None:
        super().__init__(f"{event_type} payload: {where} {problem}")
        self.event_type = event_type
        self.where = where
        self.problem = problem


class EventPayload:
    """What an event of one type says: a typed contract between its producer and every
    consumer, with the JSON shape (camelCase keys) it has on the wire.

    Each contract names its event ``TYPE`` and the ``VERSION`` of its payload's shape;
    ``from_payload`` refuses a payload that lacks a required field or has one of the wrong
    type (``MalformedPayload``) and ignores keys it does not know.
    """

    __slots__ = ()

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1

    def to_payload(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        raise NotImplementedError


_MISSING = object()


class PayloadReader:
    """The fields of one JSON object within an event payload (the payload itself, or an
    object nested in it), each read as the type its contract declares."""

    def __init__(self, event_type: str, data: object, where: str = "payload") -> None:
        if not isinstance(data, Mapping):
            raise MalformedPayload(event_type, where, f"is not an object: {_shown(data)}")
        self._event_type = event_type
        self._data: Mapping[str, Any] = data
        self._where = where

    def _path(self, key: str) -> str:
        return key if self._where == "payload" else f"{self._where}.{key}"

    def _refuse(self, key: str, problem: str) -> MalformedPayload:
        return MalformedPayload(self._event_type, self._path(key), problem)

    def _required(self, key: str) -> Any:
        value = self._data.get(key, _MISSING)
        if value is _MISSING:
            raise self._refuse(key, "is missing")
        if value is None:
            raise self._refuse(key, "is null")
        return value

    def _typed(self, key: str, value: Any, kind: type | tuple[type, ...], name: str) -> Any:
        # bool is an int to Python, never to a contract.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self._refuse(key, f"should be {name}, not {_shown(value)}")
        return value

    def has(self, key: str) -> bool:
        return self._data.get(key) is not None

    def text(self, key: str) -> str:
        value: str = self._typed(key, self._required(key), str, "a string")
        return value

    def optional_text(self, key: str) -> str | None:
        return self.text(key) if self.has(key) else None

    def integer(self, key: str) -> int:
        value: int = self._typed(key, self._required(key), int, "an integer")
        return value

    def optional_integer(self, key: str) -> int | None:
        return self.integer(key) if self.has(key) else None

    def boolean(self, key: str) -> bool:
        value: bool = self._typed(key, self._required(key), bool, "true or false")
        return value

    def optional_boolean(self, key: str, default: bool) -> bool:
        return self.boolean(key) if self.has(key) else default

    def decimal(self, key: str) -> Decimal:
        """An amount, rate or percentage: a decimal string, never a float that would lose
        cents on the way."""
        return self._parsed_decimal(key, self.text(key))

    def optional_decimal(self, key: str) -> Decimal | None:
        return self.decimal(key) if self.has(key) else None

    def _parsed_decimal(self, key: str, text: str) -> Decimal:
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise self._refuse(key, f"should be a decimal number, not {text!r}") from None
        if not value.is_finite():
            raise self._refuse(key, f"should be a finite decimal number, not {text!r}")
        return value

    def moment(self, key: str) -> datetime:
        """A point in time in ISO 8601, as ``datetime.isoformat`` writes it."""
        return self._parsed_moment(key, self.text(key))

    def _parsed_moment(self, key: str, text: str) -> datetime:
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            raise self._refuse(key, f"should be an ISO 8601 date and time, not {text!r}") from None

    def texts(self, key: str) -> tuple[str, ...]:
        return tuple(
            self._typed(f"{key}[{index}]", item, str, "a string")
            for index, item in enumerate(self._list(key))
        )

    def decimals_by_text(self, key: str) -> tuple[tuple[str, Decimal], ...]:
        """An object of decimal strings (amounts by currency), as pairs in key order."""
        found = self._typed(key, self._required(key), Mapping, "an object")
        pairs = []
        for name, value in sorted(found.items()):
            where = f"{key}.{name}"
            pairs.append(
                (name, self._parsed_decimal(where, self._typed(where, value, str, "a string")))
            )
        return tuple(pairs)

    def tuples(self, key: str, width: int) -> tuple[tuple[Any, ...], ...]:
        """A list of fixed-width arrays (pairs, triples), each checked for its width only."""
        rows = []
        for index, item in enumerate(self._list(key)):
            where = f"{key}[{index}]"
            if not isinstance(item, (list, tuple)) or len(item) != width:
                raise self._refuse(where, f"should be an array of {width}, not {_shown(item)}")
            rows.append(tuple(item))
        return tuple(rows)

    def element(self, key: str, value: Any, kind: type | tuple[type, ...], name: str) -> Any:
        """One item of an array read with ``tuples`` (``key`` says where it is), checked
        for its JSON type."""
        return self._typed(key, value, kind, name)

    def element_moment(self, key: str, value: Any) -> datetime:
        """One item of an array read with ``tuples`` that holds an ISO 8601 moment."""
        return self._parsed_moment(key, self._typed(key, value, str, "a string"))

    def record(self, key: str) -> PayloadReader:
        return PayloadReader(self._event_type, self._required(key), self._path(key))

    def records(self, key: str) -> list[PayloadReader]:
        return [
            PayloadReader(self._event_type, item, f"{self._path(key)}[{index}]")
            for index, item in enumerate(self._list(key))
        ]

    def _list(self, key: str) -> Sequence[Any]:
        value: Sequence[Any] = self._typed(key, self._required(key), (list, tuple), "an array")
        return value


def reader(event_type: str, payload: object) -> PayloadReader:
    """The payload of an event of ``event_type``, ready to be read field by field."""
    return PayloadReader(event_type, payload)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
