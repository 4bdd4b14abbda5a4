"""``erpQueue``: the ERP posting queue as an operator watches it, from the orders
subgraph: the backlog per kind and its age, the dead letters, and the last hour rebuilt
from the postings' own times."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import update

from domains.orders.model import NewLine
from domains.orders.tables import erp_postings
from erp.port import Item
from erp.simulator import SimulatedErp
from tests.integration.orders.conftest import Subgraph, make_order
from tests.integration.orders.erp_support import drain, fast_worker, postings

QUEUE = """{ erpQueue {
  waiting deadLettered oldestWaitingSince oldestWaitingSeconds
  kinds { kind pending inProgress deadLettered }
  deadLetters(first: 5) { orderId orderNumber kind reference attempts lastError }
  history(minutes: 30) { at waiting }
} }"""


def _line(sku: str) -> NewLine:
    return NewLine(sku, 1, Decimal("10.00"), None, Decimal("0.19"))


async def test_erp_queue_shows_the_waiting_postings_and_the_dead_letters(
    subgraph: Subgraph,
) -> None:
    engine = subgraph.domain.engine
    # The ERP does not know ST-0002-01: the order holding it is refused for good.
    erp = SimulatedErp(items=[Item("ST-0001-01", "Tee", 10)])
    poison = await make_order(subgraph.domain)
    await make_order(subgraph.domain, lines=[_line("ST-0001-01")])
    await drain(engine, fast_worker(engine, erp))
    waiting = [await make_order(subgraph.domain, lines=[_line("ST-0001-01")]) for _ in range(2)]

    queue = (await subgraph.post(QUEUE))["data"]["erpQueue"]

    assert (queue["waiting"], queue["deadLettered"]) == (2, 1)
    assert queue["kinds"][0] == {"kind": "SALE", "pending": 2, "inProgress": 0, "deadLettered": 1}
    assert {kind["kind"] for kind in queue["kinds"]} == {"SALE", "CANCELLATION", "RETURN"}
    created = [posting.created_at for o in waiting for posting in await postings(engine, o.id)]
    assert datetime.fromisoformat(queue["oldestWaitingSince"]) == min(created)
    assert queue["oldestWaitingSeconds"] >= 0
    [dead] = queue["deadLetters"]
    assert (dead["orderId"], dead["orderNumber"], dead["reference"]) == (
        poison.id,
        poison.number,
        poison.number,
    )
    assert (dead["kind"], dead["attempts"]) == ("SALE", 1)
    assert "ST-0002-01" in dead["lastError"]
    assert len(queue["history"]) == 31
    assert queue["history"][-1]["waiting"] == 2


async def test_erp_queue_history_counts_each_posting_from_its_creation_until_it_left(
    subgraph: Subgraph,
) -> None:
    engine = subgraph.domain.engine
    now = subgraph.domain.clock.now()
    posted, waiting, dead = [await make_order(subgraph.domain) for _ in range(3)]

    def ago(minutes: int) -> datetime:
        return now - timedelta(minutes=minutes)

    async with engine.begin() as conn:
        for order, values in (
            (posted, {"status": "posted", "created_at": ago(30), "posted_at": ago(10)}),
            (waiting, {"created_at": ago(20)}),
            (dead, {"status": "dead_lettered", "created_at": ago(5), "next_attempt_at": ago(2)}),
        ):
            await conn.execute(
                update(erp_postings).where(erp_postings.c.order_id == order.id).values(**values)
            )

    history = (await subgraph.post(QUEUE))["data"]["erpQueue"]["history"]

    # Points are a minute apart and end at the subgraph's now, a moment after the test's.
    waiting_at = {30 - index: point["waiting"] for index, point in enumerate(history)}
    assert [waiting_at[m] for m in (30, 25, 20, 15, 10, 5, 2, 0)] == [1, 1, 2, 2, 1, 2, 1, 1]


async def test_erp_queue_refuses_sizes_beyond_its_bounds(subgraph: Subgraph) -> None:
    for query in (
        "{ erpQueue { deadLetters(first: 0) { reference } } }",
        "{ erpQueue { deadLetters(first: 101) { reference } } }",
        "{ erpQueue { history(minutes: 181) { waiting } } }",
    ):
        body = await subgraph.post(query)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", query
