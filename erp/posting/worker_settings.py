"""How a posting worker paces, retries and names what it posts (``[erp.worker]``).

Apart from the worker itself, so that reading the settings (every command does, the
gateway's included) does not import the worker, SQLAlchemy and the domains' postings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from erp.posting.retry import RetryPolicy


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    concurrency: int = 4
    poll_interval: float = 0.5
    # A lease outlives the longest post (post_timeout) by a wide margin, so a live
    # worker never loses its lease to another mid-post.
    lease: float = 60.0
    post_timeout: float = 20.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    breaker_threshold: int = 5
    breaker_reset: float = 5.0
    rate: float = 20.0
    burst: int = 20
    # The ERP customer account every document is posted to (a channel account, for
    # example); None posts each order under its own customer reference.
    customer: str | None = None
    # Put before every ERP reference, for RetailGraph installations (or test runs) that
    # share one ERP company and would otherwise both post an "RG-0000001".
    reference_prefix: str = ""
