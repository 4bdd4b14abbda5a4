"""The stock picture a change decides from: what each channel and region sees, and the
picture once reservations hold or give back their units."""

from __future__ import annotations

from datetime import timedelta

from domains.inventory.model import ChannelRule, Reservation, StockLevel
from domains.inventory.picture import StockPicture
from tests.support import TEST_NOW

SKU = "TENT-2P"


def _picture() -> StockPicture:
    return StockPicture(
        levels={
            (SKU, "DC"): StockLevel(SKU, "DC", on_hand=10, reserved=2, incoming=4),
            (SKU, "ST"): StockLevel(SKU, "ST", on_hand=3),
            ("OTHER", "DC"): StockLevel("OTHER", "DC", on_hand=50),
        },
        regions={"DC": "north", "ST": "north"},
        rules={"DC": (ChannelRule("web"), ChannelRule("app", 50, cap=3)), "ST": ()},
        counts_incoming={"web": True, "app": False},
    )


def _reservation(quantity: int, location_id: str = "DC") -> Reservation:
    return Reservation(
        "r-1", "k-1", SKU, location_id, quantity, expires_at=TEST_NOW + timedelta(minutes=15)
    )


def test_a_channel_sees_its_share_at_the_locations_that_serve_it() -> None:
    picture = _picture()
    assert picture.availability(SKU, "web").available == 12  # 8 sellable + 4 incoming
    assert picture.allocated(SKU, "DC", "app") == 3  # half of 8, capped at 3
    assert picture.allocated(SKU, "ST", "web") == 0  # ST serves no channel
    assert picture.channels_at("DC") == ("web", "app")
    assert picture.channels_at("ST") == ()


def test_a_region_sees_the_sellable_units_of_its_locations() -> None:
    assert _picture().regional_available(SKU, "north") == 11
    assert _picture().regional_available(SKU, "south") == 0


def test_reservations_holding_and_giving_back_units_change_only_their_rows() -> None:
    picture = _picture()
    held = picture.holding([_reservation(5)])
    assert held.levels[(SKU, "DC")].reserved == 7
    assert held.levels[(SKU, "ST")] == picture.levels[(SKU, "ST")]
    assert held.releasing([_reservation(5)]) == picture
    # A reservation at a row the picture does not hold changes nothing.
    assert picture.releasing([_reservation(1, "NOWHERE")]) == picture


def test_written_levels_replace_what_the_picture_read() -> None:
    written = StockLevel(SKU, "ST", on_hand=9, committed=1)
    after = _picture().with_levels([written])
    assert after.levels[(SKU, "ST")] == written
    assert after.regional_available(SKU, "north") == 8 + 8
