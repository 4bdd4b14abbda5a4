"""Every event type's payload contract: it survives its own wire form and JSON, it keeps
the wire shape events already on the bus have, and it refuses malformed payloads clearly."""

from __future__ import annotations

import dataclasses
import json
import re
import types
import typing
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel import event_types as contracts
from kernel.event_types import (
    CONTRACTS,
    EventPayload,
    MalformedPayload,
    OrderCreated,
    OrderLinesCancelled,
    PromotionCreated,
    StockChanged,
)
from kernel.events import Event

AT = datetime(2026, 11, 22, 12, 30, tzinfo=UTC)
LATER = "2026-12-01T00:00:00+00:00"

ALL_CONTRACTS = sorted(CONTRACTS.values(), key=lambda contract: contract.TYPE)

_decimals = st.decimals(allow_nan=False, allow_infinity=False)
_moments = st.datetimes(
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(-timedelta(hours=5))])
)
_SCALARS: dict[object, st.SearchStrategy[Any]] = {
    str: st.text(max_size=12),
    int: st.integers(min_value=-(2**53), max_value=2**53),
    bool: st.booleans(),
    Decimal: _decimals,
    datetime: _moments,
}
# Amounts by currency travel as a JSON object: one amount per currency, in currency order.
_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "amounts": st.dictionaries(st.text(max_size=3), _decimals, max_size=3).map(
        lambda amounts: tuple(sorted(amounts.items()))
    ),
}


def _strategy(hint: object) -> st.SearchStrategy[Any]:
    if hint in _SCALARS:
        return _SCALARS[hint]
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return instances(hint)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        return st.one_of(*(_strategy(arg) for arg in args))
    if hint is type(None):
        return st.none()
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return st.lists(_strategy(args[0]), max_size=3).map(tuple)
    if origin is tuple:
        return st.tuples(*(_strategy(arg) for arg in args))
    raise AssertionError(f"no strategy for {hint!r}")


def instances(cls: type) -> st.SearchStrategy[Any]:
    """Any value of a contract's dataclass, field by field from its type hints."""
    hints = typing.get_type_hints(cls)
    return st.builds(
        cls,
        **{
            field.name: _FIELDS[field.name]
            if field.name in _FIELDS
            else _strategy(hints[field.name])
            for field in dataclasses.fields(cls)
        },
    )


def test_every_event_type_has_one_contract_with_a_type_and_a_version() -> None:
    assert len(CONTRACTS) == len(ALL_CONTRACTS) == 28
    for event_type, contract in CONTRACTS.items():
        assert event_type == contract.TYPE
        assert contract.VERSION == 1
        assert dataclasses.is_dataclass(contract)
        assert contract.__dataclass_params__.frozen  # type: ignore[attr-defined]


@pytest.mark.parametrize("contract", ALL_CONTRACTS, ids=lambda contract: contract.TYPE)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_payload_round_trips_through_its_wire_form_and_json(
    contract: type[EventPayload], data: st.DataObject
) -> None:
    value = data.draw(instances(contract))
    payload = value.to_payload()
    assert contract.from_payload(payload) == value
    sent = json.loads(json.dumps(payload))
    assert contract.from_payload(sent) == value
    assert contract.from_payload(sent).to_payload() == payload


