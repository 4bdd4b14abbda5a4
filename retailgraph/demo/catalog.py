"""A deterministic demo retailer: the same catalogue, stores and stock on every run.

Each domain's demo loader takes the part it owns from here, so the SKUs, locations and
prices line up across the domains without any domain reading another's tables.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache

from kernel.channels import OWN_CHANNELS

# The base price lists, every channel's unless it has its own.
CURRENCIES = ("EUR", "USD")
USD_PER_EUR = Decimal("1.08")
# The marketplace sells footwear and outdoor goods in pounds, from its own price list
# (the marketplace's fee on top of the converted price) and a share of one DC's stock.
MARKETPLACE = "amazon"
MARKETPLACE_CURRENCY = "GBP"
MARKETPLACE_CATEGORIES = ("footwear", "outdoor")
GBP_PER_EUR = Decimal("0.86")
MARKETPLACE_MARKUP = Decimal("1.10")

_CATEGORIES = {
    "apparel/tops": ("T-Shirt", "Polo", "Sweater", "Hoodie"),
    "apparel/bottoms": ("Jeans", "Chinos", "Shorts"),
    "footwear": ("Sneaker", "Boot", "Sandal"),
    "home/kitchen": ("Mug", "Kettle", "Pan"),
    "home/textiles": ("Towel", "Blanket", "Pillow"),
    "outdoor": ("Tent", "Backpack", "Water Bottle"),
}
_BRANDS = ("Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware", "Adatum", "Proseware")
_COLOURS = ("black", "white", "navy", "red", "green", "grey")
_SIZES = ("S", "M", "L", "XL")
_MATERIALS = ("cotton", "wool", "polyester", "leather", "steel", "ceramic")


@dataclass(frozen=True, slots=True)
class DemoItem:
    sku: str
    style: str
    name: str
    description: str
    brand: str
    category: str
    unit_of_measure: str
    attributes: dict[str, str]
    variant: dict[str, str]
    channels: tuple[str, ...]
    base_prices: dict[str, Decimal]
    tax_rate: Decimal
    # The marketplace's own price, in its currency, when the item is sold there.
    marketplace_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class DemoLocation:
    id: str
    name: str
    kind: str  # "DC" or "STORE"
    region: str
    channels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DemoStock:
    sku: str
    location_id: str
    on_hand: int
    safety_stock: int
    quarantined: int
    incoming: int


@dataclass(frozen=True, slots=True)
class DemoCatalog:
    items: tuple[DemoItem, ...]
    locations: tuple[DemoLocation, ...]
    stock: tuple[DemoStock, ...]
    # The retailer's own channels, which the demo's orders are spread over.
    channels: tuple[str, ...] = OWN_CHANNELS
    currencies: tuple[str, ...] = CURRENCIES
    featured_skus: tuple[str, ...] = field(default=())


LOCATIONS = (
    DemoLocation(
        "DC-NORTH", "Distribution centre North", "DC", "north", ("web", "app", MARKETPLACE)
    ),
    DemoLocation("DC-SOUTH", "Distribution centre South", "DC", "south", ("web", "app")),
    DemoLocation("STORE-BERLIN", "Store Berlin Mitte", "STORE", "north", ("store", "web")),
    DemoLocation("STORE-HAMBURG", "Store Hamburg", "STORE", "north", ("store",)),
    DemoLocation("STORE-MUNICH", "Store Munich", "STORE", "south", ("store", "web")),
)


@cache
def demo_catalog(styles: int = 500) -> DemoCatalog:
    """About four SKUs per style: 500 styles make the ~2,000 SKUs of the demo retailer."""
    rng = random.Random(20261122)
    items: list[DemoItem] = []
    for number in range(1, styles + 1):
        category = rng.choice(sorted(_CATEGORIES))
        noun = rng.choice(_CATEGORIES[category])
        brand = rng.choice(_BRANDS)
        style = f"ST-{number:04d}"
        material = rng.choice(_MATERIALS)
        base = Decimal(rng.randrange(499, 19999)) / 100
        sized = category.startswith(("apparel", "footwear"))
        colours = rng.sample(_COLOURS, 2)
        variants = (
            [{"colour": c, "size": s} for c in colours for s in rng.sample(_SIZES, 2)]
            if sized
            else [{"colour": c} for c in rng.sample(_COLOURS, 4)]
        )
        channels = OWN_CHANNELS if rng.random() > 0.1 else ("web", "app")
        on_marketplace = channels == OWN_CHANNELS and category in MARKETPLACE_CATEGORIES
        if on_marketplace:
            channels = (*channels, MARKETPLACE)
        marketplace_price = (
            (base * GBP_PER_EUR * MARKETPLACE_MARKUP).quantize(Decimal("0.01"))
            if on_marketplace
            else None
        )
        for index, variant in enumerate(variants, start=1):
            sku = f"{style}-{index:02d}"
            label = " ".join(v.title() if len(v) > 2 else v for v in variant.values())
            items.append(
                DemoItem(
                    sku=sku,
                    style=style,
                    name=f"{brand} {noun} {label}",
                    description=f"{brand} {noun.lower()} in {material}, {label.lower()}.",
                    brand=brand,
                    category=category,
                    unit_of_measure="EA",
                    attributes={"material": material},
                    variant=variant,
                    channels=channels,
                    base_prices={
                        "EUR": base,
                        "USD": (base * USD_PER_EUR).quantize(Decimal("0.01")),
                    },
                    tax_rate=Decimal("0.19")
                    if not category.startswith("home")
                    else Decimal("0.07"),
                    marketplace_price=marketplace_price,
                )
            )
    stock: list[DemoStock] = []
    for item in items:
        for location in LOCATIONS:
            if location.kind == "STORE" and rng.random() < 0.3:
                continue
            dc = location.kind == "DC"
            on_hand = rng.randrange(20, 400) if dc else rng.randrange(0, 25)
            stock.append(
                DemoStock(
                    sku=item.sku,
                    location_id=location.id,
                    on_hand=on_hand,
                    safety_stock=5 if dc else 1,
                    quarantined=rng.choice((0, 0, 0, 1, 2)),
                    incoming=rng.choice((0, 0, 50, 100)) if dc else 0,
                )
            )
    return DemoCatalog(
        items=tuple(items),
        locations=LOCATIONS,
        stock=tuple(stock),
        featured_skus=tuple(item.sku for item in items[:8]),
    )
