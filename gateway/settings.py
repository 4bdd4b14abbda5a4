"""What an operator can set about the gateway, with the defaults for a public endpoint.

Plain data (pydantic models, so a settings file and environment variables are checked and
coerced); ``retailgraph.settings`` reads them from the file and the environment, and
``build`` turns them into the engine's and the app's options.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from gateway.authorization import UnauthorizedMode
from gateway.cost import CostLimits, CostMode
from gateway.executor.network import Proxies
from gateway.http.params import Limits
from gateway.limits import OperationLimits
from gateway.metrics import DEFAULT_OPERATION_NAMES, GatewayMetrics
from gateway.security.addresses import TrustedProxies
from gateway.security.clients import Client
from gateway.security.identity import MIN_SECRET_BYTES
from gateway.security.jwt import JwtSettings
from gateway.security.ratelimit import RatePolicy

# The defaults live with the code that applies them.
_TRANSPORT = Limits()
_OPERATION = OperationLimits()
_COST = CostLimits()
_KEY_HASH = re.compile(r"sha256:[0-9a-f]{64}")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LimitSettings(_Section):
    """Bounds on what one request may send and ask for; ``"off"`` switches one of the
    operation limits off."""

    max_body_bytes: int = Field(default=_TRANSPORT.max_body_bytes, gt=0)
    max_document_bytes: int = Field(default=_TRANSPORT.max_document_bytes, gt=0)
    max_tokens: int | None = Field(default=_OPERATION.max_tokens, gt=0)
    max_operations: int | None = Field(default=_OPERATION.max_operations, gt=0)
    max_depth: int | None = Field(default=_OPERATION.max_depth, gt=0)
    max_aliases: int | None = Field(default=_OPERATION.max_aliases, ge=0)
    max_root_fields: int | None = Field(default=_OPERATION.max_root_fields, gt=0)
    max_fields: int | None = Field(default=_OPERATION.max_fields, gt=0)
    max_directives: int | None = Field(default=_OPERATION.max_directives, ge=0)
    max_socket_operations: int = Field(default=_TRANSPORT.max_socket_operations, gt=0)

    @field_validator(
        "max_tokens",
        "max_operations",
        "max_depth",
        "max_aliases",
        "max_root_fields",
        "max_fields",
        "max_directives",
        mode="before",
    )
    @classmethod
    def _off(cls, value: Any) -> Any:
        return None if value is False or value == "off" else value

    def operation_limits(self) -> OperationLimits:
        return OperationLimits(
            max_tokens=self.max_tokens,
            max_operations=self.max_operations,
            max_depth=self.max_depth,
            max_aliases=self.max_aliases,
            max_root_fields=self.max_root_fields,
            max_fields=self.max_fields,
            max_directives=self.max_directives,
        )

    def transport_limits(self) -> Limits:
        return Limits(
            max_body_bytes=self.max_body_bytes,
            max_document_bytes=self.max_document_bytes,
            max_socket_operations=self.max_socket_operations,
        )


class CostSettings(_Section):
    """Demand control from ``@cost`` and ``@listSize``."""

    mode: CostMode = _COST.mode
    max_cost: int = Field(default=_COST.max_cost, gt=0)
    default_list_size: int = Field(default=_COST.default_list_size, ge=0)

    def cost_limits(self) -> CostLimits:
        return CostLimits(
            mode=self.mode, max_cost=self.max_cost, default_list_size=self.default_list_size
        )


class ProxySettings(_Section):
    """Forward proxies for requests to subgraphs (``HTTP_PROXY``, ``HTTPS_PROXY``,
    ``NO_PROXY``)."""

    http: str | None = None
    https: str | None = None
    no_proxy: str | None = None

    def proxies(self) -> Proxies:
        return Proxies(http=self.http, https=self.https, no_proxy=self.no_proxy)


class RateLimitSettings(_Section):
    """``quota`` requests per ``window`` seconds, all of which may come at once, and the
    long-lived connections and subscriptions the client may hold at once."""

    quota: int = Field(gt=0)
    window: float = Field(default=60.0, gt=0)
    # WebSockets and SSE streams open at once; unset: no cap. A storefront whose shoppers'
    # browsers connect with its key needs one per shopper, so no default fits every client.
    max_connections: int | None = Field(default=None, gt=0)
    # Subscriptions running at once, over every socket and stream; unset: no cap.
    max_subscriptions: int | None = Field(default=None, gt=0)


class ClientSettings(_Section):
    """One client: its credentials (hashes only) and what it may do."""

    # ``sha256:<hex>`` of each API key (``retailgraph clients hash-key``); two while one is
    # rotated.
    api_key_hashes: tuple[str, ...] = ()
    # The most this client is granted (a token of its may carry fewer).
    scopes: tuple[str, ...] = ()
    # May it send documents of its own, or only those of its manifests?
    arbitrary_documents: bool = True
    # May it ask ``__schema`` and ``__type``? Unset: as ``[gateway] introspection`` says.
    introspection: bool | None = None
    # Its demand-control budget; unset: ``[gateway.cost] max_cost``.
    max_cost: int | None = Field(default=None, gt=0)
    rate_limit: RateLimitSettings | None = None
    # The stores and DCs a store associate tool serves.
    locations: tuple[str, ...] = ()
    # Its trusted documents: manifest files (Apollo's or GraphQL Code Generator's).
    manifests: tuple[str, ...] = ()

    @field_validator("api_key_hashes")
    @classmethod
    def _hashes_only(cls, hashes: tuple[str, ...]) -> tuple[str, ...]:
        for hashed in hashes:
            if not _KEY_HASH.fullmatch(hashed):
                raise ValueError("an API key is configured as sha256:<64 hex digits>, never itself")
        return hashes

    def client(self, name: str) -> Client:
        limits = self.rate_limit
        return Client(
            name=name,
            scopes=frozenset(self.scopes),
            key_hashes=frozenset(self.api_key_hashes),
            arbitrary_documents=self.arbitrary_documents,
            introspection=self.introspection,
            max_cost=self.max_cost,
            rate_limit=None if limits is None else RatePolicy(name, limits.quota, limits.window),
            max_connections=None if limits is None else limits.max_connections,
            max_subscriptions=None if limits is None else limits.max_subscriptions,
            locations=frozenset(self.locations),
            manifests=self.manifests,
        )


class AnonymousSettings(ClientSettings):
    """The caller without credentials: the catalogue's readers."""

    # Off: every request must carry a client's credentials (401 otherwise).
    enabled: bool = True


