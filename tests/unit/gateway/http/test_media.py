from __future__ import annotations

import pytest

from gateway.http.media import (
    APPLICATION_JSON,
    GRAPHQL_RESPONSE_JSON,
    choose_response_type,
    prefers_html,
)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, APPLICATION_JSON),
        ("", APPLICATION_JSON),
        ("*/*", APPLICATION_JSON),
        ("application/*", APPLICATION_JSON),
        ("application/json", APPLICATION_JSON),
        ("application/graphql-response+json", GRAPHQL_RESPONSE_JSON),
        ("application/graphql-response+json, application/json;q=0.9", GRAPHQL_RESPONSE_JSON),
        ("application/json, application/graphql-response+json", GRAPHQL_RESPONSE_JSON),
        ("application/graphql-response+json;q=0.5, application/json", APPLICATION_JSON),
        ("application/json; charset=utf-8", APPLICATION_JSON),
        ("text/html, */*;q=0.8", APPLICATION_JSON),
        ("application/graphql-response+json, */*;q=0.1", GRAPHQL_RESPONSE_JSON),
    ],
)
def test_response_type_follows_accept_with_legacy_default(
    accept: str | None, expected: str
) -> None:
    assert choose_response_type(accept) == expected


@pytest.mark.parametrize(
    "accept", ["text/plain", "application/xml", "application/json;q=0", "garbage"]
)
def test_response_type_is_none_when_nothing_acceptable(accept: str) -> None:
    assert choose_response_type(accept) is None


def test_browsers_prefer_html_but_json_clients_do_not() -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert prefers_html(browser)
    assert not prefers_html("application/json")
    assert not prefers_html("*/*")
    assert not prefers_html(None)
    assert not prefers_html("application/json, text/html;q=0.5")
