"""The stock movement use case: ERP and WMS deltas, applied once per source document line.

A movement the ERP has not seen (``MovementOrigin.WMS``) owes it the same change: its ERP
moves are queued for the ERP posting worker in the movement's own transaction
(``domains/inventory/erp_postings.py``), so the ERP hears of it exactly once and a
reconciliation in between explains the difference instead of repairing it away."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from adapters.metrics.counters import count_import_rejects
from domains.inventory.changes import announce_stock_changes
from domains.inventory.errors import DuplicateMovement, InvalidInventoryInput, UnknownLocation
from domains.inventory.model import (
    MAX_BATCH,
    ErpMove,
    Movement,
    MovementOrigin,
    RuleViolation,
    StockLevel,
    apply_movement,
    erp_moves_for,
    validate_movement,
)
from domains.inventory.ports import UnitOfWork
from kernel import correlation
from kernel.tracing import current_traceparent

FEED = "movements"  # the import-rejects KPI's feed label: batches sent to the graph


@dataclass(frozen=True, slots=True)
class Rejection:
    movement: Movement
    code: str
    message: str


@dataclass(slots=True)
class MovementReport:
    applied: list[Movement] = field(default_factory=list)
    duplicates: list[Movement] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    levels: list[StockLevel] = field(default_factory=list)


async def apply_stock_movements(
    uow: UnitOfWork,
    movements: Sequence[Movement],
    *,
    now: datetime | None = None,
    feed: str = FEED,
    origin: MovementOrigin = MovementOrigin.WMS,
) -> MovementReport:
    """Apply a batch of stock deltas in order, once per (source document, line).

    Lines already applied (earlier or earlier in this batch) are reported as duplicates
    and change nothing. Invalid lines are rejected with a code and are not remembered, so
    a corrected line can be sent again; the valid ones still apply. Rejects count in the
    import-rejects KPI under ``feed``: where the batch came from. ``origin`` says who told
    us, and so whether the ERP is owed the applied lines.
    """
    report = await _apply_once(uow, movements, now, origin)
    count_import_rejects(feed, (r.code for r in report.rejected))
    return report


async def _apply_once(
    uow: UnitOfWork, movements: Sequence[Movement], now: datetime | None, origin: MovementOrigin
) -> MovementReport:
    async with uow:
        if len(movements) > MAX_BATCH:
            raise InvalidInventoryInput(
                f"at most {MAX_BATCH} movements per batch", code="BATCH_TOO_LARGE"
            )
        now = now or uow.clock.now()
        for attempt in (1, 2):
            try:
                return await _apply(uow, movements, now, origin)
            except DuplicateMovement:
                # A concurrent replay of the same lines committed first; the retry sees them.
                await uow.rollback()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


async def _apply(
    uow: UnitOfWork, movements: Sequence[Movement], now: datetime, origin: MovementOrigin
) -> MovementReport:
    report = MovementReport()
    candidates: list[Movement] = []
    for movement in movements:
        try:
            validate_movement(movement)
            candidates.append(movement)
        except RuleViolation as violation:
            report.rejected.append(Rejection(movement, violation.code, violation.message))
    known = await uow.stock.existing_location_ids(loc for m in candidates for loc in m.touched)
    located = []
    for movement in candidates:
        unknown = [loc for loc in movement.touched if loc not in known]
        if unknown:
            report.rejected.append(
                Rejection(movement, UnknownLocation.code, f"no location {unknown[0]!r}")
            )
        else:
            located.append(movement)
    pairs = {(m.sku, loc) for m in located for loc in m.touched}
    await uow.stock.ensure_stock_rows(pairs, now)
    await uow.stock.lock_stock(pairs)
    picture = await uow.stock.load_picture({sku for sku, _ in pairs}, now)
    locked = {pair: picture.levels[pair] for pair in pairs}
    seen = await uow.stock.applied_lines({m.line_key for m in located})
    applied: list[Movement] = []
    owed: list[tuple[Movement, list[ErpMove]]] = []
    for movement in located:
        earlier = seen.get(movement.line_key)
        if earlier == movement:
            report.duplicates.append(movement)
            continue
        if earlier is not None:
            report.rejected.append(_reused(movement))
            continue
        seen[movement.line_key] = movement
        current = {loc: locked[(movement.sku, loc)] for loc in movement.touched}
        try:
            changed = apply_movement(movement, current)
        except RuleViolation as violation:
            report.rejected.append(Rejection(movement, violation.code, violation.message))
            continue
        if origin is MovementOrigin.WMS:
            owed.append((movement, erp_moves_for(movement, current)))
        for loc, level in changed.items():
            locked[(movement.sku, loc)] = level
        applied.append(movement)
    report.applied = applied
    touched = {(m.sku, loc) for m in applied for loc in m.touched}
    if applied:
        await uow.stock.save_levels([locked[pair] for pair in sorted(touched)], now)
        await uow.stock.record_movements(applied, now)
        await uow.stock.owe_erp(
            owed,
            now,
            correlation_id=correlation.current(),
            traceparent=current_traceparent(),
        )
        after = picture.with_levels(locked[pair] for pair in touched)
        report.levels = announce_stock_changes(uow, after, touched, now)
    await uow.commit()
    return report


def _reused(movement: Movement) -> Rejection:
    """A line sent again with other content: the stock changed by the first content only,
    and the difference is the sender's to settle (a new line), not ours to guess."""
    document, line = movement.line_key
    return Rejection(
        movement,
        "IDEMPOTENCY_KEY_REUSED",
        f"line {line} of {document!r} was applied with other content; send a change as a new line",
    )
