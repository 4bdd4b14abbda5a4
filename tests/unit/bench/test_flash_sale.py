"""The flash-sale benchmark's verdicts: what an answer counts as, and when the stock
counts as sold exactly."""

from __future__ import annotations

import json

from bench.flash_burst import Burst, Outcome, classify
from bench.flash_check import Sold, stock_checks
from bench.flash_pgbench import TRANSACTION, parse_output, transactions_per_client


def _body(answer: object) -> str:
    return json.dumps(answer)


def test_an_order_created_is_accepted_and_a_coded_error_is_a_refusal() -> None:
    placed = {"data": {"placeOrder": {"created": True, "order": {"id": "o-1"}}}}
    refused = {"data": None, "errors": [{"message": "no", "extensions": {"code": "X"}}]}
    assert classify(200, _body(placed)) == Outcome("accepted")
    assert classify(200, _body(refused)) == Outcome("refused", "X")


def test_a_5xx_an_error_without_a_code_or_a_body_that_is_not_graphql_fails_the_run() -> None:
    assert classify(502, "bad gateway").kind == "failed"
    assert classify(200, _body({"errors": [{"message": "boom"}]})).kind == "failed"
    assert classify(200, "<html>").kind == "failed"
    assert classify(200, _body({"data": {"placeOrder": None}})).kind == "failed"


def test_burst_rates_count_all_answers_over_the_burst_and_accepted_ones_while_stock_lasts() -> None:
    burst = Burst(clients=4, units_per_order=1, wall_seconds=2.0)
    burst.add(Outcome("accepted"), 0.5, answered_at=0.5)
    burst.add(Outcome("accepted"), 1.0, answered_at=1.0)
    burst.add(Outcome("refused", "INSUFFICIENT_STOCK"), 1.5, answered_at=1.5)
    burst.add(Outcome("failed", "HTTP 500"), 2.0, answered_at=2.0)
    assert (burst.answered, burst.orders_per_second, burst.accepted_per_second) == (3, 1.5, 2.0)
    assert burst.summary()["refused"] == {"INSUFFICIENT_STOCK": 1}
    assert burst.summary()["failed"] == 1


def test_the_stock_is_sold_exactly_when_inventory_and_orders_agree_with_the_answers() -> None:
    exact = Sold(on_hand=50, committed=20, reserved=30, reservations=50, orders=50,
                 ordered_units=50)  # fmt: skip
    checks = stock_checks(exact, stock=50, clients=200, units=1, accepted=50)
    assert all(holds for _, holds in checks)


def test_one_order_beyond_the_stock_fails_the_check() -> None:
    oversold = Sold(on_hand=50, committed=0, reserved=51, reservations=51, orders=51,
                    ordered_units=51)  # fmt: skip
    checks = stock_checks(oversold, stock=50, clients=200, units=1, accepted=51)
    failed = [statement for statement, holds in checks if not holds]
    assert failed == [
        "accepted orders 51 = min(clients, stock / units) 50",
        "no unit beyond the stock is held: 51 <= 50",
    ]


def test_units_held_for_an_order_that_was_refused_fail_the_check() -> None:
    held_back = Sold(on_hand=50, committed=0, reserved=50, reservations=50, orders=48,
                     ordered_units=48)  # fmt: skip
    checks = stock_checks(held_back, stock=50, clients=200, units=1, accepted=48)
    assert not all(holds for _, holds in checks)


def test_fewer_clients_than_units_must_all_be_served() -> None:
    sold = Sold(on_hand=50, committed=0, reserved=20, reservations=10, orders=10,
                ordered_units=20)  # fmt: skip
    assert all(holds for _, holds in stock_checks(sold, stock=50, clients=10, units=2, accepted=10))
    assert not all(
        holds for _, holds in stock_checks(sold, stock=50, clients=12, units=2, accepted=10)
    )


def test_pgbench_figures_are_read_from_its_report() -> None:
    output = """transaction type: flash_sale.sql
number of transactions actually processed: 400/400
number of failed transactions: 0 (0.000%)
latency average = 67.322 ms
initial connection time = 92.140 ms
tps = 297.080148 (without initial connection time)
"""
    assert parse_output(output) == (400, 0, 297.080148, 67.322)
    assert transactions_per_client(5000, 95) == 53


def test_the_pgbench_transaction_holds_units_only_while_they_last() -> None:
    script = TRANSACTION.read_text()
    assert "on_hand - reserved >= :units" in script
    assert script.index("\\if :held") < script.index("INSERT INTO flash_pgbench.orders")
