"""Each client's trusted documents and the APQ store, as the front doors use them.

The gateway reads every client's manifests when it loads and checks each of their
documents against the supergraph's API: a gateway whose schema would break a partner's
operation refuses to start, naming the partner and the operation, rather than failing the
partner's calls one by one in production. ``retailgraph compose --check`` runs the same
check against a freshly composed supergraph, before the schema ships.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from graphql import GraphQLSchema

from gateway.security.clients import Client
from gateway.security.documents import (
    ApqStore,
    Manifest,
    ManifestError,
    ManifestLimits,
    MemoryApqStore,
    PersistedDocument,
    Resolved,
    check_manifest,
    load_manifest,
    resolve_document,
)


class PersistedDocuments:
    """Resolves a request's document for its client.

    A client allowed arbitrary documents may send any query, and use APQ when there is a
    store; a client held to its manifests runs their documents only, however it names
    them (``documentId``, Apollo's hash, or the full text of a trusted document).
    """

    def __init__(
        self, manifests: Mapping[str, Manifest] | None = None, apq_store: ApqStore | None = None
    ) -> None:
        self.manifests = dict(manifests or {})
        self.apq_store = apq_store

    async def resolve(self, names: Mapping[str, Any], client: Client) -> Resolved:
        """``names``: the request's ``query``, ``documentId`` and ``extensions``."""
        return await resolve_document(
            names,
            manifest=self.manifests.get(client.name),
            apq_store=self.apq_store if client.arbitrary_documents else None,
            allow_arbitrary=client.arbitrary_documents,
        )


def default_documents() -> PersistedDocuments:
    """No manifests, and APQ in this process: what a gateway without settings offers."""
    return PersistedDocuments({}, MemoryApqStore())


def read_manifests(
    paths: Iterable[str | Path], *, limits: ManifestLimits | None = None
) -> Manifest | None:
    """One client's manifests as one (None when it has none). An id given in two files
    with different bodies is refused: which would be trusted?"""
    documents: dict[str, PersistedDocument] = {}
    formats = []
    for path in paths:
        manifest = load_manifest(Path(path), limits=limits)
        formats.append(manifest.format)
        for document in manifest.values():
            known = documents.get(document.id)
            if known is not None and known.body != document.body:
                raise ManifestError(
                    f"the manifest {path} gives the id {document.id!r} another body than an "
                    "earlier manifest of the same client"
                )
            documents[document.id] = document
    if not formats:
        return None
    return Manifest(documents.values(), formats[0])


class ManifestsRefused(Exception):
    """A client's manifest cannot be read, or some of its documents do not run against
    the supergraph; ``problems`` names each, by client and operation."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def client_manifests(clients: Iterable[Client], api_schema: GraphQLSchema) -> dict[str, Manifest]:
    """Every client's manifests, read and checked against ``api_schema``; raises
    ``ManifestsRefused`` listing every problem of every client at once."""
    manifests: dict[str, Manifest] = {}
    problems: list[str] = []
    for client in clients:
        try:
            manifest = read_manifests(client.manifests)
        except ManifestError as error:
            problems.append(f"{client.name}: {error}")
            continue
        if manifest is None:
            continue
        problems.extend(str(p) for p in check_manifest(manifest, api_schema, owner=client.name))
        manifests[client.name] = manifest
    if problems:
        raise ManifestsRefused(problems)
    return manifests