# Payloads as the domains have written them to their outboxes: each must decode and
# encode back to exactly the same JSON.
_ORDER = {
    "orderId": "o-1",
    "number": "RG-0000001",
    "idempotencyKey": "checkout-1",
    "locationId": "DC-NORTH",
}
_LINES = [{"lineId": "l-1", "position": 1, "sku": "A-1", "quantity": 2}]
_RESERVATION = {
    "id": "r-1",
    "sku": "A-1",
    "locationId": "DC-NORTH",
    "quantity": 2,
    "expiresAt": LATER,
    "orderReference": None,
}
_TERMS = {
    "name": "Winter sale",
    "skus": ["A-1"],
    "categories": [],
    "channels": ["web"],
    "segments": [],
    "startsAt": "2026-11-01T00:00:00+00:00",
    "endsAt": LATER,
    "kind": "PERCENT_OFF",
    "percent": "10",
    "amounts": {},
    "buy": None,
    "get": None,
    "priority": 0,
    "stacking": "EXCLUSIVE",
    "lowStockThreshold": 5,
    "autoResume": True,
}
_PROMOTION = {"promotionId": "p-1", "version": 2, "status": "ACTIVE", "terms": _TERMS}
WIRE: dict[str, dict[str, Any]] = {
    "OrderCreated": {
        "orderId": "o-1",
        "number": "RG-0000001",
        "idempotencyKey": "checkout-1",
        "channel": "web",
        "customerReference": "cust-9",
        "fulfilment": {"type": "PICKUP_AT_STORE", "locationId": "STORE-1"},
        "currency": "EUR",
        "lines": [
            {
                "lineId": "l-1",
                "sku": "A-1",
                "quantity": 4,
                "unitPrice": "9.99",
                "promotionalUnitPrice": "7.4925",
                "taxRate": "0.20",
            }
        ],
        "totals": {"subtotal": "39.96", "discount": "9.99", "tax": "5.00", "total": "29.97"},
    },
    "OrderStatusChanged": {**_ORDER, "from": "PENDING", "to": "CONFIRMED", "reason": "confirmed"},
    "OrderLinesShipped": {**_ORDER, "reference": "SHIP-1", "lines": _LINES},
    "OrderLinesCancelled": {**_ORDER, "reason": "", "lines": _LINES, "wholeOrder": True},
    "OrderReturnRequested": {**_ORDER, "reason": "too small", "lines": _LINES},
    "OrderReturnReceived": {
        **_ORDER,
        "reference": "RET-1",
        "disposition": "RESTOCK",
        "lines": _LINES,
    },
    "OrderRefunded": {
        **_ORDER,
        "reference": "",
        "amount": "16.00",
        "currency": "EUR",
        "lines": _LINES,
    },
    "StockChanged": {
        "sku": "A-1",
        "locationId": "DC-NORTH",
        "onHand": 10,
        "committed": 2,
        "reserved": 1,
        "safetyStock": 1,
        "quarantined": 0,
        "incoming": 5,
        "available": 6,
    },
    "AvailabilityChanged": {"sku": "A-1", "channel": "web", "available": 6},
    "RegionalAvailabilityChanged": {"sku": "A-1", "region": "north", "available": 6},
    "ChannelPolicyChanged": {"channel": "store", "countsIncoming": True},
    "ReservationCreated": {**_RESERVATION, "status": "ACTIVE"},
    "ReservationReleased": {**_RESERVATION, "status": "RELEASED"},
    "ReservationExpired": {**_RESERVATION, "status": "EXPIRED", "orderReference": "o-1"},
    "ReservationConsumed": {**_RESERVATION, "status": "CONSUMED"},
    "PriceChanged": {
        "sku": "A-1",
        "currency": "EUR",
        "channel": "*",
        "oldAmount": None,
        "newAmount": "19.99",
    },
    "PriceScheduled": {
        "sku": "A-1",
        "currency": "EUR",
        "channel": "*",
        "amount": "24.99",
        "effectiveFrom": "2026-11-01T00:00:00+00:00",
    },
    "SkuPricingChanged": {"sku": "A-1", "category": None, "taxRate": "0.2"},
    "PromotionCreated": {**_PROMOTION, "version": 1, "status": "DRAFT"},
    "PromotionVersionPublished": _PROMOTION,
    "PromotionActivated": _PROMOTION,
    "PromotionPaused": {**_PROMOTION, "status": "PAUSED"},
    "PromotionRolledBack": {
        **_PROMOTION,
        "terms": {**_TERMS, "kind": "AMOUNT_OFF", "percent": None, "amounts": {"EUR": "5.00"}},
    },
    "PromotionStatusChanged": {
        "promotionId": "p-1",
        "sku": "A-1",
        "region": "north",
        "status": "PAUSED",
        "reason": "LOW_STOCK",
        "available": 3,
        "threshold": 5,
        "channels": ["app", "web"],
    },
    "ProductUpserted": {
        "sku": "ST-0001-01",
        "name": "Jacket",
        "description": "Warm",
        "brand": "North",
        "category": "apparel/outerwear",
        "unitOfMeasure": "EA",
        "style": "ST-0001",
        "attributes": [["material", "wool"]],
        "variantAttributes": [["size", "M"]],
        "status": "active",
        "publications": [["web", True, "2026-11-22T12:00:00+00:00"]],
        "created": True,
    },
    "ProductPublished": {"sku": "ST-0001-01", "channel": "web", "since": LATER},
    "ProductUnpublished": {"sku": "ST-0001-01", "channel": "app", "since": LATER},
    "ProductDiscontinued": {"sku": "ST-0001-01", "at": LATER},
}


