"""The ERP port over Tryton's JSON-RPC API (session login, one HTTP POST per call).

Tryton facts this module is built around:
- every model call carries a context with the user's `company`;
- a sale is created, quoted and confirmed in three separate transactions, so a crash can
  leave a draft or a quotation behind: posting looks the sale up by reference first and
  carries on from whatever state it finds;
- `sale.reference` holds our order number but is not unique, so the caller must serialise
  posts per order (the outbox worker must);
- a return is a sale with negative quantities;
- a stock change of ours (``post_stock_move``) is a shipment whose ``reference`` is ours
  (Tryton's stock moves have no reference of their own): goods from a supplier an
  incoming shipment, goods back from a customer a customer return shipment, anything
  else an internal shipment (to or from transit, lost and found, or a storage zone);
- timestamps are the server's naive UTC, which is what stock-move watermarks use.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from erp.port import (
    CUSTOMER,
    DEFAULT_OVERLAP,
    LOST_FOUND,
    STORAGE,
    SUPPLIER,
    TRANSIT,
    Cancellation,
    CancelledLine,
    ErpRejected,
    ErpSale,
    ErpUnavailable,
    Item,
    MovesPage,
    OrderLine,
    PriceListEntry,
    SalesOrder,
    StockLevel,
    StockMove,
    StockMovePosting,
    as_return,
)
from erp.tryton.rpc import TrytonRpc, TrytonWarning

# The shipment that records a stock move of ours, by where the goods come from, and the
# steps that take it from each state to done.
_INTERNAL = "stock.shipment.internal"
_SHIPMENT_OF = {SUPPLIER: "stock.shipment.in", CUSTOMER: "stock.shipment.out.return"}
_STEPS = {
    _INTERNAL: (("draft", "wait", "waiting"), ("waiting", "assign_force", "assigned"),
                ("assigned", "do", "done")),
    "stock.shipment.in": (("draft", "receive", "received"), ("received", "do", "done")),
    "stock.shipment.out.return": (("draft", "receive", "received"), ("received", "do", "done")),
}  # fmt: skip


class TrytonErp:
    def __init__(
        self,
        url: str,
        database: str,
        login: str,
        password: str,
        *,
        timeout: float = 10.0,
        default_warehouse: str | None = None,
    ) -> None:
        self._rpc = TrytonRpc(url, database, login, password, timeout=timeout)
        self._default_warehouse = default_warehouse
        self._place_cache: dict[int, _Place] = {}

    async def call(self, method: str, *args: Any, context: dict[str, Any] | None = None) -> Any:
        """Calls `model.<method>` on Tryton (for tests and tools that need a raw look)."""
        return await self._rpc.call(method, *args, context=context)

    async def close(self) -> None:
        await self._rpc.close()

    # lookups ---------------------------------------------------------------------------

    async def _products(self, skus: Sequence[str]) -> dict[str, dict[str, Any]]:
        rows = await self.call(
            "product.product.search_read",
            [("code", "in", list(skus))],
            0, None, None, ["id", "code", "default_uom"],
        )  # fmt: skip
        products = {row["code"]: row for row in rows}
        missing = sorted(set(skus) - products.keys())
        if missing:
            raise ErpRejected(f"Unknown products in Tryton: {', '.join(missing)}")
        return products

    async def _one(
        self, model: str, domain: list[Any], fields: list[str], what: str
    ) -> dict[str, Any]:
        rows = await self.call(f"{model}.search_read", domain, 0, 1, None, fields)
        if not rows:
            raise ErpRejected(f"Unknown {what} in Tryton")
        return dict(rows[0])

    # documents -------------------------------------------------------------------------

    async def _sales(self, reference: str) -> list[dict[str, Any]]:
        return list(
            await self.call(
                "sale.sale.search_read",
                [("reference", "=", reference)],
                0, None, [("id", "ASC")],
                ["id", "reference", "state", "lines", "warehouse.code"],
            )
        )  # fmt: skip

    async def _sale(self, reference: str) -> dict[str, Any] | None:
        """The sale for our reference: the oldest live one, else the oldest cancelled one.

        A cancelled sale still counts, so replaying a post after a cancellation does not
        sell the order a second time.
        """
        sales = await self._sales(reference)
        live = [sale for sale in sales if sale["state"] != "cancelled"]
        candidates = live or sales
        return candidates[0] if candidates else None

    async def find_sale(self, reference: str) -> ErpSale | None:
        sale = await self._sale(reference)
        if sale is None:
            return None
        lines = await self.call(
            "sale.line.read",
            sale["lines"],
            ["product.code", "quantity", "unit_price", "moves_ignored"],
        )
        # A line sells its quantity less the units a cancellation cut (ignored moves).
        moves = await self._move_rows([m for line in lines for m in line["moves_ignored"]])
        for line in lines:
            line["quantity"] = _kept(line, moves)
        return ErpSale(
            document_id=str(sale["id"]),
            reference=reference,
            state=sale["state"],
            location=(sale.get("warehouse.") or {}).get("code"),
            lines=tuple(
                OrderLine(
                    line["product."]["code"] if line.get("product.") else "",
                    Decimal(str(line["quantity"])),
                    line["unit_price"],
                )
                for line in lines
            ),
        )

    async def post_sales_order(self, order: SalesOrder) -> str:
        existing = await self._sale(order.reference)
        if existing is not None:
            sale_id, state = existing["id"], existing["state"]
        else:
            sale_id, state = await self._create_sale(order), "draft"
        if state == "draft":
            await self.call("sale.sale.quote", [sale_id])
            state = "quotation"
        if state == "quotation":
            await self.call("sale.sale.confirm", [sale_id])
        return str(sale_id)

    async def post_return(self, order: SalesOrder) -> str:
        """A sale with negative quantities at the location that took the units back;
        confirming it makes Tryton's customer return shipment, which is received and done
        here, since our return was received there already: Tryton's stock at that
        location then holds the units, as ours does (damaged ones too: our quarantined
        units are on hand, and Tryton has no quarantine of its own)."""
        sale_id = await self.post_sales_order(as_return(order))
        await self._receive_return_shipments(int(sale_id))
        return sale_id

    async def _receive_return_shipments(self, sale_id: int) -> None:
        """Receives, then finishes, the sale's customer return shipments; each step
        checks the state first, so a retry after a crash carries on."""
        model = "stock.shipment.out.return"
        (sale,) = await self.call("sale.sale.read", [sale_id], ["shipment_returns"])
        ids = list(sale["shipment_returns"])
        if not ids:
            raise ErpUnavailable(f"Tryton sale {sale_id} has no return shipment yet")
        for state, step in (("draft", "receive"), ("received", "do")):
            shipments = await self.call(f"{model}.read", ids, ["id", "state"])
            waiting = [shipment["id"] for shipment in shipments if shipment["state"] == state]
            if waiting:
                await self.call(f"{model}.{step}", waiting)

    async def _create_sale(self, order: SalesOrder) -> int:
        products = await self._products([line.sku for line in order.lines])
        party = await self._one(
            "party.party",
            ["OR", ("code", "=", order.customer_ref), ("name", "=", order.customer_ref)],
            ["id", "addresses"],
            f"customer {order.customer_ref!r}",
        )
        currency = await self._one(
            "currency.currency",
            [("code", "=", order.currency)],
            ["id"],
            f"currency {order.currency}",
        )
        address = party["addresses"][0] if party["addresses"] else None
        warehouse_code = order.location or self._default_warehouse
        warehouse = None
        if warehouse_code is not None:
            found = await self._one(
                "stock.location",
                [("code", "=", warehouse_code), ("type", "=", "warehouse")],
                ["id"],
                f"warehouse {warehouse_code!r}",
            )
            warehouse = found["id"]
        comment = f"correlation-id: {order.correlation_id}" if order.correlation_id else None
        values = {
            "reference": order.reference,
            "party": party["id"],
            "invoice_address": address,
            "shipment_address": address,
            "currency": currency["id"],
            "company": self._rpc.company,
            "invoice_method": "manual",
            "comment": comment,
            "lines": [
                ("create", [
                    {
                        "type": "line",
                        "product": products[line.sku]["id"],
                        "unit": products[line.sku]["default_uom"],
                        "quantity": float(line.quantity),
                        "unit_price": line.unit_price,
                    }
                    for line in order.lines
                ]),
            ],
        }  # fmt: skip
        if warehouse is not None:  # otherwise Tryton's default (its only warehouse) applies
            values["warehouse"] = warehouse
        (sale_id,) = await self.call("sale.sale.create", [values])
        return int(sale_id)

    async def post_cancellation(self, cancellation: Cancellation) -> str:
        sale = await self._sale(cancellation.reference)
        if sale is None:
            raise ErpRejected(f"No Tryton sale with reference {cancellation.reference!r}")
        if sale["state"] == "cancelled":
            return str(sale["id"])
        if sale["state"] in ("draft", "quotation"):
            if cancellation.skus or cancellation.lines:
                raise ErpRejected(
                    f"Tryton sale {sale['id']} is not confirmed yet; post it before "
                    "cancelling some of its lines"
                )
            await self.call("sale.sale.cancel", [sale["id"]])
            return str(sale["id"])
        if cancellation.lines:
            await self._amend_lines(sale["id"], cancellation.lines)
        else:
            await self._cancel_shipped_lines(sale["id"], set(cancellation.skus))
        return str(sale["id"])

    async def _sale_lines(self, sale_id: int) -> list[dict[str, Any]]:
        return list(
            await self.call(
                "sale.line.search_read", [("sale", "=", sale_id), ("type", "=", "line")],
                0, None, [("id", "ASC")],
                ["id", "product", "product.code", "quantity", "unit", "unit_price",
                 "from_location", "to_location", "moves", "moves_ignored", "moves_recreated"],
            )
        )  # fmt: skip

    async def _amend_lines(self, sale_id: int, cuts: tuple[CancelledLine, ...]) -> None:
        """Takes exactly the cancelled units off a confirmed sale.

        Tryton refuses to change a confirmed line's quantity, so the units are cut the
        way its shipment exceptions work: the line's unshipped moves are cancelled (with
        their shipments), a cancelled move of the cut units is added to the line and
        ignored, and the others are recreated, which makes Tryton plan a move of what
        the line still holds. A line then keeps ``quantity`` minus its ignored units
        (``_kept``), which is what ``find_sale`` reports. A SKU that keeps ``remaining``
        units already was amended before (a retry, even after a crash midway: the
        ignored move is the amendment's record).
        """
        lines = await self._sale_lines(sale_id)
        moves = await self._move_rows([m for line in lines for m in line["moves"]])
        due: dict[int, Decimal] = {}
        for cut in cuts:
            mine = [line for line in lines if (line.get("product.") or {}).get("code") == cut.sku]
            held = sum((_kept(line, moves) for line in mine), Decimal(0))
            if held == cut.remaining:
                continue
            if held != cut.remaining + cut.quantity:
                raise ErpRejected(
                    f"Tryton sale {sale_id} holds {held} of {cut.sku!r}, not the "
                    f"{cut.remaining + cut.quantity} a cancellation of {cut.quantity} expects"
                )
            left = cut.quantity
            for line in reversed(mine):  # the last lines of a SKU first
                unshipped = _unshipped(line, moves)
                taken = min(unshipped, left)
                if taken > 0:
                    due[line["id"]] = taken
                    left -= taken
            if left > 0:
                raise ErpRejected(f"Tryton sale {sale_id} has already shipped {cut.sku!r}")
        if not due:
            return
        amended = [line for line in lines if line["id"] in due]
        pending = [m for line in amended for m in _live(line, moves) if moves[m]["state"] != "done"]
        shipments = sorted(
            {int(str(moves[m]["shipment"]).split(",")[1]) for m in pending if moves[m]["shipment"]}
        )
        if shipments:
            await self.call("stock.shipment.out.cancel", shipments)
        leftover = [m for m in pending if moves[m]["shipment"] is None]
        if leftover:
            await self.call("stock.move.cancel", leftover)
        currency = await self._sale_currency(sale_id)
        cut_moves = await self.call(
            "stock.move.create",
            [
                {
                    "product": line["product"],
                    "unit": line["unit"],
                    "quantity": float(due[line["id"]]),
                    "from_location": line["from_location"],
                    "to_location": line["to_location"],
                    "company": self._rpc.company,
                    "unit_price": line["unit_price"],
                    "currency": currency,
                    "origin": f"sale.line,{line['id']}",
                }
                for line in amended
            ],
        )
        await self.call("stock.move.cancel", list(cut_moves))
        lines = await self._sale_lines(sale_id)
        moves = await self._move_rows([m for line in lines for m in line["moves"]])
        handled = {m for line in lines for m in (*line["moves_ignored"], *line["moves_recreated"])}
        cancelled = {m for m, move in moves.items() if move["state"] == "cancelled"} - handled
        ignore = sorted(set(cut_moves) & cancelled)
        await self._handle_shipment_exception(sale_id, ignore, sorted(cancelled - set(ignore)))

    async def _sale_currency(self, sale_id: int) -> int:
        (sale,) = await self.call("sale.sale.read", [sale_id], ["currency"])
        return int(sale["currency"])

    async def _move_rows(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        if not ids:
            return {}
        rows = await self.call("stock.move.read", ids, ["id", "state", "shipment", "quantity"])
        return {row["id"]: row for row in rows}

    async def _cancel_shipped_lines(self, sale_id: int, skus: set[str]) -> None:
        """Cancels lines of a confirmed sale the way a Tryton user would.

        The sale's outgoing shipments are cancelled, then the sale's shipment-exception
        wizard ignores the moves of the cancelled lines and recreates the others. Each
        step checks what is already done, so a retry after a crash carries on.
        """
        lines = await self._sale_lines(sale_id)
        known = {(line.get("product.") or {}).get("code") for line in lines}
        if skus - known:
            raise ErpRejected(f"Tryton sale {sale_id} has no lines for {sorted(skus - known)}")
        targets = [line for line in lines if not skus or line["product."]["code"] in skus]
        # Moves an earlier partial cancellation recreated are handled already.
        pending = [
            m
            for line in targets
            for m in line["moves"]
            if m not in line["moves_ignored"] and m not in line["moves_recreated"]
        ]
        if not pending:
            return
        by_id = await self._move_rows([m for line in lines for m in line["moves"]])
        if any(by_id[m]["state"] == "done" for m in pending):
            raise ErpRejected(f"Tryton sale {sale_id} has already shipped those lines")
        shipments = sorted(
            {
                int(str(by_id[m]["shipment"]).split(",")[1])
                for m in pending
                if by_id[m]["state"] != "cancelled" and by_id[m]["shipment"]
            }
        )
        if shipments:
            await self.call("stock.shipment.out.cancel", shipments)
            moves = await self.call("stock.move.read", list(by_id), ["id", "state"])
            by_id = {move["id"]: move for move in moves}
        cancelled = {m for m, move in by_id.items() if move["state"] == "cancelled"}
        handled = {m for line in lines for m in (*line["moves_ignored"], *line["moves_recreated"])}
        ignore = sorted(cancelled & set(pending))
        recreate = sorted(cancelled - set(ignore) - handled)
        await self._handle_shipment_exception(sale_id, ignore, recreate)

    async def _handle_shipment_exception(
        self, sale_id: int, ignore: list[int], recreate: list[int]
    ) -> None:
        wizard = "wizard.sale.handle.shipment.exception"
        active = {"active_model": "sale.sale", "active_id": sale_id, "active_ids": [sale_id]}
        session_id, _start, _end = await self._rpc.wizard(f"{wizard}.create", [], active)
        try:
            answer = {
                "ask": {
                    "ignore_moves": ignore,
                    "recreate_moves": recreate,
                    "domain_moves": ignore + recreate,
                }
            }
            await self._rpc.wizard(f"{wizard}.execute", [session_id, answer, "handle"], active)
        finally:
            await self._rpc.wizard(f"{wizard}.delete", [session_id], active)

    async def post_stock_move(self, move: StockMovePosting) -> str:
        """The shipment with ``move.reference``, made if missing, then taken to done from
        whatever state it is in, so a retry after a crash finishes it instead of moving
        the goods twice."""
        model = _SHIPMENT_OF.get(move.from_kind, _INTERNAL)
        found = await self.call(
            f"{model}.search_read", [("reference", "=", move.reference)],
            0, 1, [("id", "ASC")], ["id", "state"],
        )  # fmt: skip
        if found:
            shipment, state = int(found[0]["id"]), str(found[0]["state"])
        else:
            shipment, state = await self._create_move_shipment(model, move), "draft"
        for at, step, after in _STEPS[model]:
            if state == at:
                await self._accepting_no_origin(f"{model}.{step}", shipment)
                state = after
        if state != "done":
            raise ErpRejected(f"Tryton {model} {shipment} is {state}, not done")
        return str(shipment)

    async def _accepting_no_origin(self, method: str, shipment: int) -> None:
        """Tryton warns of moves to or from a customer without an origin document (a sale
        line); ours is the shipment's reference, so the warning is accepted, as a user
        would, and the step made again."""
        try:
            await self.call(method, [shipment])
        except TrytonWarning as warning:
            if not warning.name.endswith(".done"):
                raise
            await self.call(
                "res.user.warning.create",
                [{"user": self._rpc.user_id, "name": warning.name, "always": False}],
            )
            await self.call(method, [shipment])

    async def _create_move_shipment(self, model: str, move: StockMovePosting) -> int:
        product = (await self._products([move.sku]))[move.sku]
        company = self._rpc.company
        line: dict[str, Any] = {
            "product": product["id"],
            "unit": product["default_uom"],
            "quantity": float(move.quantity),
            "company": company,
        }
        values: dict[str, Any] = {"company": company, "reference": move.reference}
        if model == _INTERNAL:
            source = await self._end(move.from_location, move.from_kind)
            target = await self._end(move.to_location, move.to_kind)
            line.update(from_location=source, to_location=target)
            values.update(from_location=source, to_location=target, moves=[("create", [line])])
        else:
            # Goods from outside: the warehouse's input zone takes them, and receiving
            # the shipment puts them away. The sender is the company itself, since a
            # WMS's receipt or return names no party Tryton knows.
            if move.to_location is None:
                raise ErpRejected(f"A {model} of {move.sku!r} lands in one of our locations")
            warehouse = await self._warehouse(move.to_location)
            source = await self._outside(move.from_kind)
            (own,) = await self.call("company.company.read", [company], ["party", "currency"])
            line.update(
                from_location=source,
                to_location=warehouse["input_location"],
                unit_price=Decimal(0),
                currency=own["currency"],
            )
            party = "supplier" if model == "stock.shipment.in" else "customer"
            # Set here: Tryton fills the zones in only when a form changes the warehouse.
            values.update(
                {party: own["party"], "warehouse": warehouse["id"]},
                warehouse_input=warehouse["input_location"],
                warehouse_storage=warehouse["storage_location"],
                incoming_moves=[("create", [line])],
            )
        (shipment,) = await self.call(f"{model}.create", [values])
        return int(shipment)

    async def _warehouse(self, code: str) -> dict[str, Any]:
        return await self._one(
            "stock.location",
            [("code", "=", code), ("type", "=", "warehouse")],
            ["id", "storage_location", "input_location"],
            f"warehouse {code!r}",
        )

    async def _end(self, location: str | None, kind: str) -> int:
        """A move's end inside Tryton: the warehouse's storage zone, or the place outside."""
        if location is not None:
            return int((await self._warehouse(location))["storage_location"])
        return await self._outside(kind)

    async def _outside(self, kind: str) -> int:
        if kind == TRANSIT:
            (config,) = await self.call(
                "stock.configuration.read", [1], ["shipment_internal_transit"]
            )
            if not config["shipment_internal_transit"]:
                raise ErpRejected("Tryton has no transit location for internal shipments")
            return int(config["shipment_internal_transit"])
        if kind not in (SUPPLIER, CUSTOMER, LOST_FOUND):
            raise ErpRejected(f"No Tryton location for a move end of kind {kind!r}")
        found = await self._one("stock.location", [("type", "=", kind)], ["id"], f"{kind} location")
        return int(found["id"])

    async def _locations(self, codes: list[str] | None) -> list[dict[str, Any]]:
        domain: list[Any] = [("type", "=", "warehouse")]
        if codes is not None:
            domain = [("code", "in", codes)]
        return list(
            await self.call("stock.location.search_read", domain, 0, None, None, ["id", "code"])
        )

    async def stock_levels(
        self, skus: list[str] | None = None, locations: list[str] | None = None
    ) -> list[StockLevel]:
        domain: list[Any] = [] if skus is None else [("code", "in", skus)]
        levels: list[StockLevel] = []
        for location in await self._locations(locations):
            # Product quantities are only computed for the locations named in the context.
            rows = await self.call(
                "product.product.search_read", domain, 0, None, [("code", "ASC")],
                ["code", "quantity"], context={"locations": [location["id"]]},
            )  # fmt: skip
            levels.extend(
                StockLevel(row["code"], location["code"], Decimal(str(row["quantity"])))
                for row in rows
                if row["code"]
            )
        return levels

    async def stock_moves_since(
        self,
        watermark: datetime.datetime | None,
        overlap: datetime.timedelta = DEFAULT_OVERLAP,
    ) -> MovesPage:
        domain: list[Any] = []
        if watermark is not None:
            since = watermark - overlap
            domain = ["OR", ("write_date", ">=", since), ("create_date", ">=", since)]
        moves = await self._moves(domain)
        latest = max((move.changed_at for move in moves), default=watermark)
        return MovesPage(moves=moves, watermark=latest)

    async def shipment_moves(self, shipment: str) -> list[StockMove]:
        return list(await self._moves([("shipment", "=", shipment)]))

    async def _moves(self, domain: list[Any]) -> tuple[StockMove, ...]:
        rows = await self.call(
            "stock.move.search_read", domain, 0, None, [("id", "ASC")],
            ["id", "product.code", "from_location", "to_location", "quantity", "state",
             "shipment", "origin", "create_date", "write_date"],
        )  # fmt: skip
        places = await self._places(
            {row["from_location"] for row in rows} | {row["to_location"] for row in rows}
        )
        references = await self._sale_references(rows)
        destinations = await self._destinations(rows)
        shipment_references = await self._shipment_references(rows)
        moves = tuple(
            StockMove(
                move_id=str(row["id"]),
                sku=(row.get("product.") or {}).get("code") or "",
                from_location=places[row["from_location"]].code,
                to_location=places[row["to_location"]].code,
                quantity=Decimal(str(row["quantity"])),
                state=row["state"],
                changed_at=row["write_date"] or row["create_date"],
                from_warehouse=places[row["from_location"]].warehouse,
                to_warehouse=places[row["to_location"]].warehouse,
                from_kind=places[row["from_location"]].kind,
                to_kind=places[row["to_location"]].kind,
                shipment=row["shipment"] or None,
                order_reference=references.get(row["origin"] or ""),
                destination=destinations.get(row["shipment"] or ""),
                reference=shipment_references.get(row["shipment"] or ""),
            )
            for row in rows
        )
        return moves

    async def _places(self, ids: set[int]) -> dict[int, _Place]:
        """Each location's code, type and warehouse; read once, again when one is new."""
        if not ids <= self._place_cache.keys():
            rows = await self.call(
                "stock.location.search_read", [("active", "in", [True, False])], 0, None,
                None, ["id", "code", "name", "type", "parent"],
            )  # fmt: skip
            by_id = {row["id"]: row for row in rows}
            self._place_cache = {row["id"]: _place(row, by_id) for row in rows}
        return self._place_cache

    async def _destinations(self, rows: list[dict[str, Any]]) -> dict[str, str]:
        """Where each internal shipment in ``rows`` goes: its target's warehouse code."""
        model = "stock.shipment.internal"
        ids = sorted(
            {
                int(ref.split(",")[1])
                for row in rows
                if (ref := row["shipment"] or "").startswith(f"{model},")
            }
        )
        if not ids:
            return {}
        shipments = await self.call(f"{model}.read", ids, ["to_location"])
        places = await self._places({shipment["to_location"] for shipment in shipments})
        return {
            f"{model},{shipment['id']}": warehouse
            for shipment in shipments
            if (warehouse := places[shipment["to_location"]].warehouse)
        }

    async def _shipment_references(self, rows: list[dict[str, Any]]) -> dict[str, str]:
        """The reference of each shipment in ``rows`` of the kinds our own stock moves are
        posted as (``post_stock_move``), so the feed can tell ours from the ERP's."""
        found: dict[str, str] = {}
        for model in (_INTERNAL, *_SHIPMENT_OF.values()):
            ids = sorted(
                {
                    int(ref.split(",")[1])
                    for row in rows
                    if (ref := row["shipment"] or "").startswith(f"{model},")
                }
            )
            if ids:
                shipments = await self.call(f"{model}.read", ids, ["id", "reference"])
                found.update(
                    {
                        f"{model},{shipment['id']}": shipment["reference"]
                        for shipment in shipments
                        if shipment["reference"]
                    }
                )
        return found

    async def _sale_references(self, rows: list[dict[str, Any]]) -> dict[str, str]:
        """The sale reference (our order number) of each move that ships a sale line."""
        line_ids = sorted(
            {
                int(origin.split(",")[1])
                for row in rows
                if (origin := row["origin"] or "").startswith("sale.line,")
            }
        )
        if not line_ids:
            return {}
        lines = await self.call("sale.line.read", line_ids, ["sale.reference"])
        return {
            f"sale.line,{line['id']}": (line.get("sale.") or {}).get("reference") or ""
            for line in lines
        }

    async def items(self) -> list[Item]:
        rows = await self.call(
            "product.product.search_read", [], 0, None, [("code", "ASC")],
            ["code", "template.name", "template.list_price", "template.salable"],
        )  # fmt: skip
        return [
            Item(
                sku=row["code"],
                name=row["template."]["name"],
                list_price=row["template."]["list_price"] or Decimal(0),
                salable=bool(row["template."].get("salable")),
            )
            for row in rows
            if row["code"]
        ]

    async def price_lists(self) -> list[PriceListEntry]:
        """List prices as the "list" price list, plus fixed-price lines of Tryton price lists."""
        items = await self.items()
        company = await self.call("company.company.search_read", [], 0, 1, None, ["currency.code"])
        currency = company[0]["currency."]["code"] if company else "EUR"
        entries = [PriceListEntry("list", item.sku, item.list_price, currency) for item in items]
        lines = await self.call(
            "product.price_list.line.search_read", [("product", "!=", None)], 0, None, None,
            ["price_list.name", "product.code", "formula"],
        )  # fmt: skip
        for line in lines:
            try:
                price = Decimal(line["formula"])
            except ArithmeticError:
                continue  # a formula, not a fixed price: it needs Tryton to evaluate it
            entries.append(
                PriceListEntry(line["price_list."]["name"], line["product."]["code"], price,
                               currency)
            )  # fmt: skip
        return entries


def _live(line: dict[str, Any], moves: dict[int, dict[str, Any]]) -> list[int]:
    """The line's moves still meant to happen: neither cancelled nor handled."""
    handled = {*line["moves_ignored"], *line["moves_recreated"]}
    return [m for m in line["moves"] if m not in handled and moves[m]["state"] != "cancelled"]


def _kept(line: dict[str, Any], moves: dict[int, dict[str, Any]]) -> Decimal:
    """What a sale line still sells: its quantity less the units whose moves were ignored
    (cancelled on purpose)."""
    ignored = sum((Decimal(str(moves[m]["quantity"])) for m in line["moves_ignored"]), Decimal(0))
    return Decimal(str(line["quantity"])) - ignored


def _unshipped(line: dict[str, Any], moves: dict[int, dict[str, Any]]) -> Decimal:
    done = sum(
        (Decimal(str(moves[m]["quantity"])) for m in line["moves"] if moves[m]["state"] == "done"),
        Decimal(0),
    )
    return _kept(line, moves) - done


@dataclass(frozen=True)
class _Place:
    code: str
    kind: str
    warehouse: str | None


def _place(row: dict[str, Any], by_id: dict[int, dict[str, Any]]) -> _Place:
    """A location with the code of the warehouse above it (Tryton's `warehouse` is not
    readable over RPC, so the parent chain is walked here)."""
    warehouse = None
    current: dict[str, Any] | None = row
    while current is not None:
        if current["type"] == "warehouse":
            warehouse = current["code"]
            break
        current = by_id.get(current["parent"]) if current["parent"] else None
    code = str(row.get("code") or row.get("name") or row["id"])
    kind = str(row["type"])
    if kind == STORAGE and warehouse is None:
        kind = TRANSIT  # storage outside every warehouse holds goods between two
    return _Place(code=code, kind=kind, warehouse=warehouse)
