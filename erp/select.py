"""Which ERP a process talks to: the simulator by default, Tryton when configured
(``[erp] kind = "tryton"`` with its ``[erp.tryton]`` connection)."""

from __future__ import annotations

from erp.port import ErpPort
from erp.settings import ErpSettings
from erp.simulator import Faults, SimulatedErp
from kernel.clock import Clock


class ErpConfigError(Exception):
    pass


def erp_from_settings(
    settings: ErpSettings, *, clock: Clock, simulator: ErpPort | None = None
) -> ErpPort:
    """The configured ERP; ``simulator`` is the one to use when the simulator is chosen
    (the embedded default gives the one kept in its data folder)."""
    if settings.kind == "simulator":
        if simulator is not None:
            return simulator
        return SimulatedErp(faults=Faults(latency=settings.simulator_latency), clock=clock)
    from erp.tryton.erp import TrytonErp

    tryton = settings.tryton
    url, database, user, password = tryton.url, tryton.database, tryton.user, tryton.password
    if not (url and database and user and password):
        raise ErpConfigError(f"erp.kind = tryton needs {', '.join(tryton.missing())}")
    return TrytonErp(
        url, database, user, password.get_secret_value(), default_warehouse=tryton.warehouse
    )
