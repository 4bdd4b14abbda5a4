"""What an operator can set about the ERP integration (``[erp]`` in the settings file).

Plain data, like ``gateway.settings``: ``retailgraph.settings`` reads it from the file and
the environment, and the wiring turns it into an ERP adapter and posting workers.
"""

from __future__ import annotations

import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from erp.posting.retry import RetryPolicy
from erp.posting.worker_settings import WorkerSettings

_WORKER = WorkerSettings()
_RETRY = RetryPolicy()


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrytonSettings(_Section):
    """Tryton over JSON-RPC (``TRYTON_URL``, ``TRYTON_DATABASE``, ``TRYTON_USER``,
    ``TRYTON_PASSWORD``, ``TRYTON_WAREHOUSE``)."""

    url: str | None = None
    database: str | None = None
    user: str | None = None
    password: SecretStr | None = None
    # The warehouse for documents that name no location.
    warehouse: str | None = None

    def missing(self) -> list[str]:
        """The settings Tryton cannot be reached without."""
        given = {
            "url": self.url,
            "database": self.database,
            "user": self.user,
            "password": self.password,
        }
        return [
            f"erp.tryton.{name} (TRYTON_{name.upper()})"
            for name, value in given.items()
            if not value
        ]


class PostingWorkerSettings(_Section):
    """``retailgraph worker erp`` (``[erp.worker]``); its options override these."""

    workers: int = Field(default=1, gt=0)
    concurrency: int = Field(default=_WORKER.concurrency, gt=0)
    rate: float = Field(default=_WORKER.rate, gt=0)
    burst: int = Field(default=_WORKER.burst, gt=0)
    max_attempts: int = Field(default=_RETRY.max_attempts, gt=0)
    base_delay: float = Field(default=_RETRY.base_delay, gt=0)
    max_delay: float = Field(default=_RETRY.max_delay, gt=0)
    breaker_threshold: int = Field(default=_WORKER.breaker_threshold, gt=0)
    breaker_reset: float = Field(default=_WORKER.breaker_reset, gt=0)
    lease: float = Field(default=_WORKER.lease, gt=0)
    post_timeout: float = Field(default=_WORKER.post_timeout, gt=0)
    poll_interval: float = Field(default=_WORKER.poll_interval, gt=0)
    # The ERP customer every document is posted to; none posts under the order's own.
    customer: str | None = None

    def worker_settings(self, reference_prefix: str) -> WorkerSettings:
        return WorkerSettings(
            concurrency=self.concurrency,
            poll_interval=self.poll_interval,
            lease=self.lease,
            post_timeout=self.post_timeout,
            retry=RetryPolicy(
                base_delay=self.base_delay,
                max_delay=self.max_delay,
                max_attempts=self.max_attempts,
            ),
            breaker_threshold=self.breaker_threshold,
            breaker_reset=self.breaker_reset,
            rate=self.rate,
            burst=self.burst,
            customer=self.customer,
            reference_prefix=reference_prefix,
        )


class ReconcileSettings(_Section):
    """The whole inventory reconciliation on a schedule (``[erp.reconcile]``): due at
    ``at`` (UTC) and every ``every`` after it, run once per due time across replicas."""

    # Run it inside ``retailgraph worker stock``.
    enabled: bool = True
    # Run it inside ``retailgraph run`` too (the embedded default has no stock worker).
    in_run: bool = True
    # Seconds between due times: a day (86400) makes it nightly.
    every: float = Field(default=86400.0, ge=60)
    # The time of day (UTC, "HH:MM") the schedule is anchored at.
    at: str = "02:00"
    # Seconds between looks at the clock for a due run.
    check_interval: float = Field(default=30.0, gt=0)

    @field_validator("at")
    @classmethod
    def _time_of_day(cls, at: str) -> str:
        datetime.time.fromisoformat(at)  # refuses anything but a time of day
        return at

    @property
    def period(self) -> datetime.timedelta:
        return datetime.timedelta(seconds=self.every)

    @property
    def anchor(self) -> datetime.time:
        return datetime.time.fromisoformat(self.at)


class ErpSettings(_Section):
    """Which ERP the system of record is, and how RetailGraph talks to it."""

    kind: Literal["simulator", "tryton"] = "simulator"
    # Put before every ERP reference, for installations (or test runs) sharing one ERP
    # company; the poller matches shipments under the same prefix.
    reference_prefix: str = ""
    # The Redis key of the token bucket every posting worker draws from.
    rate_limit_key: str = "retailgraph:erp:bucket"
    # Seconds the simulator takes to answer, to rehearse a slow ERP.
    simulator_latency: float = Field(default=0.0, ge=0)
    tryton: TrytonSettings = TrytonSettings()
    worker: PostingWorkerSettings = PostingWorkerSettings()
    reconcile: ReconcileSettings = ReconcileSettings()