class AuthorizationSettings(_Section):
    """What the gateway does with the access-control directives of the supergraph."""

    # ``filter``: a field the caller may not see answers null with
    # UNAUTHORIZED_FIELD_OR_TYPE and the rest runs (Apollo Router's default); ``reject``:
    # the whole operation is refused with those errors.
    unauthorized: UnauthorizedMode = "filter"


class ApqSettings(_Section):
    """Apollo's automatic persisted queries, for the clients allowed documents of their own
    (a client held to its manifests never registers one)."""

    enabled: bool = True
    # Seconds a document is kept in Redis after it was last registered or used.
    ttl: float = Field(default=86_400.0, gt=0)
    # Documents kept in the process when there is no Redis (least recently used dropped).
    max_entries: int = Field(default=1_000, gt=0)


class IdentityProviderSettings(_Section):
    """Tokens (JWT) from an identity provider; a claim names the client."""

    jwks_url: str
    issuer: str
    audience: str
    algorithms: tuple[str, ...] = ("RS256", "ES256")
    # Seconds of clock skew allowed for exp and nbf.
    leeway: float = Field(default=30.0, ge=0)
    # The claim that names the client (``azp``, ``client_id``).
    client_claim: str = "azp"

    def jwt_settings(self) -> JwtSettings:
        return JwtSettings(
            jwks_url=self.jwks_url,
            issuer=self.issuer,
            audience=self.audience,
            algorithms=self.algorithms,
            leeway=self.leeway,
        )


