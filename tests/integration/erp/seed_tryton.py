"""Seeds a freshly initialised Tryton database for the ERP adapter tests.

Run as a script (``python seed_tryton.py <config> <database>``) because trytond's pool and
configuration are process-global and must not leak into the test process.
"""

from __future__ import annotations

import datetime
import sys
from decimal import Decimal

SKUS = ("RG-TEE-001", "RG-TEE-002", "RG-CAP-001")
STOCK_PER_SKU = 100


def seed(config_path: str, database: str) -> None:
    from trytond import config

    config.update_etc(config_path)
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    Pool.start()
    pool = Pool(database)
    pool.init()
    with Transaction().start(database, 0, context={}) as transaction:
        currency_model = pool.get("currency.currency")
        rate_model = pool.get("currency.currency.rate")
        party_model = pool.get("party.party")
        company_model = pool.get("company.company")
        user_model = pool.get("res.user")
        uom_model = pool.get("product.uom")
        template_model = pool.get("product.template")
        location_model = pool.get("stock.location")
        move_model = pool.get("stock.move")

        (eur,) = currency_model.create([{"name": "Euro", "symbol": "€", "code": "EUR"}])
        rate_model.create([{"currency": eur.id, "rate": Decimal(1), "date": datetime.date.min}])
        (company_party,) = party_model.create(
            [{"name": "RetailGraph GmbH", "addresses": [("create", [{}])]}]
        )
        (company,) = company_model.create([{"party": company_party.id, "currency": eur.id}])
        admins = user_model.search([("login", "=", "admin")])
        user_model.write(admins, {"companies": [("add", [company.id])], "company": company.id})

        with transaction.set_context(company=company.id):
            party_model.create([{"name": "RetailGraph Web Shop", "addresses": [("create", [{}])]}])
            (unit,) = uom_model.search([("name", "=", "Unit")])
            templates = template_model.create(
                [
                    {
                        "name": f"Product {sku}",
                        "code": sku,
                        "type": "goods",
                        "default_uom": unit.id,
                        "salable": True,
                        "sale_uom": unit.id,
                        "list_price": Decimal("19.99"),
                        "products": [("create", [{}])],
                    }
                    for sku in SKUS
                ]
            )
            (storage,) = location_model.search([("code", "=", "STO")])
            (supplier,) = location_model.search([("code", "=", "SUP")])
            moves = move_model.create(
                [
                    {
                        "product": template.products[0].id,
                        "from_location": supplier.id,
                        "to_location": storage.id,
                        "quantity": STOCK_PER_SKU,
                        "unit": unit.id,
                        "unit_price": Decimal("5.00"),
                        "currency": eur.id,
                        "company": company.id,
                        "effective_date": datetime.date.today(),  # noqa: TID251 (Tryton dates moves by its own clock)
                    }
                    for template in templates
                ]
            )
            move_model.do(moves)
            _seed_demo_catalog(pool, company.id, eur.id, unit.id, supplier.id)
        transaction.commit()


def _seed_demo_catalog(pool, company: int, currency: int, unit: int, supplier: int) -> None:  # type: ignore[no-untyped-def]
    """The demo retailer's locations (as warehouses, coded by our location ids), item master
    and on-hand stock, so orders placed through the graph can reach Tryton unchanged."""
    from retailgraph.demo.catalog import demo_catalog

    catalog = demo_catalog()
    location_model = pool.get("stock.location")
    template_model = pool.get("product.template")
    move_model = pool.get("stock.move")
    storages = {}
    for location in catalog.locations:
        inbound, outbound, storage = location_model.create(
            [
                {
                    "name": f"{location.id} {role}",
                    "code": f"{location.id}-{role}",
                    "type": "storage",
                }
                for role in ("IN", "OUT", "STO")
            ]
        )
        (warehouse,) = location_model.create(
            [
                {
                    "name": location.name,
                    "code": location.id,
                    "type": "warehouse",
                    "input_location": inbound.id,
                    "output_location": outbound.id,
                    "storage_location": storage.id,
                }
            ]
        )
        location_model.write([inbound, outbound, storage], {"parent": warehouse.id})
        storages[location.id] = storage.id
    templates = _in_batches(
        template_model.create,
        [
            {
                "name": item.name,
                "code": item.sku,
                "type": "goods",
                "default_uom": unit,
                "salable": True,
                "sale_uom": unit,
                "list_price": item.base_prices["EUR"],
                "products": [("create", [{}])],
            }
            for item in catalog.items
        ],
    )
    products = {template.code: template.products[0].id for template in templates}
    moves = _in_batches(
        move_model.create,
        [
            {
                "product": products[row.sku],
                "from_location": supplier,
                "to_location": storages[row.location_id],
                "quantity": row.on_hand,
                "unit": unit,
                "unit_price": Decimal("1.00"),
                "currency": currency,
                "company": company,
                "effective_date": datetime.date.today(),  # noqa: TID251 (Tryton dates moves by its own clock)
            }
            for row in catalog.stock
            if row.on_hand > 0
        ],
    )
    for start in range(0, len(moves), BATCH):
        move_model.do(moves[start : start + BATCH])


BATCH = 50


def _in_batches(create, rows):  # type: ignore[no-untyped-def]
    """Big single calls build SQL expressions deep enough to exhaust Python's recursion."""
    created = []
    for start in range(0, len(rows), BATCH):
        created.extend(create(rows[start : start + BATCH]))
    return created


if __name__ == "__main__":
    seed(sys.argv[1], sys.argv[2])
