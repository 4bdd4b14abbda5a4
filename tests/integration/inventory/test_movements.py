"""Stock movements apply once per source document line, with clear codes for bad lines."""

from __future__ import annotations

from sqlalchemy import func, select

from domains.inventory import repository, service, tables
from domains.inventory.bootstrap import InventoryDomain
from domains.inventory.model import Movement, MovementType, StockLevel
from domains.inventory.service import MovementReport
from tests.integration.inventory.conftest import new_sku, stock


def _move(
    kind: MovementType, sku: str, quantity: int, doc: str, line: int = 1, **more: object
) -> Movement:
    return Movement(
        type=kind,
        sku=sku,
        location_id=str(more.pop("location_id", "DC")),
        quantity=quantity,
        source_document_id=doc,
        line_number=line,
        **more,  # type: ignore[arg-type]
    )


async def _apply(domain: InventoryDomain, *movements: Movement) -> MovementReport:
    return await service.apply_stock_movements(domain.uow(), list(movements))


async def _levels(domain: InventoryDomain, sku: str) -> dict[str, StockLevel]:
    async with domain.engine.connect() as conn:
        return {
            lvl.location_id: lvl
            for lvl in await repository.load_levels(conn, [sku], domain.clock.now())
        }


async def test_a_batch_applies_every_kind_of_movement_in_order(domain: InventoryDomain) -> None:
    sku = new_sku()
    await stock(domain, sku, on_hand=10, committed=3, incoming=5)
    report = await _apply(
        domain,
        _move(MovementType.RECEIPT, sku, 5, "GRN-1"),
        _move(MovementType.PICK, sku, 4, "PICK-1"),
        _move(MovementType.TRANSFER, sku, 2, "TR-1", to_location_id="ST"),
        _move(MovementType.ADJUSTMENT, sku, -1, "ADJ-1"),
        _move(MovementType.RETURN, sku, 1, "RET-1", location_id="ST"),
    )
    assert len(report.applied) == 5
    assert not report.rejected
    assert not report.duplicates
    levels = await _levels(domain, sku)
    assert (levels["DC"].on_hand, levels["DC"].committed, levels["DC"].incoming) == (8, 0, 0)
    assert (levels["ST"].on_hand, levels["ST"].incoming) == (1, 2)
    assert {(lvl.sku, lvl.location_id) for lvl in report.levels} == {(sku, "DC"), (sku, "ST")}


async def test_a_cycle_count_sets_on_hand(domain: InventoryDomain) -> None:
    sku = new_sku()
    await stock(domain, sku, on_hand=10)
    await _apply(domain, _move(MovementType.CYCLE_COUNT, sku, 7, "CC-1"))
    assert (await _levels(domain, sku))["DC"].on_hand == 7


async def test_replaying_a_batch_changes_nothing(domain: InventoryDomain) -> None:
    sku = new_sku()
    batch = [
        _move(MovementType.RECEIPT, sku, 5, "GRN-9", 1),
        _move(MovementType.RECEIPT, sku, 7, "GRN-9", 2),
    ]
    first = await _apply(domain, *batch)
    replay = await _apply(domain, *batch, batch[0])
    assert len(first.applied) == 2
    assert replay.applied == []
    assert len(replay.duplicates) == 3
    assert (await _levels(domain, sku))["DC"].on_hand == 12
    async with domain.engine.connect() as conn:
        count = select(func.count()).select_from(tables.movements)
        assert (await conn.execute(count.where(tables.movements.c.sku == sku))).scalar() == 2


async def test_a_line_repeated_within_a_batch_applies_once(domain: InventoryDomain) -> None:
    sku = new_sku()
    line = _move(MovementType.RECEIPT, sku, 5, "GRN-R")
    report = await _apply(domain, line, line)
    assert (len(report.applied), len(report.duplicates)) == (1, 1)
    assert (await _levels(domain, sku))["DC"].on_hand == 5


async def test_a_line_sent_again_with_other_content_is_refused_and_changes_nothing(
    domain: InventoryDomain,
) -> None:
    sku = new_sku()
    await _apply(domain, _move(MovementType.RECEIPT, sku, 5, "GRN-C"))
    changed = _move(MovementType.RECEIPT, sku, 50, "GRN-C")
    within = [
        _move(MovementType.RECEIPT, sku, 3, "GRN-D"),
        _move(MovementType.PICK, sku, 3, "GRN-D"),
    ]

    report = await _apply(domain, changed, *within)

    assert report.applied == [within[0]]
    assert [(r.movement, r.code) for r in report.rejected] == [
        (changed, "IDEMPOTENCY_KEY_REUSED"),
        (within[1], "IDEMPOTENCY_KEY_REUSED"),
    ]
    assert report.duplicates == []
    assert (await _levels(domain, sku))["DC"].on_hand == 8


async def test_invalid_lines_are_rejected_with_codes_and_the_rest_apply(
    domain: InventoryDomain,
) -> None:
    sku = new_sku()
    await stock(domain, sku, on_hand=3)
    report = await _apply(
        domain,
        _move(MovementType.RECEIPT, sku, -5, "BAD", 1),
        _move(MovementType.RECEIPT, sku, 5, "BAD", 2, location_id="NOWHERE"),
        _move(MovementType.PICK, sku, 4, "BAD", 3),
        _move(MovementType.TRANSFER, sku, 1, "BAD", 4, to_location_id="NOWHERE"),
        _move(MovementType.RECEIPT, sku, 2, "BAD", 5),
    )
    codes = {r.movement.line_number: r.code for r in report.rejected}
    assert codes == {
        1: "NEGATIVE_QUANTITY",
        2: "UNKNOWN_LOCATION",
        3: "NEGATIVE_ON_HAND",
        4: "UNKNOWN_LOCATION",
    }
    assert [m.line_number for m in report.applied] == [5]
    assert (await _levels(domain, sku))["DC"].on_hand == 5
    # A rejected line is not remembered: once corrected, it applies.
    fixed = await _apply(domain, _move(MovementType.PICK, sku, 4, "BAD", 3))
    assert len(fixed.applied) == 1


async def test_movements_record_stock_and_availability_events(domain: InventoryDomain) -> None:
    sku = new_sku()
    await _apply(domain, _move(MovementType.RECEIPT, sku, 9, "GRN-E", location_id="ST"))
    async with domain.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(tables.outbox.c.type, tables.outbox.c.partition_key, tables.outbox.c.payload)
                .where(tables.outbox.c.partition_key.like(f"{sku}@%"))
                .order_by(tables.outbox.c.seq)
            )
        ).all()
    assert [(r.type, r.partition_key) for r in rows] == [
        ("StockChanged", f"{sku}@ST"),
        ("AvailabilityChanged", f"{sku}@store"),
        ("AvailabilityChanged", f"{sku}@web"),
        ("RegionalAvailabilityChanged", f"{sku}@south"),
    ]
    assert rows[0].payload["onHand"] == 9
    assert rows[0].payload["available"] == 9
    assert rows[1].payload == {"sku": sku, "channel": "store", "available": 9}
    assert rows[3].payload == {"sku": sku, "region": "south", "available": 9}
