"""Which inventory movements an ERP stock move stands for (pure mapping, no I/O)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from domains.inventory.model import Movement
from erp.port import CUSTOMER, LOST_FOUND, STORAGE, SUPPLIER, TRANSIT, StockMove
from erp.sync.moves import Skipped, movements_for

OURS = {"DC-NORTH", "STORE-BERLIN"}
AT = datetime.datetime(2026, 11, 22, 12, tzinfo=datetime.UTC)


def move(
    source: str | None,
    target: str | None,
    *,
    from_kind: str = STORAGE,
    to_kind: str = STORAGE,
    quantity: str = "3",
    state: str = "done",
    destination: str | None = None,
    order_reference: str | None = None,
) -> StockMove:
    return StockMove(
        move_id="42",
        sku="SKU-1",
        from_location=f"{source}-STO" if source else from_kind,
        to_location=f"{target}-STO" if target else to_kind,
        quantity=Decimal(quantity),
        state=state,
        changed_at=AT,
        from_warehouse=source,
        to_warehouse=target,
        from_kind=from_kind,
        to_kind=to_kind,
        destination=destination,
        order_reference=order_reference,
    )


def kinds(mapped: list[Movement] | Skipped) -> list[tuple[str, str, int, str | None]]:
    assert not isinstance(mapped, Skipped), mapped
    return [(m.type.value, m.location_id, m.quantity, m.to_location_id) for m in mapped]


def test_goods_from_a_supplier_are_a_receipt() -> None:
    assert kinds(movements_for(move(None, "DC-NORTH", from_kind=SUPPLIER), OURS)) == [
        ("RECEIPT", "DC-NORTH", 3, None)
    ]


def test_goods_to_a_customer_are_a_pick_that_relieves_commitments() -> None:
    assert kinds(movements_for(move("DC-NORTH", None, to_kind=CUSTOMER), OURS)) == [
        ("PICK", "DC-NORTH", 3, None)
    ]


def test_goods_back_from_a_customer_are_a_return() -> None:
    assert kinds(movements_for(move(None, "DC-NORTH", from_kind=CUSTOMER), OURS)) == [
        ("RETURN", "DC-NORTH", 3, None)
    ]


def test_lost_and_found_are_signed_adjustments() -> None:
    assert kinds(movements_for(move("DC-NORTH", None, to_kind=LOST_FOUND), OURS)) == [
        ("ADJUSTMENT", "DC-NORTH", -3, None)
    ]
    assert kinds(movements_for(move(None, "DC-NORTH", from_kind=LOST_FOUND), OURS)) == [
        ("ADJUSTMENT", "DC-NORTH", 3, None)
    ]


def test_a_direct_transfer_leaves_one_location_and_lands_at_the_other() -> None:
    mapped = movements_for(move("DC-NORTH", "STORE-BERLIN"), OURS)
    assert kinds(mapped) == [
        ("TRANSFER", "DC-NORTH", 3, "STORE-BERLIN"),
        ("RECEIPT", "STORE-BERLIN", 3, None),
    ]
    assert not isinstance(mapped, Skipped)
    assert [m.line_key for m in mapped] == [("erp-move:42", 0), ("erp-move:42", 1)]


def test_a_transfer_through_transit_is_incoming_until_it_lands() -> None:
    leaves = move("DC-NORTH", None, to_kind=TRANSIT, destination="STORE-BERLIN")
    lands = move(None, "STORE-BERLIN", from_kind=TRANSIT)
    assert kinds(movements_for(leaves, OURS)) == [("TRANSFER", "DC-NORTH", 3, "STORE-BERLIN")]
    assert kinds(movements_for(lands, OURS)) == [("RECEIPT", "STORE-BERLIN", 3, None)]


def test_moves_that_change_none_of_our_stock_are_skipped_with_a_reason() -> None:
    inside = movements_for(move("DC-NORTH", "DC-NORTH"), OURS)
    elsewhere = movements_for(move("WH", None, to_kind=CUSTOMER), OURS)
    planned = movements_for(move(None, "DC-NORTH", from_kind=SUPPLIER, state="assigned"), OURS)
    fractional = movements_for(move(None, "DC-NORTH", from_kind=SUPPLIER, quantity="1.5"), OURS)
    assert isinstance(inside, Skipped)
    assert isinstance(elsewhere, Skipped)
    assert isinstance(planned, Skipped)
    assert "assigned" in planned.reason
    assert isinstance(fractional, Skipped)


def test_the_erp_move_of_our_orders_return_is_skipped_as_inventory_took_it_back() -> None:
    back = move(None, "STORE-BERLIN", from_kind=CUSTOMER, order_reference="RG-0000042/R1")
    skipped = movements_for(back, OURS)
    assert isinstance(skipped, Skipped)
    assert "return of our order" in skipped.reason
    prefixed = move(None, "STORE-BERLIN", from_kind=CUSTOMER, order_reference="EU-RG-0000042/R2")
    assert isinstance(movements_for(prefixed, OURS, "EU-"), Skipped)


def test_a_customer_return_that_is_not_one_of_our_orders_returns_is_applied() -> None:
    for reference in (None, "RG-0000042", "RG-0000042/C1", "SO-77/R1", "EU-RG-0000042/R1"):
        back = move(None, "STORE-BERLIN", from_kind=CUSTOMER, order_reference=reference)
        assert kinds(movements_for(back, OURS)) == [("RETURN", "STORE-BERLIN", 3, None)]
