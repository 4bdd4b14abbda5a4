"""Tryton's JSON-RPC protocol: session login, its value encoding and its errors.

Every model call carries the user's company in its context; an expired session is renewed
once; Tryton's answers map onto the port's errors (user errors are permanent, everything
else is worth a retry).
"""

from __future__ import annotations

import base64
import datetime
import itertools
import json
from decimal import Decimal
from typing import Any

import aiohttp

from adapters.http import session
from erp.port import ErpError, ErpRateLimited, ErpRejected, ErpUnavailable

# Tryton marshals these types as {"__class__": ..., ...} objects.
_DECODERS: dict[str, Any] = {
    "Decimal": lambda d: Decimal(d["decimal"]),
    "datetime": lambda d: datetime.datetime(
        d["year"], d["month"], d["day"], d["hour"], d["minute"], d["second"],
        d["microsecond"], tzinfo=datetime.UTC,
    ),
    "date": lambda d: datetime.date(d["year"], d["month"], d["day"]),
}  # fmt: skip
_PERMANENT_ERRORS = {"UserError", "UserWarning", "AccessError", "LoginException"}


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, datetime.datetime):
        value = value.astimezone(datetime.UTC)
        return {
            "__class__": "datetime", "year": value.year, "month": value.month,
            "day": value.day, "hour": value.hour, "minute": value.minute,
            "second": value.second, "microsecond": value.microsecond,
        }  # fmt: skip
    if isinstance(value, datetime.date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    raise TypeError(f"Cannot send {type(value).__name__} to Tryton")


def _decode(obj: dict[str, Any]) -> Any:
    decoder = _DECODERS.get(obj.get("__class__", ""))
    return decoder(obj) if decoder else obj


class TrytonWarning(ErpRejected):
    """A warning Tryton asks a user to accept; ``name`` is what accepting it records
    (a ``res.user.warning``), after which the same call goes through."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Tryton warning {name}")
        self.name = name


def _error_from(error: Any) -> ErpError:
    """Maps Tryton's error payload to our hierarchy: user errors are permanent."""
    if isinstance(error, list) and error and isinstance(error[0], str):
        kind, args = error[0], error[1] if len(error) > 1 else []
        if kind == "UserWarning" and isinstance(args, list) and args:
            return TrytonWarning(str(args[0]))
        if kind in _PERMANENT_ERRORS:
            message = args[0] if isinstance(args, list) and args else str(args)
            return ErpRejected(str(message))
        if kind == "ConcurrencyException":
            return ErpUnavailable(f"Tryton reported a concurrent change: {args}")
        return ErpUnavailable(f"Tryton server error: {kind}")
    return ErpUnavailable(f"Tryton server error: {error!r}")


class _SessionExpired(Exception):
    pass


class TrytonRpc:
    def __init__(
        self,
        url: str,
        database: str,
        login: str,
        password: str,
        *,
        timeout: float = 10.0,
    ) -> None:
        self._endpoint = url.rstrip("/") + f"/{database}/rpc/"
        self._login = login
        self._password = password
        self._options = session.SessionOptions(timeout=timeout)
        # opened on first use, inside the event loop that owns it
        self._session: aiohttp.ClientSession | None = None
        self._ids = itertools.count(1)
        self._authorization: str | None = None
        self._context: dict[str, Any] | None = None
        # The logged-in user, whose accepted warnings Tryton records.
        self.user_id: int | None = None

    async def _post(self, method: str, params: list[Any], authorization: str | None) -> Any:
        body = json.dumps(
            {"id": next(self._ids), "method": method, "params": params}, default=_encode
        ).encode()
        # Tryton labels a large answer gzip whether or not the caller accepts it (its
        # jsonrpc.py sets Content-Encoding outside its Accept-Encoding check): asking for
        # gzip makes the label true.
        headers = {"Content-Type": "application/json", "Accept-Encoding": "gzip"}
        if authorization:
            headers["Authorization"] = authorization
        if self._session is None:
            self._session = session.open_session(self._options)
        try:
            answer = await session.post(self._session, self._endpoint, body, headers)
        except session.UNREACHABLE as error:
            raise ErpUnavailable(f"Tryton unreachable: {error!r}") from error
        text = answer.body.decode(errors="replace")
        if answer.status == 429:
            retry_after = float(answer.headers.get("Retry-After", "1") or 1)
            raise ErpRateLimited("Tryton rate limit", retry_after=retry_after)
        if answer.status in (401, 403):
            raise _SessionExpired(text)
        if answer.status == 423:
            raise ErpUnavailable("Tryton record locked")
        if answer.status >= 400:
            raise ErpUnavailable(f"Tryton HTTP {answer.status}: {text[:200]}")
        payload = json.loads(answer.body, object_hook=_decode)
        if payload.get("error") is not None:
            raise _error_from(payload["error"])
        return payload.get("result")

    async def _authenticate(self) -> None:
        try:
            result = await self._post(
                "common.db.login", [self._login, {"password": self._password}, "en"], None
            )
        except _SessionExpired as error:
            raise ErpRejected("Tryton refused the login") from error
        user_id, session = result[0], result[1]
        self.user_id = int(user_id)
        token = base64.b64encode(f"{self._login}:{user_id}:{session}".encode()).decode()
        self._authorization = f"Session {token}"
        preferences = await self._post(
            "model.res.user.get_preferences", [True, {}], self._authorization
        )
        self._context = {"company": preferences.get("company"), "language": "en"}

    async def call(self, method: str, *args: Any, context: dict[str, Any] | None = None) -> Any:
        """Calls `model.<method>` with the company context; logs in again once if needed."""
        for attempt in (1, 2):
            if self._authorization is None:
                await self._authenticate()
            assert self._context is not None
            try:
                return await self._post(
                    f"model.{method}",
                    [*args, {**self._context, **(context or {})}],
                    self._authorization,
                )
            except _SessionExpired:
                self._authorization = None
                if attempt == 2:
                    raise ErpUnavailable("Tryton session could not be renewed") from None
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def wizard(self, method: str, args: list[Any], context: dict[str, Any]) -> Any:
        if self._authorization is None:
            await self._authenticate()
        assert self._context is not None
        return await self._post(method, [*args, {**self._context, **context}], self._authorization)

    # reads -----------------------------------------------------------------------------

    @property
    def company(self) -> int | None:
        return None if self._context is None else self._context.get("company")
