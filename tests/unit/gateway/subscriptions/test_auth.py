"""Who may subscribe: API keys from the payload or headers, or everyone by default."""

from __future__ import annotations

import pytest

from gateway.subscriptions.auth import ApiKeys, accept_all, authenticator_for


@pytest.mark.parametrize(
    ("payload", "headers"),
    [
        ({"apiKey": "k2"}, {}),
        ({"authorization": "Bearer k1"}, {}),
        ({"Authorization": "bearer k1"}, {}),
        (None, {"authorization": "Bearer k2"}),
        (None, {"x-api-key": "k1"}),
    ],
)
async def test_a_configured_key_is_admitted_wherever_it_is_given(
    payload: dict[str, str] | None, headers: dict[str, str]
) -> None:
    assert await ApiKeys(["k1", "k2"])(payload, headers)


@pytest.mark.parametrize(
    ("payload", "headers"),
    [
        (None, {}),
        ({"apiKey": "k3"}, {}),
        ({"apiKey": 1}, {}),
        ({"authorization": "Basic k1"}, {}),
        (None, {"authorization": "Bearer k"}),
    ],
)
async def test_a_missing_or_unknown_key_is_refused(
    payload: dict[str, object] | None, headers: dict[str, str]
) -> None:
    assert not await ApiKeys(["k1", "k2"])(payload, headers)


def test_configured_api_keys_admit_their_holders_and_no_keys_admit_everyone() -> None:
    assert authenticator_for([]) is accept_all
    assert authenticator_for([" ", ""]) is accept_all
    assert isinstance(authenticator_for(["a", "b"]), ApiKeys)
