"""A request's credential names its client; no credential is the anonymous client; a
credential that is not recognised is refused, never taken for anonymous."""

from __future__ import annotations

import pytest

from gateway.security.clients import (
    ANONYMOUS,
    Client,
    ClientDirectory,
    Unauthenticated,
    key_hash,
)

STOREFRONT = Client(
    "storefront",
    scopes=frozenset({"orders:place"}),
    key_hashes=frozenset({key_hash("sf-old"), key_hash("sf-new")}),
)
OPERATOR = Client("operator", scopes=frozenset({"operator"}), key_hashes=frozenset())
DIRECTORY = ClientDirectory([STOREFRONT, OPERATOR], anonymous=Client(ANONYMOUS))


async def test_no_credential_is_the_anonymous_client_with_no_scopes() -> None:
    caller = await DIRECTORY.caller({})
    assert (caller.name, caller.authenticated, caller.scopes) == (ANONYMOUS, False, frozenset())


@pytest.mark.parametrize(
    ("headers", "payload"),
    [
        ({"authorization": "Bearer sf-old"}, None),
        ({"x-api-key": "sf-new"}, None),
        ({}, {"apiKey": "sf-new"}),
        ({}, {"authorization": "Bearer sf-old"}),
    ],
)
async def test_an_api_key_names_its_client_on_every_transport_and_both_rotated_keys_work(
    headers: dict[str, str], payload: dict[str, str] | None
) -> None:
    caller = await DIRECTORY.caller(headers, payload)
    assert (caller.name, caller.authenticated, caller.scopes) == (
        "storefront",
        True,
        frozenset({"orders:place"}),
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"authorization": "Bearer not-a-key"},
        {"x-api-key": "revoked"},
        {"authorization": "Basic c2Y6b2xk"},
        {"authorization": "Bearer "},
        {"x-api-key": "k" * 20_000},
    ],
)
async def test_an_unknown_or_malformed_credential_is_refused_not_made_anonymous(
    headers: dict[str, str],
) -> None:
    with pytest.raises(Unauthenticated) as refused:
        await DIRECTORY.caller(headers)
    assert refused.value.code == "INVALID_CREDENTIALS"


async def test_a_members_only_gateway_refuses_a_request_without_credentials() -> None:
    with pytest.raises(Unauthenticated) as refused:
        await ClientDirectory([STOREFRONT], anonymous=None).caller({})
    assert refused.value.code == "CREDENTIALS_REQUIRED"


def test_keys_are_configured_as_hashes_and_each_names_one_client() -> None:
    assert key_hash("sf-old").startswith("sha256:")
    with pytest.raises(ValueError, match="sha256"):
        ClientDirectory([Client("x", key_hashes=frozenset({"sf-old"}))])
    with pytest.raises(ValueError, match="twice"):
        ClientDirectory([STOREFRONT, Client("y", key_hashes=frozenset({key_hash("sf-old")}))])
    with pytest.raises(ValueError, match="anonymous"):
        ClientDirectory([Client(ANONYMOUS)])
    with pytest.raises(ValueError, match="anonymous"):
        ClientDirectory([], anonymous=Client("guest"))
