"""Fuzzing placeOrder with pricing and inventory behind it: junk gets coded errors."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import Mount

from retailgraph.domains import DOMAINS
from retailgraph.embedded import running_subgraphs
from tests.e2e.checkout.conftest import seed
from tests.fuzzing import fuzz_operations, run_apart
from tests.support import local_runtime

PEERS = ("products", "pricing", "inventory")


def test_fuzzed_place_order_inputs_never_get_a_server_error(tmp_path: Path) -> None:
    urls = {name: f"sqlite+aiosqlite:///{tmp_path / name}.db" for name in (*PEERS, "orders")}

    async def prepare() -> None:
        runtime = local_runtime(**urls)
        apps = {name: DOMAINS[name].create_app(runtime) for name in PEERS}
        async with running_subgraphs(apps) as domains:
            await seed(domains)
        await runtime.close()

    run_apart(prepare)
    runtime = local_runtime(**urls)
    apps = {name: DOMAINS[name].create_app(runtime) for name in (*PEERS, "orders")}
    runtime.subgraphs.update(apps)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with running_subgraphs(apps):
            yield

    # The orders app, with its peers started around it on the fuzzer's own loop.
    app = Starlette(routes=[Mount("/", app=apps["orders"])], lifespan=lifespan)

    fuzzed = fuzz_operations(app, examples=60, only={"Mutation.placeOrder"})

    assert fuzzed == ["Mutation.placeOrder"]