def test_every_contract_has_a_wire_example() -> None:
    assert set(WIRE) == set(CONTRACTS)


@pytest.mark.parametrize("event_type", sorted(WIRE))
def test_payloads_on_the_bus_today_decode_and_encode_back_unchanged(event_type: str) -> None:
    payload = WIRE[event_type]
    assert CONTRACTS[event_type].from_payload(payload).to_payload() == payload


def test_money_and_rates_stay_decimal_strings_on_the_wire() -> None:
    created = OrderCreated.from_payload(WIRE["OrderCreated"])
    (line,) = created.lines
    assert line.promotional_unit_price == Decimal("7.4925")
    assert created.totals.total == Decimal("29.97")
    assert created.to_payload()["lines"][0]["taxRate"] == "0.20"
    assert created.to_payload()["totals"]["total"] == "29.97"


def test_unknown_keys_are_ignored_for_forward_compatibility() -> None:
    newer = {**WIRE["StockChanged"], "inTransitByCarrier": {"DHL": 3}}
    assert StockChanged.from_payload(newer) == StockChanged.from_payload(WIRE["StockChanged"])


def test_order_events_recorded_before_checkout_named_reservations_still_decode() -> None:
    older = {key: value for key, value in WIRE["OrderLinesCancelled"].items()}
    del older["idempotencyKey"]
    older["lines"] = [{"lineId": "l-1", "sku": "A-1", "quantity": 2}]
    cancelled = OrderLinesCancelled.from_payload(older)
    assert cancelled.idempotency_key is None
    assert cancelled.lines[0].position is None
    assert cancelled.to_payload()["lines"] == older["lines"]


def test_promotion_terms_published_before_auto_resume_existed_still_decode() -> None:
    terms = {key: value for key, value in _TERMS.items() if key != "autoResume"}
    created = PromotionCreated.from_payload({**_PROMOTION, "terms": terms})
    assert created.terms.auto_resume is False


@pytest.mark.parametrize(
    ("event_type", "change", "message"),
    [
        ("StockChanged", {"onHand": None}, "StockChanged payload: onHand is null"),
        ("StockChanged", {"onHand": "10"}, "StockChanged payload: onHand should be an integer"),
        ("StockChanged", {"onHand": True}, "StockChanged payload: onHand should be an integer"),
        ("StockChanged", {"onHand": 10.0}, "StockChanged payload: onHand should be an integer"),
        ("AvailabilityChanged", {"sku": 7}, "AvailabilityChanged payload: sku should be a string"),
        (
            "ChannelPolicyChanged",
            {"countsIncoming": "yes"},
            "ChannelPolicyChanged payload: countsIncoming should be true or false",
        ),
        (
            "PriceChanged",
            {"newAmount": 19.99},
            "PriceChanged payload: newAmount should be a string",
        ),
        (
            "PriceChanged",
            {"newAmount": "19,99"},
            "PriceChanged payload: newAmount should be a decimal number, not '19,99'",
        ),
        (
            "PriceChanged",
            {"newAmount": "NaN"},
            "PriceChanged payload: newAmount should be a finite decimal number",
        ),
        (
            "ProductDiscontinued",
            {"at": "yesterday"},
            "ProductDiscontinued payload: at should be an ISO 8601 date and time",
        ),
        (
            "OrderCreated",
            {"fulfilment": {"type": "SHIP_FROM_DC"}},
            "OrderCreated payload: fulfilment.locationId is missing",
        ),
        (
            "OrderCreated",
            {"lines": [{"lineId": "l-1", "sku": "A-1", "quantity": 1}]},
            "OrderCreated payload: lines[0].unitPrice is missing",
        ),
        ("OrderCreated", {"lines": {"l-1": 1}}, "OrderCreated payload: lines should be an array"),
        (
            "OrderLinesCancelled",
            {"lines": ["l-1"]},
            "OrderLinesCancelled payload: lines[0] is not an object",
        ),
        (
            "PromotionStatusChanged",
            {"channels": ["web", 3]},
            "PromotionStatusChanged payload: channels[1] should be a string",
        ),
        (
            "PromotionPaused",
            {"terms": {**_TERMS, "amounts": {"EUR": 5}}},
            "PromotionPaused payload: terms.amounts.EUR should be a string",
        ),
        (
            "ProductUpserted",
            {"attributes": [["material"]]},
            "ProductUpserted payload: attributes[0] should be an array of 2",
        ),
        (
            "ProductUpserted",
            {"publications": [["web", "yes", LATER]]},
            "ProductUpserted payload: publications[0][1] should be true or false",
        ),
    ],
)
def test_a_malformed_payload_is_refused_naming_the_type_and_the_field(
    event_type: str, change: dict[str, Any], message: str
) -> None:
    payload = {**WIRE[event_type], **change}
    with pytest.raises(MalformedPayload, match="^" + _escaped(message)):
        CONTRACTS[event_type].from_payload(payload)


