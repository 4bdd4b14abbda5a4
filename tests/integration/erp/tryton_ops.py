"""What a warehouse clerk does in Tryton, over its API: receive goods, move them between
warehouses, ship a sale (all of it or part of it)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from erp.tryton.erp import TrytonErp


async def _location_ids(erp: TrytonErp) -> dict[str, int]:
    rows = await erp.call("stock.location.search_read", [], 0, None, None, ["id", "code"])
    return {row["code"]: row["id"] for row in rows if row["code"]}


async def _product(erp: TrytonErp, sku: str) -> dict[str, Any]:
    (product,) = await erp.call(
        "product.product.search_read", [("code", "=", sku)], 0, 1, None, ["id", "default_uom"]
    )
    return dict(product)


async def _currency(erp: TrytonErp) -> int:
    (currency,) = await erp.call(
        "currency.currency.search_read", [("code", "=", "EUR")], 0, 1, None, ["id"]
    )
    return int(currency["id"])


async def receive(erp: TrytonErp, sku: str, warehouse: str, quantity: int) -> int:
    """Goods from the supplier put away in ``warehouse``'s storage; returns the move id."""
    locations = await _location_ids(erp)
    product = await _product(erp, sku)
    (move,) = await erp.call(
        "stock.move.create",
        [
            {
                "product": product["id"],
                "unit": product["default_uom"],
                "quantity": float(quantity),
                "from_location": locations["SUP"],
                "to_location": locations[f"{warehouse}-STO"],
                "company": erp._rpc.company,
                "unit_price": Decimal("1.00"),
                "currency": await _currency(erp),
            }
        ],
    )
    await erp.call("stock.move.do", [move])
    return int(move)


async def transfer(erp: TrytonErp, sku: str, source: str, target: str, quantity: int) -> int:
    """An internal shipment between two warehouses (through Tryton's transit location)."""
    locations = await _location_ids(erp)
    product = await _product(erp, sku)
    company = erp._rpc.company
    from_location, to_location = locations[f"{source}-STO"], locations[f"{target}-STO"]
    (shipment,) = await erp.call(
        "stock.shipment.internal.create",
        [
            {
                "company": company,
                "from_location": from_location,
                "to_location": to_location,
                "moves": [
                    ("create", [{
                        "product": product["id"], "unit": product["default_uom"],
                        "quantity": float(quantity), "from_location": from_location,
                        "to_location": to_location, "company": company,
                    }]),
                ],
            }
        ],
    )  # fmt: skip
    for step in ("wait", "assign_force", "pack", "ship", "do"):
        await erp.call(f"stock.shipment.internal.{step}", [shipment])
    return int(shipment)


async def ship(erp: TrytonErp, reference: str, quantities: dict[str, int] | None = None) -> int:
    """Ships the open customer shipment of the sale ``reference``: all of it, or only
    ``quantities`` per SKU (Tryton then opens a new shipment for the rest)."""
    sale = await erp.find_sale(reference)
    assert sale is not None, reference
    (found,) = await erp.call("sale.sale.read", [int(sale.document_id)], ["shipments"])
    shipments = await erp.call("stock.shipment.out.read", found["shipments"], ["id", "state"])
    open_ = [s["id"] for s in shipments if s["state"] not in ("done", "cancelled")]
    assert len(open_) == 1, (reference, sale, found, shipments)
    (shipment,) = open_
    await erp.call("stock.shipment.out.wait", [shipment])
    if quantities is not None:
        (read,) = await erp.call("stock.shipment.out.read", [shipment], ["inventory_moves"])
        moves = await erp.call("stock.move.read", read["inventory_moves"], ["id", "product.code"])
        for move in moves:
            await erp.call(
                "stock.move.write",
                [move["id"]],
                {"quantity": float(quantities.get(move["product."]["code"], 0))},
            )
    for step in ("assign_force", "pick", "pack", "do"):
        await erp.call(f"stock.shipment.out.{step}", [shipment])
    return int(shipment)


async def rename_and_reprice(erp: TrytonErp, sku: str, name: str, list_price: Decimal) -> None:
    (product,) = await erp.call(
        "product.product.search_read", [("code", "=", sku)], 0, 1, None, ["template"]
    )
    await erp.call(
        "product.template.write", [product["template"]], {"name": name, "list_price": list_price}
    )


async def fixed_price(erp: TrytonErp, price_list: str, sku: str, formula: str) -> None:
    """A Tryton price list named ``price_list`` with one fixed-price line for ``sku``."""
    product = await _product(erp, sku)
    await erp.call(
        "product.price_list.create",
        [
            {
                "name": price_list,
                "company": erp._rpc.company,
                "lines": [("create", [{"product": product["id"], "formula": formula}])],
            }
        ],
    )
