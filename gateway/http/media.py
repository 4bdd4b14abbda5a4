"""Content negotiation for GraphQL over HTTP.

The spec (GraphQL-over-HTTP, "Accept" and "Legacy watershed") defines two response media
types. ``application/graphql-response+json`` carries honest status codes; ``application/json``
answers 200 to every well-formed request. A request without ``Accept`` gets the legacy
``application/json``, and so does a bare wildcard: older clients send ``*/*`` and expect
the status codes they have always had.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
# Incremental delivery as Apollo Client and Apollo Router speak it: @defer's parts as
# the parts of a multipart/mixed body (the deferSpec parameter names the payload format).
MULTIPART_MIXED = "multipart/mixed"
DEFER_SPEC = "20220824"
APPLICATION_JSON = "application/json"
TEXT_HTML = "text/html"

# Ties on quality go to the earlier entry.
_PREFERENCE = (GRAPHQL_RESPONSE_JSON, APPLICATION_JSON)


@dataclass(frozen=True, slots=True)
class MediaRange:
    type: str
    subtype: str
    quality: float
    params: tuple[tuple[str, str], ...] = ()

    def matches_exactly(self, media_type: str) -> bool:
        return f"{self.type}/{self.subtype}" == media_type

    def matches(self, media_type: str) -> bool:
        kind, _, sub = media_type.partition("/")
        return (self.type in ("*", kind)) and (self.subtype in ("*", sub))


def parse_accept(header: str) -> list[MediaRange]:
    ranges: list[MediaRange] = []
    for part in header.split(","):
        media, *raw_params = (p.strip() for p in part.split(";"))
        kind, slash, sub = media.lower().partition("/")
        if not slash or not kind or not sub:
            continue
        quality = 1.0
        params: list[tuple[str, str]] = []
        for raw in raw_params:
            name, _, value = raw.partition("=")
            name, value = name.strip().lower(), value.strip().strip('"')
            if name == "q":
                try:
                    quality = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
            elif name:
                params.append((name, value.lower()))
        ranges.append(MediaRange(kind, sub, quality, tuple(params)))
    return ranges


@lru_cache(maxsize=256)
def choose_response_type(accept: str | None) -> str | None:
    """The media type to answer with, or None when nothing acceptable is on offer (406).

    A client that takes @defer's parts and names no JSON type gets ``application/json``
    for an answer in one piece: each part is such a body, and Apollo Router answers it so.
    Cached: clients send the same few Accept headers again and again.
    """
    if accept is None or not accept.strip():
        return APPLICATION_JSON
    ranges = parse_accept(accept)
    best: tuple[float, int, str] | None = None
    for rank, media_type in enumerate(_PREFERENCE):
        quality = _quality_for(ranges, media_type)
        if quality <= 0:
            continue
        if _only_wildcards_match(ranges, media_type):
            # A wildcard alone picks the legacy type, as the spec's watershed advises.
            rank += len(_PREFERENCE) if media_type == GRAPHQL_RESPONSE_JSON else 0
        candidate = (-quality, rank, media_type)
        if best is None or candidate < best:
            best = candidate
    if best is None:
        return APPLICATION_JSON if accepts_incremental_delivery(accept) else None
    return best[2]


@lru_cache(maxsize=256)
def accepts_incremental_delivery(accept: str | None) -> bool:
    """True when the client takes @defer's parts: ``multipart/mixed`` with
    ``deferSpec=20220824`` (Apollo Client sends it beside a JSON type)."""
    if not accept:
        return False
    return any(
        r.quality > 0
        and r.matches_exactly(MULTIPART_MIXED)
        and ("deferspec", DEFER_SPEC) in r.params
        for r in parse_accept(accept)
    )


@lru_cache(maxsize=256)
def prefers_html(accept: str | None) -> bool:
    """True when a browser asks for a page: text/html listed at least as high as JSON."""
    if not accept:
        return False
    ranges = parse_accept(accept)
    html = max((r.quality for r in ranges if r.matches_exactly(TEXT_HTML)), default=0.0)
    if html <= 0:
        return False
    json = max(
        (r.quality for r in ranges for t in _PREFERENCE if r.matches_exactly(t)), default=0.0
    )
    return html >= json


def _quality_for(ranges: list[MediaRange], media_type: str) -> float:
    """The quality of the most specific range that matches (RFC 9110, section 12.5.1)."""
    matching = [r for r in ranges if r.matches(media_type)]
    if not matching:
        return 0.0
    most_specific = max(matching, key=lambda r: (r.type != "*", r.subtype != "*"))
    return most_specific.quality


def _only_wildcards_match(ranges: list[MediaRange], media_type: str) -> bool:
    return not any(r.matches_exactly(media_type) for r in ranges)
