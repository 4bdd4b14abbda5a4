from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domains.orders.erp_postings import PostingKind, PostingStatus, erp_sync_status, postings_for
from erp.posting.retry import RetryPolicy, after_failure
from kernel.events import Event
from tests.support import EVENT_TIME

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
POLICY = RetryPolicy(base_delay=1.0, max_delay=60.0, max_attempts=5)


@pytest.mark.parametrize(("attempts", "ceiling"), [(1, 1.0), (2, 2.0), (3, 4.0), (7, 60.0)])
def test_backoff_ceiling_doubles_per_attempt_up_to_the_cap(attempts: int, ceiling: float) -> None:
    assert POLICY.ceiling(attempts) == ceiling


def test_backoff_full_jitter_spans_zero_to_the_ceiling() -> None:
    assert POLICY.delay(3, draw=lambda: 0.0) == 0.0
    assert POLICY.delay(3, draw=lambda: 0.5) == 2.0
    assert POLICY.delay(3, draw=lambda: 0.999) == pytest.approx(3.996)


def test_backoff_ceiling_stays_at_the_cap_for_huge_attempt_counts() -> None:
    assert POLICY.ceiling(10_000) == 60.0


def test_retryable_failure_waits_the_jittered_backoff_and_keeps_the_error() -> None:
    outcome = after_failure(
        POLICY, attempts=2, error="ERP down", retryable=True, now=NOW, draw=lambda: 0.5
    )
    assert outcome.status is PostingStatus.PENDING
    assert outcome.next_attempt_at == NOW + timedelta(seconds=1)
    assert outcome.last_error == "ERP down"


def test_rate_limited_failure_waits_at_least_retry_after() -> None:
    outcome = after_failure(
        POLICY, attempts=1, error="429", retryable=True, now=NOW, retry_after=30, draw=lambda: 0.1
    )
    assert outcome.next_attempt_at == NOW + timedelta(seconds=30)


def test_failure_on_the_last_attempt_is_dead_lettered_with_its_error() -> None:
    outcome = after_failure(POLICY, attempts=5, error="still down", retryable=True, now=NOW)
    assert outcome.status is PostingStatus.DEAD_LETTERED
    assert outcome.next_attempt_at is None
    assert outcome.last_error == "still down"


def test_rejection_is_dead_lettered_at_the_first_attempt() -> None:
    outcome = after_failure(POLICY, attempts=1, error="Unknown SKU", retryable=False, now=NOW)
    assert outcome.status is PostingStatus.DEAD_LETTERED


def test_erp_sync_status_shows_the_worst_open_posting() -> None:
    posted, pending, dead = PostingStatus.POSTED, PostingStatus.PENDING, PostingStatus.DEAD_LETTERED
    assert erp_sync_status([]) is None
    assert erp_sync_status([posted, posted]) is posted
    assert erp_sync_status([posted, pending]) is pending
    assert erp_sync_status([dead, pending]) is dead


def _event(kind: str, **payload: object) -> Event:
    return Event(
        type=kind,
        partition_key="o1",
        payload={"orderId": "o1", "number": "RG-0000001", "locationId": "DC-NORTH", **payload},
        correlation_id="corr",
        occurred_at=EVENT_TIME,
    )


CREATED = _event(
    "OrderCreated",
    idempotencyKey="checkout-1",
    channel="web",
    customerReference="cust",
    currency="EUR",
    fulfilment={"type": "SHIP_FROM_DC", "locationId": "DC-NORTH"},
    lines=[
        {
            "lineId": "l1",
            "sku": "A",
            "quantity": 2,
            "unitPrice": "10.00",
            "promotionalUnitPrice": "8.00",
            "taxRate": "0.2",
        }
    ],
    totals={"subtotal": "20.00", "discount": "4.00", "tax": "2.67", "total": "16.00"},
)


def test_order_created_becomes_a_sale_at_the_price_paid() -> None:
    (sale,) = postings_for([CREATED], earlier={}, paid_prices={}, headers={})
    assert sale.kind is PostingKind.SALE
    assert sale.reference == "RG-0000001"
    assert sale.correlation_id == "corr"
    assert sale.payload["location"] == "DC-NORTH"
    assert sale.payload["lines"] == [{"sku": "A", "quantity": 2, "unitPrice": "8.00"}]


