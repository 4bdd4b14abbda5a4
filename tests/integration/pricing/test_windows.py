"""Promotion windows announced as they open and close: once per transition, however many
replicas race for it and however often they restart, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from domains.pricing import service, tables, windows
from domains.pricing.model import WindowTransition
from kernel.event_types import PromotionStatusChanged
from tests.conftest import EngineFactory
from tests.integration.pricing.support import NOW, percent_terms, running_domain

HOUR = timedelta(hours=1)


async def announcements(engine_factory: EngineFactory) -> list[PromotionStatusChanged]:
    engine = await engine_factory()
    outbox = tables.outbox
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(outbox.c.payload)
                .where(outbox.c.type == PromotionStatusChanged.TYPE)
                .order_by(outbox.c.seq)
            )
        ).all()
    return [PromotionStatusChanged.from_payload(row.payload) for row in rows]


async def test_two_schedulers_racing_announce_each_transition_once(
    make_engine: EngineFactory,
) -> None:
    terms = percent_terms(starts_at=NOW + HOUR, ends_at=NOW + 2 * HOUR, channels=["web"])
    async with (
        running_domain(await make_engine()) as one,
        running_domain(await make_engine()) as other,
    ):
        await service.create_promotion(one.uow(), terms, promotion_id="WEEKEND", at=NOW)
        await service.activate_promotion(one.uow(), "WEEKEND", at=NOW)
        assert await windows.announce_due_transitions(one.uow, at=NOW + HOUR / 2) == []

        opened = NOW + HOUR + timedelta(seconds=1)
        rounds = await asyncio.gather(
            *(
                windows.announce_due_transitions(replica.uow, at=opened)
                for _ in range(5)
                for replica in (one, other)
            )
        )
        started = [due for announced in rounds for due in announced]
        assert started == [windows.DueTransition("WEEKEND", 1, WindowTransition.STARTED)]

        closed = NOW + 2 * HOUR
        rounds = await asyncio.gather(
            *(windows.announce_due_transitions(r.uow, at=closed) for r in (one, other, one))
        )
        assert [due.transition for announced in rounds for due in announced] == [
            WindowTransition.ENDED
        ]

    # A restarted replica finds both claimed and announces nothing again.
    async with running_domain(await make_engine()) as restarted:
        assert await windows.announce_due_transitions(restarted.uow, at=closed + HOUR) == []

    assert [
        (a.reason, a.status, a.promotion_version) for a in await announcements(make_engine)
    ] == [
        ("WINDOW_STARTED", "ACTIVE", 1),
        ("WINDOW_ENDED", "ENDED", 1),
    ]


async def test_a_version_published_mid_window_is_not_announced_as_starting_again(
    make_engine: EngineFactory,
) -> None:
    terms = percent_terms(starts_at=NOW + HOUR, ends_at=NOW + 3 * HOUR)
    async with running_domain(await make_engine()) as domain:
        await service.create_promotion(domain.uow(), terms, promotion_id="P", at=NOW)
        await service.activate_promotion(domain.uow(), "P", at=NOW)
        await windows.announce_due_transitions(domain.uow, at=NOW + HOUR)
        better = percent_terms("30", starts_at=NOW + HOUR, ends_at=NOW + 3 * HOUR)
        await service.publish_promotion_version(domain.uow(), "P", better, at=NOW + 2 * HOUR)
        await service.rollback_promotion(domain.uow(), "P", at=NOW + 2 * HOUR)

        assert await windows.announce_due_transitions(domain.uow, at=NOW + 2 * HOUR) == []
        ended = await windows.announce_due_transitions(domain.uow, at=NOW + 4 * HOUR)
        assert ended == [windows.DueTransition("P", 1, WindowTransition.ENDED)]


async def test_a_window_missed_whole_is_announced_as_ended_only(
    make_engine: EngineFactory,
) -> None:
    terms = percent_terms(starts_at=NOW + HOUR, ends_at=NOW + 2 * HOUR)
    async with running_domain(await make_engine()) as domain:
        await service.create_promotion(domain.uow(), terms, promotion_id="P", at=NOW)
        await service.activate_promotion(domain.uow(), "P", at=NOW)
        announced = await windows.announce_due_transitions(domain.uow, at=NOW + 5 * HOUR)
        assert announced == [windows.DueTransition("P", 1, WindowTransition.ENDED)]