class MetricsSettings(_Section):
    """Prometheus metrics, served on ``/metrics`` (docs/operations.md)."""

    enabled: bool = True
    # Distinct operation names the metrics tell apart; later ones are counted as ``other``.
    operation_names: int = Field(default=DEFAULT_OPERATION_NAMES, gt=0)
    # Serve them to anyone: only on a listener that only trusted scrapers reach. Otherwise
    # a scrape needs the ``operator`` or ``metrics:read`` scope (gateway/http/operator_only.py).
    public: bool = False

    def gateway_metrics(self) -> GatewayMetrics | None:
        return GatewayMetrics(self.operation_names) if self.enabled else None


class ConsoleSettings(_Section):
    """The operators' console on ``/console`` (docs/operations.md)."""

    # The page is a shell without data; everything it shows needs the operator scope.
    enabled: bool = True
    # Where the console reads the KPI gauges: Prometheus text endpoints of the processes
    # that keep them (the subgraphs, ``worker erp``); none: this process's own registry,
    # which holds them all in ``retailgraph run``.
    kpi_sources: tuple[str, ...] = ()
    # Seconds between two readings of the KPIs, kept for the last hour.
    kpi_interval: float = Field(default=15.0, gt=0, le=300)


class GatewaySettings(_Section):
    """The gateway's own section of the settings (``[gateway]`` in the file)."""

    # Serve GraphiQL to browsers on the GraphQL path.
    graphiql: bool = False
    # Headers GraphiQL's header editor starts with (the embedded demo's client key).
    graphiql_headers: dict[str, str] = Field(default_factory=dict)
    # Honour ``Apollo-Expose-Query-Plan`` (the plan is a map of the subgraphs behind).
    expose_query_plans: bool = False
    # Answer ``__schema`` and ``__type``.
    introspection: bool = False
    # Seconds to wait for a subgraph's answer.
    subgraph_timeout: float = Field(default=30.0, gt=0)
    # Identical subgraph queries in flight at the same moment (same subgraph, body, caller
    # identity and forwarded headers) share one request; mutations never do.
    deduplicate_fetches: bool = True
    # Subgraph name -> URL, where the supergraph's URL is not the one to use.
    subgraph_urls: dict[str, str] = Field(default_factory=dict)
    # The callers the gateway knows, by name (``[gateway.clients.<name>]``).
    clients: dict[str, ClientSettings] = Field(default_factory=dict)
    # The caller without credentials.
    anonymous: AnonymousSettings = AnonymousSettings()
    # The identity provider whose tokens name clients; none: API keys only.
    identity_provider: IdentityProviderSettings | None = None
    apq: ApqSettings = ApqSettings()
    authorization: AuthorizationSettings = AuthorizationSettings()
    # Networks (CIDR) of the proxies in front of the gateway whose ``X-Forwarded-For`` is
    # believed, to limit anonymous callers by their own address; none: the socket's peer.
    trusted_proxies: tuple[str, ...] = ()
    # What the gateway's keys in Redis start with (rate limits, connection counts), so
    # that two deployments can share one Redis.
    redis_prefix: str = "rg"
    # The secret the caller's identity is signed with for the subgraphs, which know it as
    # ``[subgraphs] identity_secret``; unset: the subgraphs see every request as
    # anonymous (``retailgraph run`` makes one up for its own subgraphs).
    identity_secret: SecretStr | None = Field(default=None, min_length=MIN_SECRET_BYTES)
    limits: LimitSettings = LimitSettings()
    cost: CostSettings = CostSettings()
    proxy: ProxySettings = ProxySettings()
    metrics: MetricsSettings = MetricsSettings()
    console: ConsoleSettings = ConsoleSettings()

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, networks: tuple[str, ...]) -> tuple[str, ...]:
        for network in networks:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(f"not an address or network: {network!r}") from None
        return networks

    def trusted_proxy_networks(self) -> TrustedProxies:
        return TrustedProxies(self.trusted_proxies)
