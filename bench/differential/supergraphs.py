"""The supergraphs the differential test runs: ours, and hand-written ones that use every
federation directive, each composed by our own composer from its subgraphs' SDLs."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path

from bench.differential.subgraph_sdl import SubgraphSdl, read_subgraph
from gateway.supergraph.compose import SubgraphSource, compose

HAND_WRITTEN = Path(__file__).parent / "supergraphs"
NAMES = ("retailgraph", "catalog", "media")

# Access control is not compared: the reference gateways refuse a supergraph whose
# SECURITY features they do not enforce, so the directives are taken out of the SDLs.
_ACCESS_DIRECTIVES = ("@requiresScopes", "@policy", "@authenticated")


@dataclass(frozen=True, slots=True)
class Supergraph:
    name: str
    subgraphs: tuple[SubgraphSdl, ...]
    sdl: str
    """With every subgraph's URL under ``base_url``."""


def subgraph_sdls(name: str) -> dict[str, str]:
    if name == "retailgraph":
        return asyncio.run(_domain_sdls())
    folder = HAND_WRITTEN / name
    if not folder.is_dir():
        raise SystemExit(f"no supergraph named {name!r}: one of {', '.join(NAMES)}")
    return {path.stem: path.read_text() for path in sorted(folder.glob("*.graphql"))}


def build(name: str, base_url: str) -> Supergraph:
    sdls = {subgraph: without_access_control(sdl) for subgraph, sdl in subgraph_sdls(name).items()}
    sources = [SubgraphSource(s, f"{base_url}/{s}", sdl) for s, sdl in sdls.items()]
    return Supergraph(
        name=name,
        subgraphs=tuple(read_subgraph(s, sdl) for s, sdl in sdls.items()),
        sdl=compose(sources),
    )


def without_access_control(sdl: str) -> str:
    for directive in _ACCESS_DIRECTIVES:
        sdl = _strip_directive(sdl, directive)
        sdl = re.sub(rf',?\s*"{directive}"', "", sdl)
    return sdl


def _strip_directive(sdl: str, directive: str) -> str:
    out: list[str] = []
    position = 0
    pattern = re.compile(rf"\s*{re.escape(directive)}\b")
    while (found := pattern.search(sdl, position)) is not None:
        out.append(sdl[position : found.start()])
        end = found.end()
        if end < len(sdl) and sdl[end] == "(":
            depth = 0
            for index in range(end, len(sdl)):
                depth += {"(": 1, ")": -1}.get(sdl[index], 0)
                if depth == 0:
                    end = index + 1
                    break
        position = end
    out.append(sdl[position:])
    return "".join(out)


async def _domain_sdls() -> dict[str, str]:
    from retailgraph.domains import DOMAINS
    from retailgraph.supergraph import domain_sdl

    return {name: await domain_sdl(name) for name in DOMAINS}
