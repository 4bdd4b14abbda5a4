"""The envelope every domain event travels in, from the outbox to the bus to consumers."""

from __future__ import annotations

import builtins
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from kernel.payloads import EventPayload, MalformedPayload

PayloadT = TypeVar("PayloadT", bound=EventPayload)


@dataclass(frozen=True, slots=True)
class Event:
    """One fact that happened, in the one envelope every bus, outbox and feed carries.

    ``partition_key`` orders events: consumers see events with the same key in the
    order they were recorded (sku+location for stock, order id for orders).
    """

    type: str
    partition_key: str
    payload: dict[str, Any]
    # From the clock of the use case that recorded it, never the machine's own.
    occurred_at: datetime
    version: int = 1
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    correlation_id: str | None = None
    causation_id: str | None = None
    # The W3C trace context of the request that recorded it, when tracing was on: the
    # work the event causes later (an ERP post) links back to that request's trace.
    traceparent: str | None = None

    @classmethod
    def of(
        cls,
        payload: EventPayload,
        *,
        partition_key: str,
        occurred_at: datetime,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> Event:
        """The event announcing ``payload``: its type and version come from its contract."""
        return cls(
            type=payload.TYPE,
            version=payload.VERSION,
            partition_key=partition_key,
            payload=payload.to_payload(),
            occurred_at=occurred_at,
            correlation_id=correlation_id,
            causation_id=causation_id,
        )

    def payload_as(self, contract: builtins.type[PayloadT]) -> PayloadT:
        """The payload read as ``contract``, which must be this event's type; raises
        ``MalformedPayload`` when it is another type or the payload breaks the contract."""
        if self.type != contract.TYPE:
            raise MalformedPayload(
                contract.TYPE, "event", f"is a {self.type} event, not a {contract.TYPE}"
            )
        return contract.from_payload(self.payload)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "version": self.version,
            "occurredAt": self.occurred_at.isoformat(),
            "correlationId": self.correlation_id,
            "causationId": self.causation_id,
            "partitionKey": self.partition_key,
            "payload": self.payload,
            "traceparent": self.traceparent,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        return cls(
            id=data["id"],
            type=data["type"],
            version=data.get("version", 1),
            occurred_at=datetime.fromisoformat(data["occurredAt"]),
            correlation_id=data.get("correlationId"),
            causation_id=data.get("causationId"),
            partition_key=data["partitionKey"],
            payload=data["payload"],
            traceparent=data.get("traceparent"),
        )
