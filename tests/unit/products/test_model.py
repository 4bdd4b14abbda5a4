"""The catalogue rules: what an item must look like, publication and discontinuation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domains.products import model
from domains.products.errors import (
    InvalidCursor,
    InvalidFilter,
    InvalidPageSize,
    InvalidProduct,
    ProductDiscontinued,
    UnknownChannel,
)
from kernel.channels import SalesVocabulary

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = T0 + timedelta(days=1)


def item(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "sku": "ST-0001-01",
        "name": "Northwind T-Shirt Black M",
        "description": "Cotton t-shirt.",
        "brand": "Northwind",
        "category": "apparel/tops",
        "unit_of_measure": "ea",
        "style": "ST-0001",
        "attributes": {"material": "cotton"},
        "variant": {"colour": "black", "size": "M"},
    }
    record.update(overrides)
    return record


def product(**overrides: Any) -> model.Product:
    return model.parse_item(item(**overrides))


def test_parse_item_reads_every_field_of_the_item_master() -> None:
    parsed = product()
    assert parsed.sku == "ST-0001-01"
    assert parsed.unit_of_measure == "EA"
    assert parsed.style == "ST-0001"
    assert parsed.attributes == (model.Attribute("material", "cotton"),)
    assert parsed.variant_attributes == (
        model.Attribute("colour", "black"),
        model.Attribute("size", "M"),
    )
    assert parsed.status == model.ACTIVE
    assert parsed.publications == ()


def test_parse_item_without_style_makes_the_sku_its_own_style() -> None:
    assert product(style=None).style == "ST-0001-01"


def test_parse_item_accepts_numbers_as_attribute_values() -> None:
    assert product(attributes={"weight_kg": 1.5}).attributes == (
        model.Attribute("weight_kg", "1.5"),
    )


@pytest.mark.parametrize(
    ("overrides", "bad_field"),
    [
        ({"sku": ""}, "sku"),
        ({"sku": "has space"}, "sku"),
        ({"sku": "x" * 65}, "sku"),
        ({"sku": 42}, "sku"),
        ({"name": "   "}, "name"),
        ({"name": None}, "name"),
        ({"brand": ""}, "brand"),
        ({"category": "Apparel/Tops"}, "category"),
        ({"category": "apparel//tops"}, "category"),
        ({"category": None}, "category"),
        ({"unit_of_measure": "each piece"}, "unit_of_measure"),
        ({"style": "bad style"}, "style"),
        ({"attributes": "cotton"}, "attributes"),
        ({"attributes": {"material": None}}, "attributes"),
        ({"attributes": {"flag": True}}, "attributes"),
        ({"variant": {"": "x"}}, "variant"),
        ({"status": "deleted"}, "status"),
    ],
)
def test_parse_item_rejects_bad_fields_naming_the_field(
    overrides: dict[str, Any], bad_field: str
) -> None:
    with pytest.raises(InvalidProduct) as caught:
        model.parse_item(item(**overrides))
    assert caught.value.code == "INVALID_PRODUCT"
    assert caught.value.details["field"] == bad_field


def test_parse_item_rejects_what_is_not_an_object() -> None:
    with pytest.raises(InvalidProduct):
        model.parse_item(["sku"])  # type: ignore[arg-type]


def test_publish_records_the_channel_and_the_time() -> None:
    published = model.publish(product(), "web", T0)
    assert published.is_published_in("web")
    assert not published.is_published_in("store")
    assert published.publication("web") == model.Publication("web", True, T0)


def test_publish_twice_returns_the_same_product() -> None:
    once = model.publish(product(), "app", T0)
    assert model.publish(once, "app", T1) is once


def test_unpublish_keeps_when_the_product_was_withdrawn() -> None:
    withdrawn = model.unpublish(model.publish(product(), "web", T0), "web", T1)
    assert withdrawn.publication("web") == model.Publication("web", False, T1)


def test_unpublish_where_not_published_returns_the_same_product() -> None:
    never = product()
    assert model.unpublish(never, "web", T0) is never


def test_publications_keep_the_channel_order_whatever_the_order_of_publishing() -> None:
    result = model.publish(model.publish(product(), "store", T0), "web", T0)
    assert [p.channel for p in result.publications] == ["store", "web"]


def test_publish_in_a_malformed_channel_is_refused() -> None:
    with pytest.raises(UnknownChannel) as caught:
        model.publish(product(), "Fax Machine", T0)
    assert caught.value.code == "UNKNOWN_CHANNEL"


def test_discontinue_withdraws_the_product_from_every_channel() -> None:
    live = model.publish(model.publish(product(), "web", T0), "store", T0)
    gone = model.discontinue(live, T1)
    assert gone.status == model.DISCONTINUED
    assert not any(p.published for p in gone.publications)
    assert {p.since for p in gone.publications} == {T1}


def test_discontinue_twice_returns_the_same_product() -> None:
    gone = model.discontinue(product(), T0)
    assert model.discontinue(gone, T1) is gone


def test_a_discontinued_product_cannot_be_published() -> None:
    with pytest.raises(ProductDiscontinued) as caught:
        model.publish(model.discontinue(product(), T0), "web", T1)
    assert caught.value.code == "PRODUCT_DISCONTINUED"


def test_apply_item_takes_new_master_data_and_keeps_publications() -> None:
    stored = model.publish(product(), "web", T0)
    renamed = model.apply_item(stored, product(name="New name"), T1)
    assert renamed.name == "New name"
    assert renamed.publications == stored.publications


def test_apply_item_of_a_discontinued_item_withdraws_it_everywhere() -> None:
    stored = model.publish(product(), "web", T0)
    updated = model.apply_item(stored, product(status="discontinued"), T1)
    assert updated.status == model.DISCONTINUED
    assert not updated.is_published_in("web")


def test_apply_item_with_identical_data_changes_nothing() -> None:
    stored = model.publish(product(), "web", T0)
    assert model.apply_item(stored, product(), T1) == stored


def test_publication_changes_name_each_changed_channel_of_the_sku() -> None:
    before = model.publish(product(), "web", T0)
    after = model.publish(model.unpublish(before, "web", T1), "app", T1)
    changes = model.publication_changes(before, after, T1)
    assert [(c.TYPE, c.sku, c.channel) for c in changes] == [
        ("ProductPublished", "ST-0001-01", "app"),
        ("ProductUnpublished", "ST-0001-01", "web"),
    ]


def test_card_round_trips_a_product() -> None:
    original = model.discontinue(model.publish(product(), "web", T0), T1)
    assert model.from_card(model.to_card(original)) == original


def test_cursor_round_trips_a_sku_and_is_opaque() -> None:
    cursor = model.encode_cursor("ST-0001-01")
    assert "ST-0001" not in cursor
    assert model.decode_cursor(cursor) == "ST-0001-01"


@pytest.mark.parametrize("cursor", ["", "not-base64!", "c2t1Og==", "aGVsbG8=", "🛒"])
def test_decode_cursor_rejects_what_the_api_did_not_hand_out(cursor: str) -> None:
    with pytest.raises(InvalidCursor) as caught:
        model.decode_cursor(cursor)
    assert caught.value.code == "INVALID_CURSOR"


@pytest.mark.parametrize("first", [0, -1, 201, 2**40])
def test_page_size_outside_1_to_200_is_refused(first: int) -> None:
    with pytest.raises(InvalidPageSize) as caught:
        model.check_page_size(first)
    assert caught.value.code == "INVALID_PAGE_SIZE"


@pytest.mark.parametrize("first", [1, 200])
def test_page_size_accepts_the_bounds(first: int) -> None:
    assert model.check_page_size(first) == first


def test_check_filter_trims_search_and_drops_an_empty_one() -> None:
    assert model.check_filter(search="  polo ").search == "polo"
    assert model.check_filter(search="   ").search is None


@pytest.mark.parametrize(
    "arguments",
    [{"category": "Apparel"}, {"search": "x" * 101}, {"brand": "b" * 101}],
)
def test_check_filter_rejects_bad_parts(arguments: dict[str, str]) -> None:
    with pytest.raises(InvalidFilter):
        model.check_filter(**arguments)


def test_check_filter_rejects_a_malformed_channel() -> None:
    with pytest.raises(UnknownChannel):
        model.check_filter(channel="fax machine")


def test_a_channel_is_sold_in_only_when_the_retailer_sells_through_it() -> None:
    sales = SalesVocabulary(channels=("web", "amazon"))
    assert model.sold_in("amazon", sales) == "amazon"
    with pytest.raises(UnknownChannel) as caught:
        model.sold_in("store", sales)
    assert "web, amazon" in caught.value.message
