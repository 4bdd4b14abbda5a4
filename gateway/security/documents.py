"""Trusted documents: the operations a partner may run, and Apollo's automatic persisted queries.

Partners call persisted operations only. Their build tools write a manifest of every
operation the partner's apps send, the gateway loads it, and a request names a document by
its id instead of sending GraphQL. A partner's credentials then buy exactly the operations
we reviewed and checked against the supergraph, never an arbitrary query crafted with
stolen credentials. ``check_manifest`` is meant for the gateway's start and for
``retailgraph compose --check``: a schema change that would break a partner's app is then
caught before it ships, naming the partner and the operation.

Two manifest formats are read, the two tools our partners use write them:

- Apollo's ``apollo-persisted-query-manifest`` version 1 (``@apollo/generate-persisted-
  query-manifest``, Apollo Kotlin, Apollo iOS): ``{"format": ..., "version": 1,
  "operations": [{"id", "name", "type", "body"}]}``. Apollo's tools give each operation the
  SHA-256 (hex) of its body as id; an id of that shape that does not match its body is a
  corrupt manifest and is refused. Other ids (``createOperationId`` may pick any) are kept.
- The plain ``{"<id>": "<body>"}`` map of GraphQL Code Generator's client preset
  (``persisted-documents.json``), whose hash algorithm is the project's choice.

In both, an id written as a GraphQL-over-HTTP prefixed identifier, ``sha256:<hex>``, must
be the SHA-256 of its body: the prefix says so.

A request names its document in one of three ways (``resolve_document``): ``documentId``
(GraphQL over HTTP, persisted documents appendix), ``extensions.persistedQuery.sha256Hash``
(Apollo's persisted queries and APQ), or a full ``query``. Clients allowed arbitrary
documents (our own apps, during development) may also register documents by APQ; they are
shared by every gateway replica through Redis (``RedisApqStore``).

Refusals follow Apollo Router, so Apollo Client and Apollo's tooling behave as they do in
front of it (status codes are those of ``application/graphql-response+json``):

======================================  ======  =========================================
``extensions.code``                     status  when
======================================  ======  =========================================
``PERSISTED_QUERY_NOT_FOUND``           200     APQ hash unknown: Apollo Client retries
                                                with the full query. Router answers 200;
                                                Apollo Client before 3.8 gives up APQ for
                                                good on a 400 or 500, so a 4xx would cost
                                                every later request its full query.
``PERSISTED_QUERY_NOT_IN_LIST``         404     ``documentId`` (or hash) not in the
                                                client's manifest (Router's code and status)
``PERSISTED_QUERY_NOT_IN_LIST``         403     a full query, or an APQ registration, from
                                                a client held to its manifest, with a body
                                                not in it (Router: 403 with
                                                ``QUERY_NOT_IN_SAFELIST``; we keep one code
                                                for "not in your list")
``PERSISTED_QUERY_HASH_MISMATCH``       400     the hash is not the SHA-256 of the query
                                                (Router: 400, same code)
``PERSISTED_QUERY_NOT_SUPPORTED``       400     APQ hash with no APQ store (the gateway's
                                                existing answer; Router sends 200. Apollo
                                                Client stops sending hashes either way)
``CANNOT_SEND_PQ_ID_AND_BODY``          400     ``documentId`` and ``query`` together
``BAD_REQUEST``                         400     ill-formed parameters
======================================  ======  =========================================

Not-found and not-in-list answers carry ``Cache-Control: private, no-cache,
must-revalidate`` as Router's do: a hashed GET may pass a CDN, and a cached miss would keep
failing after the document is registered or the manifest updated.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from graphql import GraphQLError as CoreGraphQLError
from graphql import GraphQLSchema, OperationDefinitionNode, validate

from gateway.engine import GraphQLError, OperationType, RequestError
from gateway.grammar import parse_document
from gateway.shared_redis import redis_failures

if TYPE_CHECKING:
    import redis.asyncio as redis

APOLLO_FORMAT = "apollo-persisted-query-manifest"
APQ_KEY_PREFIX = "rg:apq:"
# Answers that must not be cached: the next request may well succeed.
NO_CACHE = {"Cache-Control": "private, no-cache, must-revalidate"}
# The gateway's own bound on a request's GraphQL document (gateway.http.params.Limits).
DEFAULT_MAX_BODY_BYTES = 100_000

_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_SHA256_PREFIX = "sha256:"
_OPERATION_TYPES: frozenset[str] = frozenset({"query", "mutation", "subscription"})
_log = logging.getLogger(__name__)

ManifestFormat = Literal["apollo", "codegen"]
DocumentSource = Literal["manifest", "apq", "query"]


# --- manifests ------------------------------------------------------------------------------


class ManifestError(ValueError):
    """The manifest cannot be trusted as written: the gateway refuses to load it."""


@dataclass(frozen=True, slots=True)
class ManifestLimits:
    """Bounds on what a manifest may hold, so a faulty build cannot exhaust the gateway.

    The defaults fit a large app many times over: Apollo's tools write one entry per
    operation, usually a few hundred of a few kilobytes each.
    """

    max_bytes: int = 16_000_000
    max_operations: int = 10_000
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_id_length: int = 256


@dataclass(frozen=True, slots=True)
class PersistedDocument:
    """One trusted document: its id in the manifest, the operation name and the body."""

    id: str
    name: str | None
    body: str
    # Declared by Apollo's format; the plain map does not say.
    type: OperationType | None
    sha256: str


class Manifest(Mapping[str, PersistedDocument]):
    """A client's trusted documents by id, also found by the SHA-256 of their body.

    The body index lets a client that sends Apollo's hash, a ``sha256:`` document id, or
    the full text of a trusted document be recognised whatever id its tool chose.
    """

    def __init__(self, documents: Iterable[PersistedDocument], format: ManifestFormat) -> None:
        self.format: ManifestFormat = format
        self._by_id: dict[str, PersistedDocument] = {}
        self._by_hash: dict[str, PersistedDocument] = {}
        for document in documents:
            self._by_id[document.id] = document
            self._by_hash.setdefault(document.sha256, document)

    def __getitem__(self, document_id: str) -> PersistedDocument:
        return self._by_id[document_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def by_hash(self, sha256: str) -> PersistedDocument | None:
        """The document whose body has this SHA-256 (hex, any case)."""
        return self._by_hash.get(sha256.lower())

    def find(self, document_id: str) -> PersistedDocument | None:
        """The document a request's id names: its manifest id, or ``sha256:`` and the
        hash of its body."""
        found = self._by_id.get(document_id)
        if found is None and document_id.startswith(_SHA256_PREFIX):
            payload = document_id[len(_SHA256_PREFIX) :]
            if _SHA256.fullmatch(payload):
                found = self.by_hash(payload)
        return found


def load_manifest(
    source: str | bytes | os.PathLike[str], *, limits: ManifestLimits | None = None
) -> Manifest:
    """Read a manifest from a file, or from its JSON text (bytes, or a ``str`` that starts
    as JSON does, with ``{`` or ``[``; any other ``str`` is a path).

    Raises ``ManifestError`` naming what is wrong and where: the manifest is refused as a
    whole, never loaded in part, so a client never runs with half its operations.
    """
    limits = limits or ManifestLimits()
    raw = _manifest_bytes(source, limits)
    try:
        data = json.loads(raw, object_pairs_hook=_refuse_duplicate_keys)
    except ManifestError:
        raise
    except (ValueError, RecursionError) as error:
        raise ManifestError(f"the manifest is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise ManifestError("the manifest must be a JSON object")
    if "format" in data or "operations" in data:
        return Manifest(_apollo_documents(data, limits), "apollo")
    return Manifest(_codegen_documents(data, limits), "codegen")


def _manifest_bytes(source: str | bytes | os.PathLike[str], limits: ManifestLimits) -> bytes:
    if isinstance(source, bytes):
        raw = source
    elif isinstance(source, str) and source.lstrip()[:1] in ("{", "["):
        raw = _utf8(source, "the manifest", ManifestError)
    else:
        path = Path(source)
        try:
            size = path.stat().st_size
            if size > limits.max_bytes:
                raise ManifestError(
                    f"the manifest {path} has {size} bytes, over the limit of {limits.max_bytes}"
                )
            raw = path.read_bytes()
        except OSError as error:
            raise ManifestError(f"the manifest {path} cannot be read: {error}") from None
    if len(raw) > limits.max_bytes:
        raise ManifestError(
            f"the manifest has {len(raw)} bytes, over the limit of {limits.max_bytes}"
        )
    return raw


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Two bodies under one id: which one would be trusted? Refused rather than guessed.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ManifestError(f"the manifest repeats the key {key!r}")
        result[key] = value
    return result


def _apollo_documents(data: dict[str, Any], limits: ManifestLimits) -> list[PersistedDocument]:
    if data.get("format") != APOLLO_FORMAT:
        raise ManifestError(f"the manifest's format must be {APOLLO_FORMAT!r}")
    version = data.get("version")
    if type(version) is not int or version != 1:
        raise ManifestError(f"the manifest's version must be 1, not {version!r}")
    operations = data.get("operations")
    if not isinstance(operations, list):
        raise ManifestError("the manifest's 'operations' must be a list")
    _check_count(len(operations), limits)
    documents: dict[str, PersistedDocument] = {}
    for index, entry in enumerate(operations):
        where = f"operation {index}"
        if not isinstance(entry, dict):
            raise ManifestError(f"{where} must be an object")
        document_id = _checked_id(entry.get("id"), where, limits)
        where = f"operation {index} (id {document_id!r})"
        body = entry.get("body")
        if not isinstance(body, str):
            raise ManifestError(f"{where}: 'body' must be a string")
        name = entry.get("name")
        if name is not None and not isinstance(name, str):
            raise ManifestError(f"{where}: 'name' must be a string")
        operation_type = entry.get("type")
        if operation_type not in _OPERATION_TYPES:
            raise ManifestError(f"{where}: 'type' must be query, mutation or subscription")
        digest = _checked_body(body, where, limits)
        if _SHA256.fullmatch(document_id) and document_id.lower() != digest:
            raise ManifestError(f"{where}: the id is not the SHA-256 of the body")
        _check_id_prefix(document_id, digest, where)
        document = PersistedDocument(document_id, name or None, body, operation_type, digest)
        _add(documents, document, where)
    return list(documents.values())


def _codegen_documents(data: dict[str, Any], limits: ManifestLimits) -> list[PersistedDocument]:
    _check_count(len(data), limits)
    documents: dict[str, PersistedDocument] = {}
    for key, body in data.items():
        document_id = _checked_id(key, "an id", limits)
        where = f"document {document_id!r}"
        if not isinstance(body, str):
            raise ManifestError(f"{where}: the body must be a string")
        digest = _checked_body(body, where, limits)
        _check_id_prefix(document_id, digest, where)
        documents[document_id] = PersistedDocument(
            document_id, _first_operation_name(body), body, None, digest
        )
    return list(documents.values())


def _check_count(count: int, limits: ManifestLimits) -> None:
    if count > limits.max_operations:
        raise ManifestError(
            f"the manifest has {count} operations, over the limit of {limits.max_operations}"
        )


def _checked_id(value: object, where: str, limits: ManifestLimits) -> str:
    if not isinstance(value, str) or not value:
        raise ManifestError(f"{where}: the id must be a non-empty string")
    if len(value) > limits.max_id_length:
        raise ManifestError(f"{where}: the id is longer than {limits.max_id_length} characters")
    _utf8(value, f"{where}: the id", ManifestError)
    return value


def _checked_body(body: str, where: str, limits: ManifestLimits) -> str:
    """The body's SHA-256, once it is known to be non-empty, UTF-8 and within bounds."""
    encoded = _utf8(body, f"{where}: the body", ManifestError)
    if not body.strip():
        raise ManifestError(f"{where}: the body is empty")
    if len(encoded) > limits.max_body_bytes:
        raise ManifestError(
            f"{where}: the body has {len(encoded)} bytes, over the limit of {limits.max_body_bytes}"
        )
    return hashlib.sha256(encoded).hexdigest()


def _check_id_prefix(document_id: str, digest: str, where: str) -> None:
    if (
        document_id.startswith(_SHA256_PREFIX)
        and document_id[len(_SHA256_PREFIX) :].lower() != digest
    ):
        raise ManifestError(f"{where}: a 'sha256:' id must be the SHA-256 of the body")


def _add(documents: dict[str, PersistedDocument], document: PersistedDocument, where: str) -> None:
    known = documents.get(document.id)
    if known is not None and known.body != document.body:
        raise ManifestError(f"{where}: the id is given twice, with different bodies")
    documents[document.id] = document


def _first_operation_name(body: str) -> str | None:
    """The name of the body's first operation; ``check_manifest`` reports bodies that do
    not parse, so a failure here only leaves the name unknown."""
    try:
        document = parse_document(body, no_location=True)
    except (CoreGraphQLError, RecursionError):
        return None
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            return definition.name.value if definition.name else None
    return None


# --- checking a manifest against the supergraph ---------------------------------------------


@dataclass(frozen=True, slots=True)
class ManifestProblem:
    """A trusted document the API schema cannot run, named as the partner knows it."""

    owner: str
    document_id: str
    operation_name: str | None
    messages: tuple[str, ...]

    def __str__(self) -> str:
        name = self.operation_name or "(anonymous)"
        return f"{self.owner}: operation {name} (id {self.document_id}): " + " ".join(self.messages)


def check_manifest(
    manifest: Manifest, api_schema: GraphQLSchema, *, owner: str
) -> list[ManifestProblem]:
    """Every document of ``owner``'s manifest that does not parse or validate against the
    API schema, with GraphQL's messages. Empty when the partner's apps will keep working."""
    problems: list[ManifestProblem] = []
    for document in manifest.values():
        messages = _document_messages(document, api_schema)
        if messages:
            problems.append(ManifestProblem(owner, document.id, document.name, messages))
    return problems


def _document_messages(document: PersistedDocument, api_schema: GraphQLSchema) -> tuple[str, ...]:
    try:
        parsed = parse_document(document.body, no_location=True)
    except CoreGraphQLError as error:
        return (error.message,)
    except RecursionError:
        return ("The document nests too deeply to be parsed.",)
    messages = [error.message for error in validate(api_schema, parsed)]
    operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    if document.name is not None and operations:
        named = [op for op in operations if op.name and op.name.value == document.name]
        if not named:
            messages.append(f"The document defines no operation named {document.name!r}.")
        elif document.type is not None and named[0].operation.value != document.type:
            messages.append(
                f"The manifest declares a {document.type}, the document a "
                f"{named[0].operation.value}."
            )
    return tuple(messages)


# --- APQ stores -----------------------------------------------------------------------------


class ApqStore(Protocol):
    """Where documents registered by Apollo's automatic persisted queries are kept.

    A store may forget a document at any time (bounds, expiry, an outage): the client then
    gets ``PERSISTED_QUERY_NOT_FOUND`` and sends the full query again. What a store returns
    is checked against its hash before use, so a store shared with others cannot slip a
    different document under a known hash.
    """

    async def get(self, sha256: str) -> str | None:
        """The document registered under this hash (lower-case hex), if kept."""
        ...

    async def register(self, sha256: str, body: str) -> bool:
        """Keep ``body`` under its (verified) hash; False when it is not kept."""
        ...


class MemoryApqStore:
    """APQ documents of this process, the least recently used dropped past ``max_entries``.

    For one replica, or the embedded mode; replicas behind one load balancer share a
    ``RedisApqStore`` so that a document registered on one is found on the next.
    """

    def __init__(
        self, *, max_entries: int = 1_000, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    ) -> None:
        self.max_entries = max_entries
        self.max_body_bytes = max_body_bytes
        self._documents: OrderedDict[str, str] = OrderedDict()

    async def get(self, sha256: str) -> str | None:
        body = self._documents.get(sha256)
        if body is not None:
            self._documents.move_to_end(sha256)
        return body

    async def register(self, sha256: str, body: str) -> bool:
        if _byte_length(body) > self.max_body_bytes:
            return False
        self._documents[sha256] = body
        self._documents.move_to_end(sha256)
        while len(self._documents) > self.max_entries:
            self._documents.popitem(last=False)
        return True


class RedisApqStore:
    """APQ documents shared by every gateway replica, at ``rg:apq:<sha256>``.

    A document lives ``ttl`` seconds after it was last registered or found, so the
    documents clients use stay and the others expire. Redis being unreachable costs the
    optimisation, not the request: a lookup is a miss (the client sends the full query) and
    a registration is skipped, each logged.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        ttl: float = 86_400.0,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        prefix: str = APQ_KEY_PREFIX,
    ) -> None:
        self.client = client
        self.ttl_ms = max(1, int(ttl * 1000))
        self.max_body_bytes = max_body_bytes
        self.prefix = prefix

    def key(self, sha256: str) -> str:
        return self.prefix + sha256

    async def get(self, sha256: str) -> str | None:
        try:
            value = await self.client.getex(self.key(sha256), px=self.ttl_ms)
        except redis_failures() as error:
            _log.warning("APQ lookup failed, answered as a miss: %s", error)
            return None
        if isinstance(value, bytes):
            try:
                return value.decode()
            except UnicodeDecodeError:
                return None
        return value if isinstance(value, str) else None

    async def register(self, sha256: str, body: str) -> bool:
        if _byte_length(body) > self.max_body_bytes:
            return False
        try:
            await self.client.set(self.key(sha256), body.encode(), px=self.ttl_ms)
        except redis_failures() as error:
            _log.warning("APQ registration failed, the document is not kept: %s", error)
            return False
        return True


# --- resolving a request's document ---------------------------------------------------------


class DocumentError(RequestError):
    """The request's document cannot be resolved or is not allowed for this client.

    A ``RequestError``: the front doors answer it without a ``data`` key, with ``status``
    under ``application/graphql-response+json``, and add ``headers`` to the response.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__([GraphQLError(message, code)], status=status)
        self.code = code
        self.headers = dict(headers or {})


@dataclass(frozen=True, slots=True)
class Resolved:
    """The GraphQL document a request runs, and where it came from."""

    query: str
    # "manifest": a trusted document; "apq": found in the APQ store; "query": sent in full.
    source: DocumentSource
    # The manifest's id and operation name, for logs and metrics.
    document_id: str | None = None
    operation_name: str | None = None
    # True when this request registered the document in the APQ store.
    registered: bool = False


async def resolve_document(
    params: Mapping[str, Any],
    *,
    manifest: Manifest | None,
    apq_store: ApqStore | None,
    allow_arbitrary: bool,
) -> Resolved:
    """The document to run for a request's parameters (``query``, ``documentId``,
    ``extensions``, as decoded from an HTTP body or query string, or a WebSocket or SSE
    subscribe payload); raises ``DocumentError``.

    A client held to its manifest (``allow_arbitrary`` false) runs its manifest's documents
    only, however it names them, and neither registers documents nor reads those others
    registered. ``manifest=None`` is an empty manifest; ``apq_store=None`` turns APQ off.
    """
    query = params.get("query")
    if query is not None and not isinstance(query, str):
        raise _bad_request("The 'query' parameter must be a string.")
    document_id = params.get("documentId")
    if document_id is not None and (not isinstance(document_id, str) or not document_id):
        raise _bad_request("The 'documentId' parameter must be a non-empty string.")
    apq_hash = _apq_hash(params.get("extensions"))
    trusted = manifest if manifest is not None else _EMPTY

    if document_id is not None:
        if query is not None:
            raise DocumentError(
                "CANNOT_SEND_PQ_ID_AND_BODY",
                "Send either a 'documentId' or a 'query', not both.",
                status=400,
            )
        found = trusted.find(document_id)
        if found is None:
            raise _not_in_list(document_id)
        if apq_hash is not None and found.sha256 != apq_hash:
            raise _bad_request("The 'documentId' and the persisted query hash name two documents.")
        return _from_manifest(found)

    if apq_hash is not None and query is None:
        found = trusted.get(apq_hash) or trusted.by_hash(apq_hash)
        if found is not None:
            return _from_manifest(found)
        if not allow_arbitrary:
            raise _not_in_list(apq_hash)
        if apq_store is None:
            raise DocumentError(
                "PERSISTED_QUERY_NOT_SUPPORTED", "PersistedQueryNotSupported", status=400
            )
        stored = await apq_store.get(apq_hash)
        if stored is None or _sha256(stored) != apq_hash:
            raise DocumentError(
                "PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound", status=200, headers=NO_CACHE
            )
        return Resolved(stored, "apq")

    if query is None:
        raise _bad_request("Send a 'query', a 'documentId' or a persisted query hash.")
    if apq_hash is None and allow_arbitrary:
        # The common case of our own apps: nothing to hash, nothing to look up.
        return Resolved(query, "query")
    digest = _sha256(query)
    if apq_hash is not None and digest != apq_hash:
        raise DocumentError(
            "PERSISTED_QUERY_HASH_MISMATCH", "provided sha does not match query", status=400
        )
    if not allow_arbitrary:
        found = trusted.by_hash(digest)
        if found is None:
            raise DocumentError(
                "PERSISTED_QUERY_NOT_IN_LIST",
                "This client may only run the operations of its persisted query list; "
                "this document is not in it.",
                status=403,
                headers=NO_CACHE,
            )
        return _from_manifest(found)
    if apq_hash is not None and apq_store is not None:
        return Resolved(query, "query", registered=await apq_store.register(digest, query))
    return Resolved(query, "query")


_EMPTY = Manifest((), "codegen")


def _apq_hash(extensions: object) -> str | None:
    """The APQ hash (lower-case hex) of ``extensions.persistedQuery``, if any."""
    if extensions is None:
        return None
    if not isinstance(extensions, Mapping):
        raise _bad_request("The 'extensions' parameter must be an object or null.")
    persisted = extensions.get("persistedQuery")
    if persisted is None:
        return None
    if not isinstance(persisted, Mapping):
        raise _bad_request("'extensions.persistedQuery' must be an object.")
    version = persisted.get("version")
    if type(version) is not int or version != 1:
        raise _bad_request("Unsupported persisted query version; send version 1.")
    sha256 = persisted.get("sha256Hash")
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise _bad_request("'extensions.persistedQuery.sha256Hash' must be 64 hex digits.")
    return sha256.lower()


def _from_manifest(document: PersistedDocument) -> Resolved:
    return Resolved(document.body, "manifest", document.id, document.name)


def _not_in_list(document_id: str) -> DocumentError:
    return DocumentError(
        "PERSISTED_QUERY_NOT_IN_LIST",
        f"Persisted query '{document_id}' not found in the persisted query list",
        status=404,
        headers=NO_CACHE,
    )


def _bad_request(message: str) -> DocumentError:
    return DocumentError("BAD_REQUEST", message, status=400)


def _sha256(text: str) -> str:
    return hashlib.sha256(_utf8(text, "The document", _bad_request)).hexdigest()


def _byte_length(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _utf8(text: str, what: str, error: Callable[[str], Exception]) -> bytes:
    """``text`` as UTF-8; a lone surrogate (JSON can escape one) makes no document."""
    try:
        return text.encode()
    except UnicodeEncodeError:
        raise error(f"{what} is not valid Unicode text.") from None
