"""Which ERP a process talks to: the simulator by default, Tryton when configured.

``RETAILGRAPH_ERP=tryton`` selects Tryton over JSON-RPC, reached with ``TRYTON_URL``,
``TRYTON_DATABASE``, ``TRYTON_USER`` and ``TRYTON_PASSWORD`` (``TRYTON_WAREHOUSE`` names
the warehouse for documents without a location).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from erp.port import ErpPort
from erp.simulator import Faults, SimulatedErp

REFERENCE_PREFIX_VARIABLE = "RETAILGRAPH_ERP_PREFIX"


class ErpConfigError(Exception):
    pass


def reference_prefix_from_env(env: Mapping[str, str] | None = None) -> str:
    """What goes before our order numbers in ERP references (installations sharing one
    ERP): the worker posts with it and the stock poller matches shipments by it."""
    env = os.environ if env is None else env
    return env.get(REFERENCE_PREFIX_VARIABLE, "")


def erp_from_env(
    env: Mapping[str, str] | None = None, *, simulator_latency: float = 0.0
) -> ErpPort:
    env = os.environ if env is None else env
    kind = env.get("RETAILGRAPH_ERP", "simulator").strip().lower()
    if kind == "simulator":
        return SimulatedErp(faults=Faults(latency=simulator_latency))
    if kind == "tryton":
        from erp.tryton.erp import TrytonErp

        missing = [
            name
            for name in ("TRYTON_URL", "TRYTON_DATABASE", "TRYTON_USER", "TRYTON_PASSWORD")
            if not env.get(name)
        ]
        if missing:
            raise ErpConfigError(f"RETAILGRAPH_ERP=tryton needs {', '.join(missing)}")
        return TrytonErp(
            env["TRYTON_URL"],
            env["TRYTON_DATABASE"],
            env["TRYTON_USER"],
            env["TRYTON_PASSWORD"],
            default_warehouse=env.get("TRYTON_WAREHOUSE") or None,
        )
    raise ErpConfigError(f"RETAILGRAPH_ERP must be simulator or tryton, not {kind!r}")
