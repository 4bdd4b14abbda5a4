"""Announcing promotion windows as they open and close.

Nobody changes a promotion when its window opens: the clock does. Every pricing process
polls for transitions that are due (``announce_due_transitions``) and announces each as
``PromotionStatusChanged`` (WINDOW_STARTED, WINDOW_ENDED). The announcement claims the
transition (promotion, version, transition) in the transaction that records the event,
so a transition is announced once across restarts and replicas: a replica that loses the
race finds the claim taken and records nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from adapters.metrics.counters import count_promotion_activations
from domains.pricing.announcements import window_status_changed
from domains.pricing.model import Lifecycle, WindowTransition, as_utc, due_transition
from domains.pricing.ports import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DueTransition:
    promotion_id: str
    version: int
    transition: WindowTransition


async def due_transitions(uow: UnitOfWork, at: datetime) -> list[DueTransition]:
    """The window transitions that have happened by ``at`` and are not announced yet."""
    async with uow:
        windows = await uow.prices.open_windows(at)
    due = [(w, due_transition(w.window, at, w.announced)) for w in windows]
    return [DueTransition(w.promotion_id, w.version, t) for w, t in due if t is not None]


async def announce_transition(uow: UnitOfWork, due: DueTransition, at: datetime) -> bool:
    """Claim and announce one transition; False when it is no longer to be announced (a
    new version or a pause came first) or someone else announced it."""
    async with uow:
        promotion = await uow.prices.get_promotion(due.promotion_id)  # held until commit
        if (
            promotion is None
            or promotion.lifecycle is not Lifecycle.LIVE
            or promotion.current_version != due.version
        ):
            return False
        if not await uow.prices.claim_transition(due.promotion_id, due.version, due.transition, at):
            return False
        uow.record(window_status_changed(promotion, due.transition, at))
        await uow.commit()
    return True


async def announce_due_transitions(
    new_uow: Callable[[], UnitOfWork], *, at: datetime | None = None
) -> list[DueTransition]:
    """Announce every transition due now, each in a transaction of its own (one that
    fails stays due for the next pass); returns those this call announced."""
    now = as_utc(at or new_uow().clock.now())
    announced: list[DueTransition] = []
    for due in await due_transitions(new_uow(), now):
        try:
            if await announce_transition(new_uow(), due, now):
                announced.append(due)
        except Exception:
            # The KPI counts the starts that could not be announced; the pass goes on.
            log.exception("could not announce %s of promotion %s", due.transition, due.promotion_id)
            if due.transition is WindowTransition.STARTED:
                count_promotion_activations("failed")
    count_promotion_activations(
        "started", sum(1 for d in announced if d.transition is WindowTransition.STARTED)
    )
    return announced
