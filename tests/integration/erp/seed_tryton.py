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
    from trytond.config import config

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
                        "effective_date": datetime.date.today(),
                    }
                    for template in templates
                ]
            )
            move_model.do(moves)
        transaction.commit()


if __name__ == "__main__":
    seed(sys.argv[1], sys.argv[2])
