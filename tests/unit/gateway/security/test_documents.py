"""Partners run the documents of their manifest: manifests are read in Apollo's and GraphQL
Code Generator's formats, checked against the supergraph, and requests resolved to a trusted
document, or an APQ one for clients allowed arbitrary documents, with Apollo's error codes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from gateway.security.documents import (
    APOLLO_FORMAT,
    NO_CACHE,
    DocumentError,
    Manifest,
    ManifestError,
    ManifestLimits,
    MemoryApqStore,
    check_manifest,
    load_manifest,
    resolve_document,
)
from gateway.supergraph import load_supergraph

SDL = (Path(__file__).parents[4] / "schema.graphql").read_text()
API_SCHEMA = load_supergraph(SDL).api_schema

PRODUCT_CARD = "query ProductCard($sku: ID!) { product(sku: $sku) { sku name brand } }"
PRODUCT_PAGE = (
    "query ProductPage($first: Int!, $after: String) {"
    " products(first: $first, after: $after) {"
    " edges { node { sku name } } pageInfo { hasNextPage endCursor } } }"
)
PRODUCT_PRICE = (
    "query ProductPrice($sku: ID!, $channel: String!, $currency: String!) {"
    " product(sku: $sku) { price(channel: $channel, currency: $currency) { base { amount } } } }"
)
AD_HOC = "query AdHoc { products(first: 1) { totalCount } }"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def apollo_manifest(*operations: Any) -> str:
    return json.dumps({"format": APOLLO_FORMAT, "version": 1, "operations": list(operations)})


def operation(
    body: str, name: str, *, id: str | None = None, type: str = "query"
) -> dict[str, Any]:
    return {"id": id or sha256(body), "name": name, "type": type, "body": body}


PARTNER = load_manifest(
    apollo_manifest(
        operation(PRODUCT_CARD, "ProductCard"),
        operation(PRODUCT_PAGE, "ProductPage"),
        operation(PRODUCT_PRICE, "ProductPrice"),
    )
)


def apq(body_hash: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": body_hash}}


async def refusal(params: dict[str, Any], **options: Any) -> DocumentError:
    options.setdefault("manifest", PARTNER)
    options.setdefault("apq_store", MemoryApqStore())
    options.setdefault("allow_arbitrary", False)
    with pytest.raises(DocumentError) as caught:
        await resolve_document(params, **options)
    return caught.value


# --- manifests ------------------------------------------------------------------------------


def test_an_apollo_manifest_maps_each_id_to_the_operation_name_and_body() -> None:
    document = PARTNER[sha256(PRODUCT_CARD)]
    assert (document.name, document.body, document.type) == ("ProductCard", PRODUCT_CARD, "query")
    assert len(PARTNER) == 3
    assert PARTNER.format == "apollo"


def test_an_apollo_manifest_keeps_ids_its_tool_chose_other_than_hashes() -> None:
    manifest = load_manifest(apollo_manifest(operation(PRODUCT_CARD, "ProductCard", id="card")))
    assert manifest["card"].body == PRODUCT_CARD
    assert manifest.by_hash(sha256(PRODUCT_CARD)) == manifest["card"]


def test_a_codegen_map_is_read_with_operation_names_taken_from_the_bodies() -> None:
    manifest = load_manifest(json.dumps({"a1": PRODUCT_CARD, "b2": "{ products { totalCount } }"}))
    assert manifest.format == "codegen"
    assert (manifest["a1"].name, manifest["a1"].body) == ("ProductCard", PRODUCT_CARD)
    assert manifest["b2"].name is None


def test_a_manifest_is_read_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "persisted-documents.json"
    path.write_text(json.dumps({f"sha256:{sha256(PRODUCT_PAGE)}": PRODUCT_PAGE}))
    assert load_manifest(path)[f"sha256:{sha256(PRODUCT_PAGE)}"].name == "ProductPage"
    assert load_manifest(str(path)).format == "codegen"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "must be a JSON object"),
        ('{"format": "relay", "version": 1, "operations": []}', "format must be"),
        (f'{{"format": "{APOLLO_FORMAT}", "version": 2, "operations": []}}', "version must be 1"),
        (f'{{"format": "{APOLLO_FORMAT}", "version": true, "operations": []}}', "version must"),
        (f'{{"format": "{APOLLO_FORMAT}", "version": 1, "operations": {{}}}}', "must be a list"),
        (apollo_manifest("ProductCard"), "operation 0 must be an object"),
        (apollo_manifest({"id": "x", "name": "X", "type": "query"}), "'body' must be a string"),
        (apollo_manifest({"name": "X", "type": "query", "body": "{ x }"}), "the id must be"),
        (apollo_manifest(operation(PRODUCT_CARD, "ProductCard", type="read")), "'type' must be"),
        (apollo_manifest({**operation(PRODUCT_CARD, "P"), "name": 3}), "'name' must be a string"),
        (apollo_manifest(operation(PRODUCT_CARD, "P", id="0" * 64)), "not the SHA-256 of the body"),
        (
            apollo_manifest(
                operation(PRODUCT_CARD, "P", id="x"), operation(PRODUCT_PAGE, "Q", id="x")
            ),
            "given twice, with different bodies",
        ),
        (apollo_manifest(operation("  ", "P", id="x")), "the body is empty"),
        (json.dumps({f"sha256:{'0' * 64}": PRODUCT_CARD}), "must be the SHA-256 of the body"),
        ('{"a": "{ x }", "a": "{ y }"}', "repeats the key 'a'"),
        (json.dumps({"a": ["{ x }"]}), "the body must be a string"),
        (json.dumps({"a": "query X { \ud800 }"}), "not valid Unicode"),
        (json.dumps({"x" * 300: "{ x }"}), "longer than 256 characters"),
    ],
)
def test_a_malformed_manifest_is_refused_saying_what_is_wrong(text: str, reason: str) -> None:
    with pytest.raises(ManifestError, match=reason):
        load_manifest(text)


def test_a_manifest_past_its_bounds_is_refused(tmp_path: Path) -> None:
    limits = ManifestLimits(max_bytes=1_000, max_operations=2, max_body_bytes=60)
    with pytest.raises(ManifestError, match="3 operations, over the limit of 2"):
        load_manifest(json.dumps({"a": "{ a }", "b": "{ b }", "c": "{ c }"}), limits=limits)
    with pytest.raises(ManifestError, match="over the limit of 60"):
        load_manifest(json.dumps({"a": PRODUCT_PAGE}), limits=limits)
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"a": "{ a }", "pad": " " * 2_000}))
    with pytest.raises(ManifestError, match="over the limit of 1000"):
        load_manifest(big, limits=limits)
    with pytest.raises(ManifestError, match="cannot be read"):
        load_manifest(tmp_path / "missing.json")


# --- checking against the supergraph ---------------------------------------------------------


def test_a_partners_documents_that_run_on_the_supergraph_raise_no_problem() -> None:
    assert check_manifest(PARTNER, API_SCHEMA, owner="acme-shop") == []


def test_a_schema_change_that_breaks_a_document_names_the_partner_and_the_operation() -> None:
    field = "  brand: String! @join__field(graph: PRODUCTS)\n"
    assert field in SDL
    without_brand = load_supergraph(SDL.replace(field, "")).api_schema

    problems = check_manifest(PARTNER, without_brand, owner="acme-shop")

    assert len(problems) == 1
    problem = problems[0]
    assert (problem.owner, problem.operation_name, problem.document_id) == (
        "acme-shop",
        "ProductCard",
        sha256(PRODUCT_CARD),
    )
    assert problem.messages == ("Cannot query field 'brand' on type 'Product'.",)
    assert str(problem).startswith(f"acme-shop: operation ProductCard (id {sha256(PRODUCT_CARD)})")


def test_documents_that_do_not_parse_or_do_not_match_the_manifest_are_reported() -> None:
    manifest = load_manifest(
        apollo_manifest(
            operation("query Broken { product(sku: ", "Broken", id="broken"),
            operation(PRODUCT_CARD, "ProductTile", id="renamed"),
            operation(PRODUCT_PAGE, "ProductPage", id="retyped", type="mutation"),
        )
    )
    problems = {p.document_id: p.messages for p in check_manifest(manifest, API_SCHEMA, owner="o")}
    assert problems["broken"][0].startswith("Syntax Error")
    assert problems["renamed"] == ("The document defines no operation named 'ProductTile'.",)
    assert problems["retyped"] == ("The manifest declares a mutation, the document a query.",)


# --- resolving a request ---------------------------------------------------------------------


async def test_a_document_id_in_the_manifest_runs_its_trusted_body() -> None:
    resolved = await resolve_document(
        {"documentId": sha256(PRODUCT_CARD)},
        manifest=PARTNER,
        apq_store=None,
        allow_arbitrary=False,
    )
    assert (resolved.query, resolved.source, resolved.operation_name) == (
        PRODUCT_CARD,
        "manifest",
        "ProductCard",
    )


async def test_a_prefixed_sha256_document_id_finds_the_document_by_its_body() -> None:
    manifest = load_manifest(json.dumps({"ProductCard-v3": PRODUCT_CARD}))
    resolved = await resolve_document(
        {"documentId": f"sha256:{sha256(PRODUCT_CARD)}"},
        manifest=manifest,
        apq_store=None,
        allow_arbitrary=False,
    )
    assert (resolved.query, resolved.document_id) == (PRODUCT_CARD, "ProductCard-v3")


async def test_a_document_id_not_in_the_manifest_is_not_in_the_list_and_not_cached() -> None:
    error = await refusal({"documentId": "unknown"}, allow_arbitrary=True)
    assert (error.code, error.status, error.headers) == (
        "PERSISTED_QUERY_NOT_IN_LIST",
        404,
        NO_CACHE,
    )
    assert error.errors[0].to_dict() == {
        "message": "Persisted query 'unknown' not found in the persisted query list",
        "extensions": {"code": "PERSISTED_QUERY_NOT_IN_LIST"},
    }


async def test_a_document_id_and_a_query_together_are_refused() -> None:
    error = await refusal({"documentId": sha256(PRODUCT_CARD), "query": PRODUCT_CARD})
    assert (error.code, error.status) == ("CANNOT_SEND_PQ_ID_AND_BODY", 400)


async def test_an_unknown_apq_hash_asks_apollo_client_for_the_full_query() -> None:
    error = await refusal({"extensions": apq(sha256(AD_HOC))}, allow_arbitrary=True)
    # Apollo's exact code and message (Apollo Client retries on either); 200 as Router.
    assert error.errors[0].to_dict() == {
        "message": "PersistedQueryNotFound",
        "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
    }
    assert (error.status, error.headers) == (200, NO_CACHE)


async def test_an_apq_registration_is_found_by_the_next_hash_only_request() -> None:
    store = MemoryApqStore()
    options: dict[str, Any] = {"manifest": None, "apq_store": store, "allow_arbitrary": True}

    first = await resolve_document({"query": AD_HOC, "extensions": apq(sha256(AD_HOC))}, **options)
    again = await resolve_document({"extensions": apq(sha256(AD_HOC).upper())}, **options)

    assert (first.query, first.source, first.registered) == (AD_HOC, "query", True)
    assert (again.query, again.source) == (AD_HOC, "apq")


async def test_a_query_whose_hash_does_not_match_is_refused_and_not_registered() -> None:
    store = MemoryApqStore()
    error = await refusal(
        {"query": AD_HOC, "extensions": apq(sha256(PRODUCT_CARD))},
        apq_store=store,
        allow_arbitrary=True,
    )
    assert (error.code, error.status) == ("PERSISTED_QUERY_HASH_MISMATCH", 400)
    assert await store.get(sha256(PRODUCT_CARD)) is None


async def test_an_apollo_hash_of_a_manifest_document_runs_it_without_the_apq_store() -> None:
    resolved = await resolve_document(
        {"extensions": apq(sha256(PRODUCT_PAGE))},
        manifest=PARTNER,
        apq_store=None,
        allow_arbitrary=False,
    )
    assert (resolved.query, resolved.source) == (PRODUCT_PAGE, "manifest")


async def test_a_partner_held_to_its_manifest_may_send_a_trusted_document_in_full() -> None:
    resolved = await resolve_document(
        {"query": PRODUCT_PRICE}, manifest=PARTNER, apq_store=None, allow_arbitrary=False
    )
    assert (resolved.source, resolved.operation_name) == ("manifest", "ProductPrice")


async def test_a_partner_held_to_its_manifest_cannot_run_another_query() -> None:
    error = await refusal({"query": AD_HOC})
    assert (error.code, error.status) == ("PERSISTED_QUERY_NOT_IN_LIST", 403)


async def test_a_partner_held_to_its_manifest_cannot_register_a_document() -> None:
    store = MemoryApqStore()
    error = await refusal({"query": AD_HOC, "extensions": apq(sha256(AD_HOC))}, apq_store=store)
    assert (error.code, error.status) == ("PERSISTED_QUERY_NOT_IN_LIST", 403)
    assert await store.get(sha256(AD_HOC)) is None


async def test_a_partner_held_to_its_manifest_cannot_run_what_others_registered() -> None:
    store = MemoryApqStore()
    await store.register(sha256(AD_HOC), AD_HOC)
    error = await refusal({"extensions": apq(sha256(AD_HOC))}, apq_store=store)
    assert (error.code, error.status) == ("PERSISTED_QUERY_NOT_IN_LIST", 404)


async def test_without_an_apq_store_a_hash_is_answered_as_unsupported() -> None:
    error = await refusal({"extensions": apq(sha256(AD_HOC))}, apq_store=None, allow_arbitrary=True)
    assert error.errors[0].to_dict() == {
        "message": "PersistedQueryNotSupported",
        "extensions": {"code": "PERSISTED_QUERY_NOT_SUPPORTED"},
    }


async def test_a_client_allowed_arbitrary_documents_sends_any_query() -> None:
    resolved = await resolve_document(
        {"query": AD_HOC}, manifest=PARTNER, apq_store=None, allow_arbitrary=True
    )
    assert (resolved.query, resolved.source, resolved.registered) == (AD_HOC, "query", False)


async def test_a_stored_document_that_does_not_match_its_hash_is_never_run() -> None:
    store = MemoryApqStore()
    await store.register(sha256(AD_HOC), "mutation { cancelEverything }")
    error = await refusal(
        {"extensions": apq(sha256(AD_HOC))}, apq_store=store, allow_arbitrary=True
    )
    assert error.code == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({}, "Send a 'query', a 'documentId'"),
        ({"query": 3}, "'query' parameter must be a string"),
        ({"documentId": ""}, "'documentId' parameter must be a non-empty string"),
        ({"query": AD_HOC, "extensions": "persistedQuery"}, "must be an object or null"),
        ({"extensions": {"persistedQuery": "abc"}}, "'extensions.persistedQuery' must be"),
        ({"extensions": {"persistedQuery": {"version": 2, "sha256Hash": "0" * 64}}}, "version"),
        ({"extensions": apq("not-a-hash")}, "must be 64 hex digits"),
        ({"query": "{ \ud800 }"}, "not valid Unicode"),
        (
            {"documentId": sha256(PRODUCT_CARD), "extensions": apq(sha256(PRODUCT_PAGE))},
            "name two documents",
        ),
    ],
)
async def test_ill_formed_parameters_are_a_bad_request(params: dict[str, Any], reason: str) -> None:
    error = await refusal(params)
    assert (error.code, error.status) == ("BAD_REQUEST", 400)
    assert reason in error.errors[0].message


# --- the in-process APQ store ----------------------------------------------------------------


async def test_the_in_process_store_forgets_the_least_recently_used_past_its_bound() -> None:
    store = MemoryApqStore(max_entries=2, max_body_bytes=100)
    assert await store.register("a", "{ a }")
    assert await store.register("b", "{ b }")
    assert await store.get("a") == "{ a }"
    assert await store.register("c", "{ c }")
    assert (await store.get("a"), await store.get("b"), await store.get("c")) == (
        "{ a }",
        None,
        "{ c }",
    )
    assert not await store.register("d", "{ " + "d " * 100 + "}")
    assert await store.get("d") is None


def test_an_empty_manifest_trusts_nothing() -> None:
    manifest = Manifest((), "codegen")
    assert len(manifest) == 0
    assert manifest.find(f"sha256:{sha256(AD_HOC)}") is None