# Fields one contract alone may leave out: a promotion's window opening or closing is
# about the whole promotion, so it names no SKU, region or units.
OPTIONAL_IN = {"PromotionStatusChanged": {"sku", "region", "available"}}


def test_a_window_transition_is_a_status_change_of_the_whole_promotion() -> None:
    payload = {
        "promotionId": "p-1",
        "status": "ACTIVE",
        "reason": "WINDOW_STARTED",
        "threshold": None,
        "channels": ["app", "store", "web"],
        "version": 2,
    }
    changed = contracts.PromotionStatusChanged.from_payload(payload)
    assert (changed.sku, changed.region, changed.available) == (None, None, None)
    assert changed.promotion_version == 2
    assert changed.to_payload() == payload


def test_promotion_scopes_are_left_out_when_empty_and_kept_when_set() -> None:
    scoped = {**_PROMOTION, "terms": {**_TERMS, "regions": ["north"], "locations": ["ST"]}}
    created = PromotionCreated.from_payload(scoped)
    assert (created.terms.regions, created.terms.locations) == (("north",), ("ST",))
    assert created.to_payload() == scoped
    assert PromotionCreated.from_payload(_PROMOTION).terms.regions == ()


@pytest.mark.parametrize("event_type", sorted(WIRE))
def test_a_payload_missing_any_required_field_is_refused(event_type: str) -> None:
    contract = CONTRACTS[event_type]
    optional = {"idempotencyKey", "orderReference", "oldAmount", "category", "threshold"}
    optional |= OPTIONAL_IN.get(event_type, set())
    for key in WIRE[event_type].keys() - optional:
        payload = {k: v for k, v in WIRE[event_type].items() if k != key}
        with pytest.raises(MalformedPayload, match=f"^{event_type} payload: {key} is missing$"):
            contract.from_payload(payload)


def test_a_payload_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(MalformedPayload, match=r"^StockChanged payload: payload is not an object"):
        StockChanged.from_payload(["A-1"])  # type: ignore[arg-type]


def test_event_of_takes_the_type_and_version_from_the_contract() -> None:
    changed = StockChanged.from_payload(WIRE["StockChanged"])
    event = Event.of(changed, partition_key="A-1@DC-NORTH", occurred_at=AT, correlation_id="c")
    assert (event.type, event.version, event.partition_key) == ("StockChanged", 1, "A-1@DC-NORTH")
    assert (event.occurred_at, event.correlation_id) == (AT, "c")
    assert event.payload == WIRE["StockChanged"]
    assert Event.from_dict(json.loads(json.dumps(event.to_dict()))).payload_as(StockChanged) == (
        changed
    )


def test_reading_an_event_as_another_type_is_refused() -> None:
    event = Event.of(
        StockChanged.from_payload(WIRE["StockChanged"]), partition_key="A-1@DC", occurred_at=AT
    )
    with pytest.raises(
        MalformedPayload, match=r"^AvailabilityChanged payload: event is a StockChanged event"
    ):
        event.payload_as(contracts.AvailabilityChanged)


def _escaped(text: str) -> str:
    return re.escape(text)