def test_cancellations_and_returns_get_their_own_numbered_references() -> None:
    lines = [{"lineId": "l1", "sku": "A", "quantity": 1}]
    events = [
        _event("OrderLinesCancelled", reason="", lines=lines, wholeOrder=False),
        _event("OrderReturnReceived", reference="", disposition="RESTOCK", lines=lines),
        _event("OrderStatusChanged"),
        _event("OrderReturnReceived", reference="", disposition="RESTOCK", lines=lines),
    ]
    postings = postings_for(
        events,
        earlier={("o1", PostingKind.RETURN): 1},
        paid_prices={"l1": "8.00"},
        headers={"o1": {"currency": "EUR", "customerReference": "cust"}},
        remaining={("o1", "A"): 2},
    )
    assert [(p.kind, p.reference) for p in postings] == [
        (PostingKind.CANCELLATION, "RG-0000001/C1"),
        (PostingKind.RETURN, "RG-0000001/R2"),
        (PostingKind.RETURN, "RG-0000001/R3"),
    ]
    assert postings[0].payload == {
        "reference": "RG-0000001",
        "skus": ["A"],
        "lines": [{"sku": "A", "quantity": 1, "remaining": 2}],
    }
    assert postings[1].payload["lines"] == [{"sku": "A", "quantity": 1, "unitPrice": "8.00"}]


def test_whole_order_cancellation_names_no_skus() -> None:
    lines = [{"lineId": "l1", "sku": "A", "quantity": 2}]
    (posting,) = postings_for(
        [_event("OrderLinesCancelled", reason="", lines=lines, wholeOrder=True)],
        earlier={},
        paid_prices={},
        headers={},
        remaining={("o1", "A"): 0},
    )
    assert (posting.payload["skus"], posting.payload["lines"]) == ([], [])


def test_a_partial_cancellation_tells_the_erp_the_units_per_sku_and_what_the_sale_keeps() -> None:
    lines = [
        {"lineId": "l1", "sku": "A", "quantity": 1},
        {"lineId": "l2", "sku": "B", "quantity": 2},
        {"lineId": "l3", "sku": "A", "quantity": 1},
    ]
    (posting,) = postings_for(
        [_event("OrderLinesCancelled", reason="", lines=lines, wholeOrder=False)],
        earlier={("o1", PostingKind.CANCELLATION): 1},
        paid_prices={},
        headers={},
        remaining={("o1", "A"): 3, ("o1", "B"): 0},
    )
    assert posting.reference == "RG-0000001/C2"
    assert posting.payload["lines"] == [
        {"sku": "A", "quantity": 2, "remaining": 3},
        {"sku": "B", "quantity": 2, "remaining": 0},
    ]


def test_failed_probe_during_an_outage_is_not_held_against_the_posting() -> None:
    outcome = after_failure(
        POLICY, attempts=5, error="down", retryable=True, now=NOW, probe=True, draw=lambda: 0.5
    )
    assert outcome.status is PostingStatus.PENDING
    assert not outcome.charged
    assert outcome.next_attempt_at == NOW + timedelta(seconds=POLICY.ceiling(4) / 2)


def test_probe_refused_for_good_is_still_dead_lettered() -> None:
    outcome = after_failure(POLICY, attempts=1, error="no", retryable=False, now=NOW, probe=True)
    assert outcome.status is PostingStatus.DEAD_LETTERED


def test_a_return_is_posted_at_the_location_that_received_it() -> None:
    lines = [
        {"lineId": "l1", "sku": "A", "quantity": 1, "disposition": "RESTOCK"},
        {"lineId": "l1", "sku": "A", "quantity": 1, "disposition": "DAMAGED"},
    ]
    in_store = _event(
        "OrderReturnReceived",
        reference="",
        disposition="MIXED",
        lines=lines,
        receivedAt="STORE-BERLIN",
    )
    older = _event("OrderReturnReceived", reference="", disposition="RESTOCK", lines=lines[:1])

    store, dc = postings_for(
        [in_store, older],
        earlier={},
        paid_prices={"l1": "8.00"},
        headers={"o1": {"currency": "EUR", "customerReference": "cust"}},
    )

    assert store.payload == {
        "reference": "RG-0000001/R1",
        "currency": "EUR",
        "customerReference": "cust",
        "location": "STORE-BERLIN",
        "lines": [
            {"sku": "A", "quantity": 1, "unitPrice": "8.00"},
            {"sku": "A", "quantity": 1, "unitPrice": "8.00"},
        ],
    }
    # Recorded before returns named a location: where the order was fulfilled.
    assert dc.payload["location"] == "DC-NORTH"
