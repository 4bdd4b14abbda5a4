"""What tells a retried lifecycle step from its key reused for another request."""

from __future__ import annotations

from domains.orders import commands
from domains.orders.model import ReturnDisposition

R = ReturnDisposition


def test_the_same_step_asked_again_has_the_same_fingerprint_whatever_the_line_order() -> None:
    asked = commands.CancelLines({"l1": 1, "l2": 2}, reason="call")
    again = commands.CancelLines({"l2": 2, "l1": 1}, reason="call")
    assert commands.step_fingerprint("o1", asked) == commands.step_fingerprint("o1", again)


def test_another_order_step_or_argument_has_another_fingerprint() -> None:
    base = commands.step_fingerprint("o1", commands.CancelLines({"l1": 1}))
    others = [
        commands.step_fingerprint("o2", commands.CancelLines({"l1": 1})),
        commands.step_fingerprint("o1", commands.CancelLines({"l1": 2})),
        commands.step_fingerprint("o1", commands.CancelLines({"l2": 1})),
        commands.step_fingerprint("o1", commands.CancelLines({"l1": 1}, reason="r")),
        commands.step_fingerprint("o1", commands.RequestReturn({"l1": 1})),
        commands.step_fingerprint("o1", commands.Cancel()),
    ]
    assert len({base, *others}) == 1 + len(others)


def test_a_return_receipt_is_told_apart_by_each_units_disposition() -> None:
    restock = commands.ReceiveReturn({R.RESTOCK: {"l1": 1}, R.DAMAGED: {"l1": 1}}, "REF-1")
    swapped = commands.ReceiveReturn({R.DAMAGED: {"l1": 1}, R.RESTOCK: {"l1": 1}}, "REF-1")
    damaged = commands.ReceiveReturn({R.DAMAGED: {"l1": 2}}, "REF-1")
    fingerprint = commands.step_fingerprint
    assert fingerprint("o1", restock) == fingerprint("o1", swapped)
    assert fingerprint("o1", restock) != fingerprint("o1", damaged)
