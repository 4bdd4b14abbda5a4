"""The orders tables and their mapping to and from the model."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)
from sqlalchemy.types import TypeDecorator

from adapters.db.outbox import outbox_table
from adapters.db.postings import posting_state_columns
from domains.orders.model import (
    Fulfilment,
    FulfilmentType,
    HistoryEntry,
    Order,
    OrderLine,
    OrderStatus,
)
from kernel.clock import as_utc


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal stored as text: exact on SQLite, which has no decimal type.

    ``length=None`` is the text without a bound, for a parameter whose value a column
    then stores (and checks against its own length).
    """

    impl = String
    cache_ok = True

    def __init__(self, length: int | None = 40) -> None:
        super().__init__(length)
        # Part of the type's cache key (a constructor argument kept under its name).
        self.length = length

    def process_bind_param(self, value: Decimal | None, dialect: Any) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: str | None, dialect: Any) -> Decimal | None:
        return None if value is None else Decimal(value)


metadata = MetaData()

orders = Table(
    "orders_orders",
    metadata,
    # ``seq`` gives the human-readable number and breaks keyset ties.
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("id", String(36), nullable=False, unique=True),
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("channel", String(16), nullable=False),
    Column("customer_reference", String(200), nullable=False),
    Column("fulfilment_type", String(32), nullable=False),
    Column("location_id", String(100), nullable=False, index=True),
    Column("currency", String(3), nullable=False),
    Column("status", String(32), nullable=False, index=True),
    Column("correlation_id", String(100)),
    Column("request_fingerprint", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # History and applied references are only ever read with their order: keeping
    # them on the row keeps an order load at one statement (plus one for lines).
    Column("history", JSON, nullable=False),
    Column("applied_references", JSON, nullable=False),
    Index("ix_orders_orders_created", "created_at", "seq"),
    Index("ix_orders_orders_channel_created", "channel", "created_at"),
)

lines = Table(
    "orders_lines",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("order_id", String(36), ForeignKey("orders_orders.id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("sku", String(64), nullable=False, index=True),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", ExactDecimal(), nullable=False),
    Column("promotional_unit_price", ExactDecimal(), nullable=False),
    Column("tax_rate", ExactDecimal(), nullable=False),
    Column("quantity_cancelled", Integer, nullable=False),
    Column("quantity_shipped", Integer, nullable=False),
    Column("quantity_return_requested", Integer, nullable=False),
    Column("quantity_returned", Integer, nullable=False),
    Column("quantity_refunded", Integer, nullable=False),
)

outbox = outbox_table(metadata, "orders")

# ERP documents owed for order changes, written with them (see erp_postings);
# ``seq`` orders the postings of one order, which the ERP must receive in that order.
erp_postings = Table(
    "orders_erp_postings",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("order_id", String(36), ForeignKey("orders_orders.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("reference", String(100), nullable=False, unique=True),
    Column("payload", JSON, nullable=False),
    *posting_state_columns(document_id_length=100),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # The W3C trace context of the request that changed the order: the post links to it.
    Column("traceparent", String(64)),
    Index("ix_orders_erp_postings_due", "status", "next_attempt_at"),
    # The console's backlog history reads what was posted in the last hour.
    Index("ix_orders_erp_postings_posted_at", "posted_at"),
)

# The lifecycle steps clients asked for under an idempotency key (``service.change_order``):
# a repeat of the key answers without making the step again, and a key reused for
# another request (``fingerprint``: the step, the order and the arguments) is refused.
step_requests = Table(
    "orders_step_requests",
    metadata,
    Column("idempotency_key", String(200), primary_key=True),
    Column("order_id", String(36), ForeignKey("orders_orders.id"), nullable=False, index=True),
    Column("fingerprint", String(64), nullable=False),
    Column("correlation_id", String(100)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

LINE_QUANTITIES = (
    "quantity_cancelled",
    "quantity_shipped",
    "quantity_return_requested",
    "quantity_returned",
    "quantity_refunded",
)


def order_values(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "idempotency_key": order.idempotency_key,
        "channel": order.channel,
        "customer_reference": order.customer_reference,
        "fulfilment_type": order.fulfilment.type.value,
        "location_id": order.fulfilment.location_id,
        "currency": order.currency,
        "status": order.status.value,
        "correlation_id": order.correlation_id,
        "request_fingerprint": order.request_fingerprint,
        "created_at": as_utc(order.created_at),
        "updated_at": as_utc(order.updated_at),
        "history": [entry.to_dict() for entry in order.history],
        "applied_references": list(order.applied_references),
    }


def line_values(order_id: str, line: OrderLine) -> dict[str, Any]:
    return {
        "id": line.id,
        "order_id": order_id,
        "position": line.position,
        "sku": line.sku,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "promotional_unit_price": line.promotional_unit_price,
        "tax_rate": line.tax_rate,
        **{name: getattr(line, name) for name in LINE_QUANTITIES},
    }


def line_from_row(row: Any) -> OrderLine:
    return OrderLine(
        id=row.id,
        position=row.position,
        sku=row.sku,
        quantity=row.quantity,
        unit_price=row.unit_price,
        promotional_unit_price=row.promotional_unit_price,
        tax_rate=row.tax_rate,
        **{name: getattr(row, name) for name in LINE_QUANTITIES},
    )


def order_from_rows(row: Any, line_rows: list[Any]) -> Order:
    return Order(
        id=row.id,
        idempotency_key=row.idempotency_key,
        channel=row.channel,
        customer_reference=row.customer_reference,
        fulfilment=Fulfilment(FulfilmentType(row.fulfilment_type), row.location_id),
        currency=row.currency,
        lines=sorted((line_from_row(r) for r in line_rows), key=lambda line: line.position),
        status=OrderStatus(row.status),
        history=[HistoryEntry.from_dict(entry) for entry in row.history],
        correlation_id=row.correlation_id,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        sequence=row.seq,
        request_fingerprint=row.request_fingerprint,
        applied_references=list(row.applied_references),
    )
